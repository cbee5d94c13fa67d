"""The contract between the apps that own dates and the reminders app.

An owning app describes each of its deadlines as a ``DeadlineSpec`` and hands
the full current list to ``reminders.services.deadline_sync(owner=..., specs=...)``
whenever the owner changes. A kind missing from the list is closed (its
reminders stop); a moved date re-arms its reminders.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class DeadlineSpec:
    kind: str  # a reminders.models.DeadlineKind value
    due_at: datetime  # timezone-aware
    title: str
    recipients: Iterable[Any]  # users who must act
    url: str = ""
    organisation: Any = None  # the company the deadline concerns, if any
    escalate_to: Iterable[Any] = field(default_factory=tuple)  # told when overdue (lead, programme admin)
