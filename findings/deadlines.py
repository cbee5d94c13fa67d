"""The deadlines a finding owns (the company's response due date while it is released), and those
of its recommendations (the due date of the stage each is in)."""

from __future__ import annotations

from django.urls import reverse

from accounts.models import Role, User
from findings.models import Finding, Recommendation
from findings.states import RECOMMENDATION_STAGE, RELEASED_STATUSES, FindingStatus
from reminders.deadlines import DeadlineSpec
from reminders.models import DeadlineKind
from reminders.services import deadline_sync


def finding_deadline_specs(finding: Finding) -> list[DeadlineSpec]:
    """The open deadlines of ``finding``: the response is due only while the finding waits for the company.

    Once the company responds, or the finding is resolved or withdrawn, the
    list is empty and ``deadline_sync`` closes the deadline.
    """
    if not finding.awaits_response or finding.response_due_at is None:
        return []
    assessment = finding.assessment
    organisation = assessment.submission.organisation
    liaisons = User.objects.filter(is_active=True, membership__organisation=organisation, membership__role=Role.LIAISON)
    admins = User.objects.filter(is_active=True, membership__role=Role.PROGRAMME_ADMIN)
    escalate_to = {assessment.lead, *admins}
    return [
        DeadlineSpec(
            kind=DeadlineKind.FINDING_RESPONSE_DUE,
            due_at=finding.response_due_at,
            title=f"Response to finding {finding.reference}: {finding.title}",
            recipients=list(liaisons),
            url=reverse("findings:detail", kwargs={"reference": finding.reference}),
            organisation=organisation,
            escalate_to=list(escalate_to),
        )
    ]


def recommendation_deadline_specs(recommendation: Recommendation) -> list[DeadlineSpec]:
    """The due date of the stage ``recommendation`` is in, for whoever acts in it.

    The company's stages (acknowledge, accept or decline, implement) remind its liaisons and
    escalate to the case lead and programme admins; the centre's (verify) reminds the case lead
    and team and escalates to the programme admins. An ended recommendation owns none. Written
    with the finding-response kind: answering a recommendation is part of answering the finding.
    """
    stage = recommendation.stage
    # A withdrawn finding asks nothing more of anyone.
    if stage is None or recommendation.due_at is None or recommendation.finding.status not in RELEASED_STATUSES:
        return []
    side, verb = stage
    finding = recommendation.finding
    assessment = finding.assessment
    organisation = assessment.submission.organisation
    admins = list(User.objects.filter(is_active=True, membership__role=Role.PROGRAMME_ADMIN))
    if side == "company":
        recipients = list(
            User.objects.filter(is_active=True, membership__organisation=organisation, membership__role=Role.LIAISON)
        )
        escalate_to = list({assessment.lead, *admins})
    else:
        recipients = [assessment.lead, *assessment.team.all()]
        escalate_to = admins
    return [
        DeadlineSpec(
            kind=DeadlineKind.FINDING_RESPONSE_DUE,
            due_at=recommendation.due_at,
            title=f"{verb} recommendation {recommendation.reference} on finding {finding.reference}",
            recipients=recipients,
            url=reverse("findings:detail", kwargs={"reference": finding.reference}) + "#recommendations",
            organisation=organisation,
            escalate_to=escalate_to,
        )
    ]


def sync_case_findings(assessment) -> None:
    """Re-derive the deadlines of a case's findings that await an answer and of its open
    recommendations (after a change of lead, who receives or is escalated each)."""
    for finding in Finding.objects.filter(assessment=assessment, status=FindingStatus.RELEASED).select_related(
        "assessment__submission__organisation", "assessment__lead"
    ):
        deadline_sync(owner=finding, specs=finding_deadline_specs(finding))
    open_recommendations = Recommendation.objects.filter(
        finding__assessment=assessment, status__in=list(RECOMMENDATION_STAGE)
    ).select_related("finding__assessment__submission__organisation", "finding__assessment__lead")
    for recommendation in open_recommendations:
        deadline_sync(owner=recommendation, specs=recommendation_deadline_specs(recommendation))
