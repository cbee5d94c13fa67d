"""The shape every state machine of the portal is written in.

Each app keeps its machines in ``<app>/states.py``, beside its models: the
statuses (a ``TextChoices``), the named groups of statuses the rest of the
code asks about (open, ended, released…), and the moves, each a ``Move``
keyed by its name. Services check a move's ``sources`` before they write and
the policy action before anything; ``*_actions_for`` offers a button when
both would pass; the admin and the API call the same services.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Move:
    """One allowed change of status: where it may start, where it ends, and who may make it.

    ``action`` is the policy action asked of the actor; None when only the portal's
    own clock makes the move (an access period ending). ``needs_reason``: the person
    must say why, and the reason is kept on the record.
    """

    label: str
    sources: tuple[str, ...]
    target: str
    action: str | None
    needs_reason: bool = False

    def starts_from(self, status: str) -> bool:
        """True when an object in ``status`` may make this move."""
        return status in self.sources
