"""What a change of someone's role must respect in this app: a case always has a lead.

Handed to ``accounts.services.role_change_guard_register`` when the app loads, so the accounts
service asks it without importing assessments.
"""

from __future__ import annotations

from accounts.models import Membership, Role
from accounts.services import role_change_guard_register
from assessments.models import CLOSED_ASSESSMENT_STATUSES, Assessment
from core.errors import RuleViolation


def lead_role_change_guard(*, membership: Membership, role: str) -> None:
    """Refuse to take the lead role from someone who still leads an open case (name another lead first)."""
    if membership.role != Role.LEAD_EVALUATOR or role == Role.LEAD_EVALUATOR:
        return
    person = membership.user
    led = list(
        Assessment.objects.filter(lead=person)
        .exclude(status__in=CLOSED_ASSESSMENT_STATUSES)
        .order_by("reference")
        .values_list("reference", flat=True)
    )
    if led:
        message = (
            f"{person.email} leads the open case{'s' if len(led) > 1 else ''} {', '.join(led)}: "
            "name another lead first."
        )
        raise RuleViolation(message, errors={"role": [message]})


def role_change_guards_register() -> None:
    """Hand this app's role change guards to accounts; called once the apps are loaded."""
    role_change_guard_register(lead_role_change_guard)
