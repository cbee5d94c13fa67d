"""The deadlines a finding owns: the company's response due date while it is released."""

from __future__ import annotations

from django.urls import reverse

from accounts.models import Role, User
from findings.models import Finding
from findings.states import FindingStatus
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


def sync_case_findings(assessment) -> None:
    """Re-derive the response deadlines of a case's findings that await an answer (after a change of lead)."""
    for finding in Finding.objects.filter(assessment=assessment, status=FindingStatus.RELEASED).select_related(
        "assessment__submission__organisation", "assessment__lead"
    ):
        deadline_sync(owner=finding, specs=finding_deadline_specs(finding))
