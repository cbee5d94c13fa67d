"""Who is told when model access or a case changes hands (``reminders.services.handoff_notify``).

For a ticket the centre's side is the evaluator who asked for it and the case lead who decides;
the company's side is its liaisons. Called by the services in their transactions.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from assessments.models import AccessTicket, Assessment
from assessments.states import AssessmentStatus
from reminders.services import handoff_notify


def _liaisons(organisation_id: int) -> list[int]:
    return list(
        User.objects.filter(
            is_active=True, membership__organisation_id=organisation_id, membership__role=Role.LIAISON
        ).values_list("pk", flat=True)
    )


def _day(moment) -> str:
    return f"{timezone.localtime(moment):%d %b %Y, %H:%M %Z}" if moment else ""


def ticket_handed_off(ticket: AccessTicket, *, event: str, actor: Any) -> None:
    """Tell the other side of ``ticket`` that ``event`` happened.

    Events: requested, approved, rejected, provisioned, revoked, expired, extension_requested,
    extension_consented, extension_declined.
    """
    assessment = ticket.assessment
    organisation_id = assessment.submission.organisation_id
    company = _liaisons(organisation_id)
    requester, lead = ticket.requested_by_id, assessment.lead_id
    ref, kind = ticket.reference, ticket.get_kind_display()
    about = f"{kind} access for {assessment.reference} ({assessment.submission})"
    tells = {
        "requested": ([lead], f"Access to decide: {ref}", f"{about}, asked by {ticket.requested_by}."),
        "approved": (
            [*company, requester],
            f"Access approved, to provision: {ref}",
            f"{about}, from {_day(ticket.starts_at)} to {_day(ticket.ends_at)}.",
        ),
        "rejected": ([requester], f"Access request rejected: {ref}", f"{about}."),
        "provisioned": ([requester, lead], f"Access provisioned: {ref}", f"{about} is ready to use."),
        "revoked": ([requester, lead, *company], f"Access revoked: {ref}", f"{about}. Revoked by {actor}."),
        "expired": ([requester, lead, *company], f"Access expired: {ref}", f"{about}. {ticket.end_reason}"),
        "extension_requested": (
            company,
            f"Extension to consent to: {ref}",
            f"{about}: asked to run until {_day(ticket.extension_requested_to)}.",
        ),
        "extension_consented": (
            [ticket.extension_requested_by_id, requester, lead],
            f"Extension consented to: {ref}",
            f"{about} now ends {_day(ticket.ends_at)}.",
        ),
        "extension_declined": (
            [ticket.extension_requested_by_id, requester, lead],
            f"Extension declined: {ref}",
            f"{about} still ends {_day(ticket.ends_at)}.",
        ),
    }
    recipients, title, body = tells[event]
    handoff_notify(
        event_key=f"ticket:{ticket.pk}:{event}:{ticket.updated_at.isoformat()}",
        recipients=recipients,
        title=title,
        body=body.strip(),
        url=reverse("assessments:ticket_detail", kwargs={"reference": ref}),
        organisation=organisation_id,
        actor=actor,
    )


def assessment_closed(assessment: Assessment, *, actor: Any) -> None:
    """The company is told that the case ended: completed with its outcome (the company-safe summary,
    and the agreement's "when a risk is found" term when the outcome calls for it), or withdrawn."""
    if assessment.status != AssessmentStatus.WITHDRAWN:
        body = " ".join(
            part
            for part in (
                f"Outcome: {assessment.get_outcome_display()}.",
                assessment.outcome_company_summary,
                risk_term_note(assessment),
                "Please acknowledge the outcome on the assessment's page.",
            )
            if part
        )
    else:
        body = "The assessment was withdrawn."
    handoff_notify(
        event_key=f"assessment:{assessment.pk}:closed:{assessment.closed_at.isoformat()}",
        recipients=_liaisons(assessment.submission.organisation_id),
        title=f"Assessment {assessment.get_status_display().lower()}: {assessment.reference} ({assessment.submission})",
        body=body,
        url=reverse("assessments:detail", kwargs={"reference": assessment.reference}),
        organisation=assessment.submission.organisation_id,
        actor=actor,
    )


def case_opened_on_late_notice(assessment: Assessment, *, actor: Any) -> None:
    """A case opened for a release whose notice was late tells its lead: the window is squeezed."""
    notice = assessment.submission.release_notice
    if notice is None or not notice.is_late:
        return
    handoff_notify(
        event_key=f"assessment:{assessment.pk}:late-notice:{notice.pk}",
        recipients=[assessment.lead_id],
        title=f"Late release notice on {assessment.reference}",
        body=(
            f"{assessment.submission} is planned for public release on {notice.planned_release_date:%d %b %Y}: "
            f"{notice.notice_days_given} days of notice were given, {notice.notice_days_required} agreed."
        ),
        url=reverse("assessments:detail", kwargs={"reference": assessment.reference}),
        organisation=None,
        actor=actor,
    )


def submission_withdrawn(submission: Any, *, actor: Any) -> None:
    """The company withdrew a submission: the centre's people on its cases (or the admins) are told why."""
    people = set(submission.assessments.values_list("lead_id", flat=True))
    if not people:
        people = set(
            User.objects.filter(is_active=True, membership__role=Role.PROGRAMME_ADMIN).values_list("pk", flat=True)
        )
    handoff_notify(
        event_key=f"submission:{submission.pk}:withdrawn",
        recipients=people,
        title=f"Submission withdrawn: {submission.reference} ({submission})",
        body=f"Withdrawn by {actor}: {submission.withdrawal_reason}",
        url=reverse("assessments:submission_detail", kwargs={"reference": submission.reference}),
        organisation=None,
        actor=actor,
    )


def window_past_release(assessment: Assessment, *, release, actor: Any) -> None:
    """The company moved its release before the end of the window: the lead decides what gives."""
    handoff_notify(
        event_key=f"assessment:{assessment.pk}:window-past-release:{release.isoformat()}",
        recipients=[assessment.lead_id],
        title=f"Release now before the window ends: {assessment.reference}",
        body=(
            f"{assessment.submission} is now planned for public release on {release:%d %b %Y}; the access "
            f"window ends {_day(assessment.window_end)}. Shorten the window or record why it runs later."
        ),
        url=reverse("assessments:detail", kwargs={"reference": assessment.reference}),
        organisation=None,
        actor=actor,
    )


def risk_term_note(assessment: Assessment) -> str:
    """What the agreement says happens when a risk is found, for an outcome that calls for it ("" otherwise)."""
    if not assessment.outcome_calls_for_restriction:
        return ""
    agreement = assessment.submission.agreement
    return f"Under agreement {agreement.reference}, when a risk is found: {agreement.get_risk_consequence_display()}."


def outcome_acknowledged(assessment: Assessment, *, actor: Any) -> None:
    """The case's lead and team are told that the company acknowledged the outcome (and what it commented)."""
    comment = assessment.outcome_company_comment
    handoff_notify(
        event_key=f"assessment:{assessment.pk}:outcome_acknowledged:{assessment.outcome_acknowledged_at.isoformat()}",
        recipients=[assessment.lead_id, *assessment.team.values_list("pk", flat=True)],
        title=f"Outcome acknowledged by the company: {assessment.reference} ({assessment.submission})",
        body=f"Comment: {comment}" if comment else "No comment.",
        url=reverse("assessments:detail", kwargs={"reference": assessment.reference}),
        organisation=assessment.submission.organisation_id,
        actor=actor,
    )
