"""Deadlines for tests, made the only way the portal makes them: through deadline_sync."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from accounts.tests.factories import OrganisationFactory
from reminders.deadlines import DeadlineSpec
from reminders.models import Deadline, DeadlineKind
from reminders.services import deadline_sync


def owner_object() -> Any:
    """Any saved model can own deadlines; a fresh organisation keeps owners apart."""
    return OrganisationFactory()


def spec(
    *,
    due_at: datetime,
    recipients: Iterable[Any],
    escalate_to: Iterable[Any] = (),
    kind: str = DeadlineKind.WINDOW_END,
    title: str = "Access window of ASM-2026-0001 ends",
    url: str = "/assessments/ASM-2026-0001/",
    organisation: Any = None,
) -> DeadlineSpec:
    return DeadlineSpec(
        kind=kind,
        due_at=due_at,
        title=title,
        recipients=list(recipients),
        url=url,
        organisation=organisation,
        escalate_to=list(escalate_to),
    )


def make_deadline(*, owner: Any = None, **kwargs: Any) -> Deadline:
    owner = owner or owner_object()
    (deadline,) = deadline_sync(owner=owner, specs=[spec(**kwargs)])
    return deadline
