"""Who is told when a finding changes hands, and what they read (``reminders.services.handoff_notify``).

The company's side is the liaisons of the company whose model the case assesses; the centre's side
is the case's lead and team. Called by the lifecycle services in their transactions.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from findings.models import Finding, Recommendation
from reminders.services import handoff_notify


def _liaisons(organisation_id: int) -> list[int]:
    return list(
        User.objects.filter(
            is_active=True, membership__organisation_id=organisation_id, membership__role=Role.LIAISON
        ).values_list("pk", flat=True)
    )


def _case_people(finding: Finding) -> list[int]:
    assessment = finding.assessment
    return [assessment.lead_id, *assessment.team.values_list("pk", flat=True)]


def _programme(finding: Finding) -> list[int]:
    """Who an escalation reaches: the programme admins and the case lead."""
    admins = User.objects.filter(is_active=True, membership__role=Role.PROGRAMME_ADMIN).values_list("pk", flat=True)
    return [finding.assessment.lead_id, *admins]


def _issued(finding: Finding) -> str:
    count = finding.recommendations.count()
    return f"It carries {count} recommendation(s) to acknowledge." if count else ""


def _due(finding: Finding) -> str:
    if finding.response_due_at is None:
        return ""
    return f"Response due {timezone.localtime(finding.response_due_at):%d %b %Y}."


def finding_handed_off(finding: Finding, *, event: str, actor: Any) -> None:
    """Tell the other side that ``event`` happened to ``finding``.

    Events: released, responded, reopened, resolved (the company or the team, by who acted),
    not_answered (the team: the due date passed), escalated (the programme admins and the lead).
    """
    organisation_id = finding.assessment.submission.organisation_id
    ref, what = finding.reference, finding.title
    tells = {
        "released": (_liaisons, f"New finding to answer: {ref} — {what}", f"{_due(finding)} {_issued(finding)}"),
        "responded": (
            _case_people,
            f"The company responded to {ref} — {what}",
            f"Disposition: {finding.get_disposition_display() or 'none'}. "
            "Review the response, then resolve the finding, ask again or escalate it.",
        ),
        "not_answered": (
            _case_people,
            f"Not answered by the due date: {ref} — {what}",
            "The company did not answer in time. Resolve the finding, ask again with a new due date, or escalate it.",
        ),
        "escalated": (
            _programme,
            f"Finding escalated: {ref} — {what}",
            f"{finding.get_disposition_display()}. {finding.escalation_note}",
        ),
        "reopened": (_liaisons, f"Finding returned to you: {ref} — {what}", f"The centre asks again. {_due(finding)}"),
        "resolved": (_liaisons, f"Finding resolved: {ref} — {what}", "The centre closed this finding."),
    }
    recipients, title, body = tells[event]
    handoff_notify(
        event_key=f"finding:{finding.pk}:{event}:{finding.updated_at.isoformat()}",
        recipients=recipients(organisation_id if recipients is _liaisons else finding),
        title=title,
        body=body.strip(),
        url=reverse("findings:detail", kwargs={"reference": ref}),
        organisation=organisation_id,
        actor=actor,
    )


# What each move of a recommendation tells the other side (the company's moves: the case team).
_RECOMMENDATION_TELLS = {
    "acknowledge": ("centre", "acknowledged"),
    "accept": ("centre", "accepted"),
    "decline": ("centre", "declined"),
    "implement": ("centre", "reported implemented"),
    "verify": ("company", "verified by the centre"),
    "not_verify": ("company", "not verified by the centre: implement it again"),
}


def recommendation_handed_off(recommendation: Recommendation, *, event: str, actor: Any) -> None:
    """Tell the other side that ``event`` (a move of ``RECOMMENDATION_MOVES``) happened to ``recommendation``."""
    finding = recommendation.finding
    organisation_id = finding.assessment.submission.organisation_id
    side, said = _RECOMMENDATION_TELLS[event]
    recipients = _liaisons(organisation_id) if side == "company" else _case_people(finding)
    due = recommendation.due_at
    stage = recommendation.stage
    next_step = f"Next: {stage[1].lower()} by {timezone.localtime(due):%d %b %Y}." if stage and due else ""
    handoff_notify(
        event_key=f"recommendation:{recommendation.pk}:{event}:{recommendation.updated_at.isoformat()}",
        recipients=recipients,
        title=f"Recommendation {said}: {recommendation.reference} on {finding.reference}",
        body=f"{recommendation.get_kind_display()}: {recommendation.text[:300]} {next_step}".strip(),
        url=reverse("findings:detail", kwargs={"reference": finding.reference}) + "#recommendations",
        organisation=organisation_id,
        actor=actor,
    )
