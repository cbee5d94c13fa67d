"""A notification at every hand-off: each step tells exactly the people whose turn it now is.

Each test takes one step through the real service and reads who the database says is told
(one ``Handoff`` row per person per event), then lets delivery run and reads the notifications.
Company A has two liaisons (both told of their company's records); company B's liaison, the
second lead and the evaluator off the case are never told anything about company A.
"""

from __future__ import annotations

import datetime
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from reminders.models import DeliveryStatus, Handoff, Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def liaison_a2(company_a):
    from accounts.tests.factories import UserFactory

    return UserFactory(
        email="second.liaison@a.test", full_name="Second Liaison", role=Role.LIAISON, organisation=company_a
    )


@pytest.fixture
def everyone(admin_user, lead, lead2, evaluator, evaluator_other, liaison_a, liaison_a2, liaison_b):
    """Everybody exists before the step, so that anyone wrongly told would show up."""
    return {
        "admin_user": admin_user,
        "lead": lead,
        "lead2": lead2,
        "evaluator": evaluator,
        "evaluator_other": evaluator_other,
        "liaison_a": liaison_a,
        "liaison_a2": liaison_a2,
        "liaison_b": liaison_b,
    }


@pytest.fixture
def step(django_capture_on_commit_callbacks):
    """``step(fn)`` runs one service call, delivers what it enqueued after commit, and returns
    {email: title} of the people it told (each at most once: the rows are unique per person)."""

    def run(fn):
        before = set(Handoff.objects.values_list("pk", flat=True))
        with django_capture_on_commit_callbacks(execute=True):
            result = fn()
        new = Handoff.objects.exclude(pk__in=before).select_related("recipient")
        told = {h.recipient.email: h.title for h in new}
        assert len(told) == new.count(), "someone was told twice of one event"
        run.result = result
        run.rows = list(new)
        return told

    return run


A_LIAISONS = {"liaison@a.test", "second.liaison@a.test"}


# --- Findings -------------------------------------------------------------------------------


@pytest.fixture
def in_review(case, evaluator):
    from findings.models import FindingStatus
    from findings.tests.factories import FindingFactory

    return FindingFactory(assessment=case, author=evaluator, status=FindingStatus.IN_REVIEW, title="Exploit code")


def test_a_released_finding_tells_the_companys_liaisons_and_nobody_else(everyone, in_review, lead, step):
    from findings import services

    told = step(lambda: services.finding_release(actor=lead, finding=in_review))
    assert set(told) == A_LIAISONS
    assert told["liaison@a.test"] == f"New finding to answer: {in_review.reference} — Exploit code"
    url = reverse("findings:detail", kwargs={"reference": in_review.reference})
    notes = Notification.objects.filter(handoff__isnull=False)
    assert {(n.recipient.email, n.url) for n in notes} == {(e, url) for e in A_LIAISONS}
    assert "Response due" in notes.first().body


def test_the_companys_response_tells_the_case_lead_and_team(everyone, case, evaluator, lead, liaison_a, step):
    from findings import services
    from findings.tests.factories import released_finding

    finding = released_finding(assessment=case, author=evaluator, released_by=lead)
    told = step(
        lambda: services.finding_respond(
            actor=liaison_a, finding=finding, disposition="disputed", response="Fixed in 2.1."
        )
    )
    assert set(told) == {"lead@centre.test", "evaluator@centre.test"}
    assert told["lead@centre.test"].startswith(f"The company responded to {finding.reference}")


def test_a_finding_returned_or_resolved_tells_the_company(everyone, case, evaluator, lead, liaison_a, step):
    from findings import services
    from findings.tests.factories import released_finding

    finding = released_finding(assessment=case, author=evaluator, released_by=lead)
    services.finding_respond(actor=liaison_a, finding=finding, disposition="disputed", response="Fixed in 2.1.")
    told = step(lambda: services.finding_reopen(actor=lead, finding=finding, note="Show the new refusal rate."))
    assert set(told) == A_LIAISONS
    assert told["liaison@a.test"].startswith(f"Finding returned to you: {finding.reference}")
    told = step(lambda: services.finding_resolve(actor=evaluator, finding=finding))
    assert set(told) == A_LIAISONS
    assert told["liaison@a.test"].startswith(f"Finding resolved: {finding.reference}")


# --- Model access ---------------------------------------------------------------------------


def _request(case, evaluator):
    from assessments import services

    return services.ticket_request(
        actor=evaluator,
        assessment=case,
        kind="hosted_api",
        justification="Probe cyber uplift.",
        wanted_from=case.window_start,
        wanted_to=case.window_end,
    )


def test_each_step_of_a_ticket_tells_the_other_side(everyone, case, evaluator, lead, liaison_a, step):
    from assessments import services

    told = step(lambda: _request(case, evaluator))
    ticket = step.result
    assert set(told) == {"lead@centre.test"}
    assert told["lead@centre.test"] == f"Access to decide: {ticket.reference}"

    told = step(lambda: services.ticket_approve(actor=lead, ticket=ticket))
    assert set(told) == A_LIAISONS | {"evaluator@centre.test"}
    assert told["liaison@a.test"] == f"Access approved, to provision: {ticket.reference}"

    told = step(
        lambda: services.ticket_provision(
            actor=liaison_a, ticket=ticket, endpoint="https://api.a.test", credential="sk-1234567890", instructions=""
        )
    )
    assert set(told) == {"lead@centre.test", "evaluator@centre.test"}

    assert told["evaluator@centre.test"] == f"Access provisioned: {ticket.reference}"


def test_a_rejected_request_tells_the_evaluator_who_asked(everyone, case, evaluator, lead, step):
    from assessments import services

    ticket = _request(case, evaluator)
    told = step(lambda: services.ticket_reject(actor=lead, ticket=ticket, reason="Not in scope."))
    assert set(told) == {"evaluator@centre.test"}
    assert told["evaluator@centre.test"] == f"Access request rejected: {ticket.reference}"


def test_revoked_access_tells_everyone_concerned_but_the_one_who_revoked(
    everyone, case, evaluator, lead, liaison_a, step
):
    from assessments import services

    ticket = services.ticket_approve(actor=lead, ticket=_request(case, evaluator))
    told = step(lambda: services.ticket_revoke(actor=liaison_a, ticket=ticket, reason="Key rotated."))
    assert set(told) == {"lead@centre.test", "evaluator@centre.test", "second.liaison@a.test"}


def test_an_extension_asked_goes_to_the_company_and_its_answer_to_the_team(
    everyone, case, evaluator, lead, liaison_a, step
):
    from assessments import services

    request = _request(case, evaluator)
    ends = case.window_start + timedelta(days=3)
    ticket = services.ticket_approve(actor=lead, ticket=request, ends_at=ends)
    told = step(
        lambda: services.ticket_request_extension(
            actor=evaluator, ticket=ticket, until=ends + timedelta(days=2), reason="Two more days."
        )
    )
    assert set(told) == A_LIAISONS
    assert told["liaison@a.test"] == f"Extension to consent to: {ticket.reference}"
    told = step(lambda: services.ticket_decide_extension(actor=liaison_a, ticket=ticket, consent=True))
    assert set(told) == {"lead@centre.test", "evaluator@centre.test"}
    assert told["lead@centre.test"] == f"Extension consented to: {ticket.reference}"


def test_expired_access_tells_both_sides(everyone, case, evaluator, lead, step):
    from assessments import services

    ends = case.window_start + timedelta(days=3)
    ticket = services.ticket_approve(actor=lead, ticket=_request(case, evaluator), ends_at=ends)
    with time_machine.travel(ends + timedelta(minutes=5), tick=False):
        told = step(lambda: services.tickets_update_due())
    assert step.result["expired"] == 1
    assert set(told) == A_LIAISONS | {"lead@centre.test", "evaluator@centre.test"}
    assert told["lead@centre.test"] == f"Access expired: {ticket.reference}"


# --- Agreements -----------------------------------------------------------------------------


def test_a_proposal_goes_to_the_other_side_and_a_comment_to_nobody(everyone, negotiation, lead, liaison_a, step):
    from agreements import services
    from agreements.models import EntryKind

    told = step(
        lambda: services.negotiation_entry_add(
            actor=liaison_a, agreement=negotiation, kind=EntryKind.PROPOSAL, clause="access", text="API only."
        )
    )
    assert set(told) == {"lead@centre.test"}
    proposal = step.result
    told = step(
        lambda: services.negotiation_entry_add(
            actor=lead,
            agreement=negotiation,
            kind=EntryKind.COUNTER_PROPOSAL,
            clause="access",
            text="API and weights.",
            responds_to=proposal,
        )
    )
    assert set(told) == A_LIAISONS
    assert told["liaison@a.test"].startswith(f"Counter-proposal on {negotiation.reference}")
    told = step(
        lambda: services.negotiation_entry_add(
            actor=lead, agreement=negotiation, kind=EntryKind.COMMENT, clause="access", text="Noted."
        )
    )
    assert told == {}


def test_meeting_minutes_go_to_the_company(everyone, negotiation, lead, step):
    from agreements import services

    told = step(
        lambda: services.meeting_record(
            actor=lead,
            agreement=negotiation,
            held_at=timezone.now() - timedelta(hours=2),
            attendees="Lead\nLiaison",
            minutes="Agreed on API access.",
        )
    )
    assert set(told) == A_LIAISONS
    assert told["liaison@a.test"].startswith("Minutes of the meeting of")


def test_an_open_point_raised_and_resolved_tells_the_other_side(everyone, negotiation, lead, liaison_a, step):
    from agreements import services

    due = datetime.date.today() + timedelta(days=5)
    told = step(
        lambda: services.open_point_add(
            actor=lead, agreement=negotiation, title="Logging of prompts", owner=liaison_a, due_date=due
        )
    )
    assert set(told) == A_LIAISONS
    point = step.result
    assert Notification.objects.get(recipient=liaison_a, handoff__isnull=False).url.endswith("#open-points")
    told = step(lambda: services.open_point_resolve(actor=liaison_a, point=point, resolution="Logs kept 30 days."))
    assert set(told) == {"lead@centre.test"}
    assert told["lead@centre.test"] == f"Open point resolved on {negotiation.reference}: Logging of prompts"


def test_signature_steps_tell_the_side_whose_turn_it_is(everyone, negotiation, lead, liaison_a, admin_user, step):
    from agreements import services

    due = datetime.date.today() + timedelta(days=7)
    told = step(lambda: services.agreement_submit_for_signature(actor=lead, agreement=negotiation, signature_due=due))
    assert set(told) == A_LIAISONS
    assert told["liaison@a.test"] == f"Ready for signature: {negotiation.reference}"

    told = step(
        lambda: services.agreement_sign(actor=liaison_a, agreement=negotiation, signer_name="A", capacity="CLO")
    )
    assert set(told) == {"lead@centre.test"}
    assert told["lead@centre.test"].startswith(f"Signed by the company: {negotiation.reference}")

    told = step(lambda: services.agreement_sign(actor=lead, agreement=negotiation, signer_name="L", capacity="Lead"))
    assert set(told) == A_LIAISONS
    assert told["liaison@a.test"] == f"Agreement active: {negotiation.reference}"

    negotiation.refresh_from_db()
    told = step(lambda: services.agreement_terminate(actor=admin_user, agreement=negotiation, reason="Breach."))
    assert set(told) == A_LIAISONS | {"lead@centre.test"}
    assert told["lead@centre.test"] == f"Agreement terminated: {negotiation.reference}"


# --- Assessments ----------------------------------------------------------------------------


def test_a_closed_assessment_tells_the_company_its_outcome(everyone, case, lead, step):
    from assessments import services
    from assessments.models import Assessment, AssessmentOutcome
    from assessments.states import AssessmentStatus

    Assessment.objects.filter(pk=case.pk).update(status=AssessmentStatus.REPORTING)
    case.refresh_from_db()
    outcome = AssessmentOutcome.values[0]
    told = step(lambda: services.assessment_close(actor=lead, assessment=case, outcome=outcome, rationale="Done."))
    assert set(told) == A_LIAISONS
    row = step.rows[0]
    assert row.title == f"Assessment completed: {case.reference} ({case.submission})"
    # The outcome, and what the company is asked to do with it (the rationale stays the centre's).
    assert (
        row.body
        == f"Outcome: {AssessmentOutcome(outcome).label}. Please acknowledge the outcome on the assessment's page."
    )
    assert row.url == reverse("assessments:detail", kwargs={"reference": case.reference})


# --- Exactly once, and never across companies --------------------------------------------------


def test_the_same_event_twice_tells_each_person_once(everyone, company_a, liaison_a, lead, step):
    from reminders.services import handoff_notify

    def tell():
        return handoff_notify(
            event_key="test:1:released",
            recipients=[liaison_a, lead, liaison_a],
            title="Something happened",
            url="/findings/FND-1/",
            organisation=company_a,
        )

    assert set(step(tell)) == {"liaison@a.test", "lead@centre.test"}
    assert step(tell) == {}
    assert Notification.objects.count() == 2
    assert len(mail.outbox) == 2


def test_a_refused_step_tells_nobody(everyone, in_review, evaluator, step):
    from django.core.exceptions import PermissionDenied

    from findings import services

    with pytest.raises(PermissionDenied):
        step(lambda: services.finding_release(actor=evaluator, finding=in_review))  # the author cannot release
    assert not Handoff.objects.exists()


def test_a_liaison_of_another_company_is_never_told_whatever_the_caller_passes(everyone, company_a, liaison_b, step):
    from reminders.services import handoff_notify

    told = step(
        lambda: handoff_notify(
            event_key="test:2", recipients=[liaison_b], title="Company A's finding", url="/x/", organisation=company_a
        )
    )
    assert told == {}
    told = step(lambda: handoff_notify(event_key="test:3", recipients=[liaison_b], title="No company", url="/x/"))
    assert told == {}


def test_the_actor_is_not_told_of_their_own_step(everyone, company_a, liaison_a, liaison_a2, step):
    from reminders.services import handoff_notify

    told = step(
        lambda: handoff_notify(
            event_key="test:4",
            recipients=[liaison_a, liaison_a2],
            title="Provisioned",
            url="/x/",
            organisation=company_a,
            actor=liaison_a,
        )
    )
    assert set(told) == {"second.liaison@a.test"}


def test_running_a_delivery_twice_sends_once(everyone, company_a, liaison_a):
    from django.db import transaction

    from reminders.services import handoff_deliver, handoff_notify

    with transaction.atomic():
        (handoff_id,) = handoff_notify(
            event_key="test:5", recipients=[liaison_a], title="Once", url="/x/", organisation=company_a
        )
    assert handoff_deliver(handoff_id=handoff_id) == "sent"
    assert handoff_deliver(handoff_id=handoff_id) == "not_claimed"
    assert Notification.objects.filter(recipient=liaison_a).count() == 1
    assert len(mail.outbox) == 1
    assert Handoff.objects.get().status == DeliveryStatus.SENT


# --- Email as each person prefers ------------------------------------------------------------


def _release_to(company_a, liaison_a, step):
    from reminders.services import handoff_notify

    return step(
        lambda: handoff_notify(
            event_key="test:email",
            recipients=[liaison_a],
            title="New finding to answer: FND-2026-0001 — Exploit code",
            body="Response due 9 Dec 2026.",
            url="/findings/FND-2026-0001/",
            organisation=company_a,
        )
    )


def test_each_handoff_is_emailed_at_once_by_default_naming_and_linking_the_record(everyone, company_a, liaison_a, step):
    _release_to(company_a, liaison_a, step)
    (message,) = mail.outbox
    assert message.to == [liaison_a.email]
    assert message.subject == "New finding to answer: FND-2026-0001 — Exploit code"
    assert "/findings/FND-2026-0001/" in message.body
    assert "Response due 9 Dec 2026." in message.body
    assert 'href="http' in message.alternatives[0][0]


def test_email_turned_off_leaves_only_the_notification(everyone, company_a, liaison_a, step):
    from reminders.models import EmailPreference, EmailStatus
    from reminders.services import preference_update

    preference_update(user=liaison_a, email=EmailPreference.OFF)
    _release_to(company_a, liaison_a, step)
    assert mail.outbox == []
    assert Notification.objects.get(recipient=liaison_a).title.startswith("New finding to answer")
    assert Handoff.objects.get().email_status == EmailStatus.OFF


def test_the_daily_digest_carries_the_days_handoffs(
    everyone, company_a, liaison_a, step, django_capture_on_commit_callbacks
):
    from django.conf import settings

    from reminders.models import EmailPreference, EmailStatus
    from reminders.services import preference_update, reminders_scan

    preference_update(user=liaison_a, email=EmailPreference.DIGEST)
    _release_to(company_a, liaison_a, step)
    assert mail.outbox == []
    assert Notification.objects.filter(recipient=liaison_a).count() == 1
    evening = timezone.now().replace(hour=settings.REMINDER_DIGEST_HOUR_UTC, minute=30, tzinfo=datetime.UTC)
    with time_machine.travel(evening + timedelta(days=1), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            reminders_scan()
        with django_capture_on_commit_callbacks(execute=True):
            reminders_scan()  # a second run sends nothing more
    (message,) = mail.outbox
    assert message.subject == "Your reminders: 1 update"
    assert "New finding to answer: FND-2026-0001 — Exploit code" in message.body
    assert "/findings/FND-2026-0001/" in message.body
    assert Handoff.objects.get().email_status == EmailStatus.IN_DIGEST


# --- Read once opened or acted on --------------------------------------------------------------


def test_opening_the_record_marks_its_notifications_read_and_no_others(
    everyone, in_review, lead, liaison_a, client_for, step
):
    from findings import services

    step(lambda: services.finding_release(actor=lead, finding=in_review))
    other = Notification.objects.create(recipient=liaison_a, title="Something else", url="/assessments/ASM-9/")
    page = client_for(liaison_a).get(reverse("reminders:notifications"))
    assert page.context["unread_notifications"] == 2
    response = client_for(liaison_a).get(reverse("findings:detail", kwargs={"reference": in_review.reference}))
    assert response.status_code == 200
    assert response.context["unread_notifications"] == 1
    mine = Notification.objects.get(recipient=liaison_a, handoff__isnull=False)
    assert mine.read_at is not None
    other.refresh_from_db()
    assert other.read_at is None
    # The other liaison did not open it: theirs stays unread.
    assert Notification.objects.get(recipient=everyone["liaison_a2"]).read_at is None


def test_the_header_count_reads_a_pages_parts_as_the_page_and_wildcards_as_text(liaison_a, django_assert_num_queries):
    """The badge's one query counts what the page's address names, its "#" and "?" parts included;
    "_" and "%" in an address are characters, not patterns."""
    from reminders.services import notifications_open_page

    def note(url):
        return Notification.objects.create(recipient=liaison_a, title="About " + url, url=url)

    look_alike, prefix, percent = note("/axb/#open-points"), note("/a_b/c/"), note("/a%b/")
    # Nothing unread is about "/a_b/" (the look-alike is "/axb/"): one query, and no UPDATE.
    with django_assert_num_queries(1):
        assert notifications_open_page(user=liaison_a, path="/a_b/") == 3
    with django_assert_num_queries(1):
        assert notifications_open_page(user=liaison_a, path="/a%/") == 3
    page, fragment, query = note("/a_b/"), note("/a_b/#open-points"), note("/a_b/?tab=files")
    assert notifications_open_page(user=liaison_a, path="/a_b/") == 3
    read = set(
        Notification.objects.filter(recipient_id=liaison_a.pk, read_at__isnull=False).values_list("pk", flat=True)
    )
    assert read == {page.pk, fragment.pk, query.pk}
    assert notifications_open_page(user=liaison_a, path="/a%b/") == 2
    assert Notification.objects.get(pk=percent.pk).read_at is not None
    assert Notification.objects.filter(pk__in=[look_alike.pk, prefix.pk], read_at__isnull=True).count() == 2
    assert notifications_open_page(user=liaison_a, path="") == 2


def test_answering_a_finding_closes_its_due_in_n_days_reminders(
    everyone, in_review, lead, liaison_a, liaison_a2, step, django_capture_on_commit_callbacks
):
    """The reminder "Due in 4 days" stayed unread after the response was sent: acting closes it."""
    from findings import services
    from reminders.services import reminders_scan

    step(lambda: services.finding_release(actor=lead, finding=in_review))
    in_review.refresh_from_db()
    with time_machine.travel(in_review.response_due_at - timedelta(days=3, hours=12), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            reminders_scan()
        reminder_notes = Notification.objects.filter(reminder__isnull=False)
        assert {n.recipient.email for n in reminder_notes} == A_LIAISONS
        assert reminder_notes.first().title.startswith("Due in 4 days: Response to finding")
        assert not reminder_notes.filter(read_at__isnull=False).exists()
        step(
            lambda: services.finding_respond(
                actor=liaison_a, finding=in_review, disposition="disputed", response="Fixed."
            )
        )
    assert not Notification.objects.filter(recipient=liaison_a, read_at__isnull=True).exists()
    # The deadline is met: the other liaison's reminder is done with too, but not their release notice.
    assert Notification.objects.get(recipient=liaison_a2, reminder__isnull=False).read_at is not None
    assert Notification.objects.get(recipient=liaison_a2, handoff__isnull=False).read_at is None


# --- Failed deliveries ------------------------------------------------------------------------


def test_a_programme_admin_sees_a_failed_handoff_and_queues_it_again(
    everyone, company_a, liaison_a, admin_user, client_for
):
    from django.db import transaction

    from reminders.services import handoff_notify

    with transaction.atomic():
        (handoff_id,) = handoff_notify(
            event_key="test:failed", recipients=[liaison_a], title="Access approved", url="/x/", organisation=company_a
        )
    Handoff.objects.filter(pk=handoff_id).update(status=DeliveryStatus.FAILED, attempts=8, last_error="SMTP down")
    client = client_for(admin_user)
    listing = client.get(reverse("admin:reminders_handoff_changelist") + "?status=failed")
    assert "Access approved" in listing.content.decode()
    assert "SMTP down" in listing.content.decode()
    client.post(
        reverse("admin:reminders_handoff_changelist"),
        {"action": "retry_delivery", "_selected_action": [handoff_id]},
        follow=True,
    )
    handoff = Handoff.objects.get(pk=handoff_id)
    assert (handoff.status, handoff.attempts) == (DeliveryStatus.PENDING, 0)
