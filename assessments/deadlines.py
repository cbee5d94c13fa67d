"""The deadlines the assessments app owns, described for reminders.services.deadline_sync.

Each function returns the full current list of specs for its owner; an
empty list closes the owner's deadlines (a finished case, an ended ticket).
Services call the ``sync_*`` helpers inside their own transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time

from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from assessments.models import AccessTicket, Assessment, ModelSubmission
from assessments.states import CLOSED_ASSESSMENT_STATUSES
from reminders.deadlines import DeadlineSpec
from reminders.models import DeadlineKind
from reminders.services import deadline_sync


def _programme_admins() -> list[User]:
    return list(User.objects.filter(is_active=True, membership__role=Role.PROGRAMME_ADMIN))


def _liaisons(organisation_id: int) -> list[User]:
    return list(
        User.objects.filter(is_active=True, membership__organisation_id=organisation_id, membership__role=Role.LIAISON)
    )


def _case_people(assessment: Assessment) -> list[User]:
    people = {assessment.lead_id: assessment.lead}
    for member in assessment.team.all():
        people[member.pk] = member
    return list(people.values())


def assessment_specs(assessment: Assessment) -> list[DeadlineSpec]:
    if assessment.is_closed:
        return []
    organisation_id = assessment.submission.organisation_id
    return [
        DeadlineSpec(
            kind=DeadlineKind.WINDOW_END,
            due_at=assessment.window_end,
            title=f"Access window of {assessment.reference} ({assessment.submission}) ends",
            recipients=_case_people(assessment) + _liaisons(organisation_id),
            url=reverse("assessments:detail", kwargs={"reference": assessment.reference}),
            organisation=assessment.submission.organisation,
            escalate_to=_programme_admins(),
        )
    ]


def ticket_specs(ticket: AccessTicket) -> list[DeadlineSpec]:
    # Only access that has been granted can expire; requests and ended tickets have no deadline.
    if not ticket.is_granted or ticket.access_ends_at is None:
        return []
    organisation_id = ticket.assessment.submission.organisation_id
    return [
        DeadlineSpec(
            kind=DeadlineKind.TICKET_EXPIRY,
            due_at=ticket.access_ends_at,
            title=f"{ticket.get_kind_display()} access {ticket.reference} for {ticket.assessment.submission} ends",
            recipients=[ticket.requested_by, *_liaisons(organisation_id)],
            url=reverse("assessments:ticket_detail", kwargs={"reference": ticket.reference}),
            organisation=ticket.assessment.submission.organisation,
            escalate_to=_programme_admins(),
        )
    ]


def submission_specs(submission: ModelSubmission) -> list[DeadlineSpec]:
    """The planned release date matters to the teams of the submission's open cases."""
    if submission.intended_release_date is None:
        return []
    people: dict[int, User] = {}
    open_cases = submission.assessments.exclude(status__in=CLOSED_ASSESSMENT_STATUSES).select_related("lead")
    for assessment in open_cases:
        for person in _case_people(assessment):
            people[person.pk] = person
    if not people:
        return []
    due = timezone.make_aware(datetime.combine(submission.intended_release_date, time(9, 0)))
    return [
        DeadlineSpec(
            kind=DeadlineKind.PLANNED_RELEASE,
            due_at=due,
            title=f"{submission.organisation.name} plans to release {submission}",
            recipients=list(people.values()),
            url=reverse("assessments:submission_detail", kwargs={"reference": submission.reference}),
            organisation=submission.organisation,
            escalate_to=_programme_admins(),
        )
    ]


def sync_assessment(assessment: Assessment) -> None:
    deadline_sync(owner=assessment, specs=assessment_specs(assessment))
    sync_submission(assessment.submission)


# Deadlines owned by apps above this one that are escalated to a case's lead (a finding's response
# due date) register here, so a change of lead moves them in the same transaction.
_lead_followers: list[Callable[[Assessment], None]] = []


def lead_follower_register(follower: Callable[[Assessment], None]) -> None:
    """Call ``follower(assessment)`` whenever a case changes lead; registering it twice has no further effect."""
    if follower not in _lead_followers:
        _lead_followers.append(follower)


def sync_after_lead_change(assessment: Assessment) -> None:
    """The case's own deadlines and every registered follower's, for the new lead."""
    sync_assessment(assessment)
    for follower in _lead_followers:
        follower(assessment)


def sync_ticket(ticket: AccessTicket) -> None:
    deadline_sync(owner=ticket, specs=ticket_specs(ticket))


def sync_submission(submission: ModelSubmission) -> None:
    deadline_sync(owner=submission, specs=submission_specs(submission))
