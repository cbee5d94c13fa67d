"""Model-access tickets: the state machine by role, the secret at rest, reveals, expiry, revocation, extension."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from cryptography.fernet import Fernet
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from assessments import services
from assessments.models import AccessTicket, CredentialReveal, TicketStatus
from assessments.tasks import expire_access_tickets
from assessments.tests.conftest import SECRET
from audit.models import AuditEvent
from core.errors import RuleViolation, TransitionNotAllowed
from reminders.models import Deadline, DeadlineKind

pytestmark = pytest.mark.django_db


def _raw_credential_column(ticket) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT credential_ciphertext FROM assessments_accessticket WHERE id = %s", [ticket.pk])
        return cursor.fetchone()[0]


# --- The state machine, by role ------------------------------------------------------


def test_evaluator_on_team_requests_and_lead_approves(requested, lead):
    assert requested.status == TicketStatus.REQUESTED
    ticket = services.ticket_approve(actor=lead, ticket=requested)
    assert ticket.status == TicketStatus.APPROVED and ticket.decided_by == lead
    assert (ticket.starts_at, ticket.ends_at) == (requested.wanted_from, requested.wanted_to)


def test_evaluator_off_the_team_cannot_request(case, evaluator_other):
    with pytest.raises(PermissionDenied):
        services.ticket_request(
            actor=evaluator_other,
            assessment=case,
            kind="hosted_api",
            justification="x",
            wanted_from=case.window_start,
            wanted_to=case.window_end,
        )


def test_liaison_cannot_request_access(case, liaison_a):
    with pytest.raises(PermissionDenied):
        services.ticket_request(
            actor=liaison_a,
            assessment=case,
            kind="hosted_api",
            justification="x",
            wanted_from=case.window_start,
            wanted_to=case.window_end,
        )


def test_request_past_the_window_is_refused(case, evaluator):
    with pytest.raises(RuleViolation) as exc:
        services.ticket_request(
            actor=evaluator,
            assessment=case,
            kind="hosted_api",
            justification="x",
            wanted_from=case.window_start,
            wanted_to=case.window_end + timedelta(days=1),
        )
    assert "window" in exc.value.errors["wanted_to"][0]


def test_kind_the_agreement_does_not_offer_is_refused(case, evaluator):
    with pytest.raises(RuleViolation) as exc:
        services.ticket_request(
            actor=evaluator,
            assessment=case,
            kind="weights_download",
            justification="x",
            wanted_from=case.window_start,
            wanted_to=case.window_end,
        )
    assert "does not offer" in exc.value.errors["kind"][0]


def test_nobody_approves_their_own_request(case, lead):
    own = services.ticket_request(
        actor=lead,
        assessment=case,
        kind="documentation",
        justification="Model card and system card.",
        wanted_from=case.window_start,
        wanted_to=case.window_end,
    )
    with pytest.raises(PermissionDenied):
        services.ticket_approve(actor=lead, ticket=own)
    assert AccessTicket.objects.get(pk=own.pk).status == TicketStatus.REQUESTED


@pytest.mark.parametrize("who", ["evaluator", "lead2", "liaison_a", "evaluator_other"])
def test_only_the_case_lead_approves(requested, who, request):
    with pytest.raises(PermissionDenied):
        services.ticket_approve(actor=request.getfixturevalue(who), ticket=requested)


def test_programme_admin_may_approve(requested, admin_user):
    assert services.ticket_approve(actor=admin_user, ticket=requested).status == TicketStatus.APPROVED


def test_lead_may_shorten_but_not_lengthen_the_period(requested, lead):
    with pytest.raises(RuleViolation):
        services.ticket_approve(actor=lead, ticket=requested, ends_at=requested.wanted_to + timedelta(hours=1))
    shorter = requested.wanted_to - timedelta(days=3)
    ticket = services.ticket_approve(actor=lead, ticket=requested, ends_at=shorter, note="Three days less.")
    assert ticket.ends_at == shorter


def test_rejection_keeps_the_ticket_with_who_when_and_why(requested, lead):
    services.ticket_reject(actor=lead, ticket=requested, reason="Documentation covers this.")
    ticket = AccessTicket.objects.get(pk=requested.pk)
    assert ticket.status == TicketStatus.REJECTED
    assert ticket.ended_by == lead and ticket.ended_at is not None
    assert ticket.end_reason == "Documentation covers this."
    with pytest.raises(TransitionNotAllowed):
        services.ticket_approve(actor=lead, ticket=ticket)


def test_approving_twice_is_a_clear_transition_error(approved, lead):
    with pytest.raises(TransitionNotAllowed) as exc:
        services.ticket_approve(actor=lead, ticket=approved)
    assert "approved" in str(exc.value)


def test_only_the_owning_company_provisions(approved, liaison_b, evaluator):
    for outsider in (liaison_b, evaluator):
        with pytest.raises(PermissionDenied):
            services.ticket_provision(actor=outsider, ticket=approved, endpoint="x", credential="y", instructions="")


def test_a_request_cannot_be_provisioned_before_approval(requested, liaison_a):
    with pytest.raises(TransitionNotAllowed):
        services.ticket_provision(actor=liaison_a, ticket=requested, endpoint="x", credential="y", instructions="")


# --- The credential at rest -----------------------------------------------------------


def test_credential_is_encrypted_at_rest(provisioned):
    raw = _raw_credential_column(provisioned)
    assert raw and SECRET not in raw
    assert raw.startswith("gAAAA")  # a Fernet token


def test_provisioning_audit_masks_the_credential(provisioned):
    events = AuditEvent.objects.filter(object_id=provisioned.reference)
    assert events.exists()
    for event in events:
        assert SECRET not in str(event.changes) and SECRET not in event.summary


def test_key_rotation_keeps_old_credentials_readable_and_reencrypts(provisioned, evaluator, settings):
    old_key = settings.CREDENTIAL_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.CREDENTIAL_KEYS = [new_key, old_key]
    assert services.ticket_reveal(actor=evaluator, ticket=provisioned) == SECRET  # old token, new key list

    call_command("reencrypt_credentials", stdout=open("/dev/null", "w"))  # noqa: SIM115
    settings.CREDENTIAL_KEYS = [new_key]  # the old key is dropped
    assert services.ticket_reveal(actor=evaluator, ticket=provisioned) == SECRET
    assert Fernet(new_key.encode()).decrypt(_raw_credential_column(provisioned).encode()).decode() == SECRET


# --- Reveal ---------------------------------------------------------------------------


def test_reveal_is_recorded_with_who_when_and_where(client_for, provisioned, evaluator):
    response = client_for(evaluator).post(
        reverse("assessments:ticket_reveal", args=[provisioned.reference]),
        REMOTE_ADDR="203.0.113.9",
        HTTP_USER_AGENT="pytest-browser",
    )
    assert response.status_code == 200
    assert SECRET in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    reveal = CredentialReveal.objects.get(ticket=provisioned)
    assert (reveal.revealed_by, reveal.source_ip, reveal.user_agent) == (evaluator, "203.0.113.9", "pytest-browser")
    event = AuditEvent.objects.get(action="reveal", object_id=provisioned.reference)
    assert event.actor == evaluator and event.source_ip == "203.0.113.9"
    assert event.case_ref == provisioned.assessment.reference
    assert AccessTicket.objects.get(pk=provisioned.pk).status == TicketStatus.ACTIVE


def test_reveal_needs_a_post(client_for, provisioned, evaluator):
    response = client_for(evaluator).get(reverse("assessments:ticket_reveal", args=[provisioned.reference]))
    assert response.status_code == 405
    assert not CredentialReveal.objects.exists()


def test_ticket_page_and_list_never_show_the_credential(client_for, provisioned, evaluator, liaison_a):
    assert services.ticket_reveal(actor=evaluator, ticket=provisioned) == SECRET  # there is a secret to leak
    for user in (evaluator, liaison_a):
        client = client_for(user)
        for url in (provisioned.get_absolute_url(), reverse("assessments:ticket_list")):
            response = client.get(url)
            assert response.status_code == 200 and provisioned.reference in response.text, (url, user)
            assert SECRET not in response.content.decode()


@pytest.mark.parametrize("who", ["liaison_a", "admin_user", "lead2"])
def test_people_outside_the_team_cannot_reveal(provisioned, who, request):
    with pytest.raises(PermissionDenied):
        services.ticket_reveal(actor=request.getfixturevalue(who), ticket=provisioned)
    assert not CredentialReveal.objects.exists()


def test_credential_never_reaches_the_log(caplog, client_for, provisioned, evaluator):
    with caplog.at_level("DEBUG"):
        response = client_for(evaluator).post(reverse("assessments:ticket_reveal", args=[provisioned.reference]))
    assert response.status_code == 200 and SECRET in response.content.decode()  # the reveal happened
    assert SECRET not in caplog.text


# --- Expiry ----------------------------------------------------------------------------


def test_task_expires_access_at_the_end_of_the_window(provisioned):
    window_end = provisioned.assessment.window_end
    with time_machine.travel(window_end - timedelta(minutes=1), tick=False):
        expire_access_tickets()
        assert AccessTicket.objects.get(pk=provisioned.pk).status == TicketStatus.ACTIVE  # period began
    with time_machine.travel(window_end + timedelta(seconds=1), tick=False):
        assert expire_access_tickets() == {"expired": 1, "activated": 0}
        assert expire_access_tickets() == {"expired": 0, "activated": 0}  # idempotent
    ticket = AccessTicket.objects.get(pk=provisioned.pk)
    assert ticket.status == TicketStatus.EXPIRED and ticket.ended_by is None
    assert "window" in ticket.end_reason
    assert _raw_credential_column(ticket) == ""  # the secret is destroyed with the access


def test_access_ends_at_the_ticket_end_when_earlier_than_the_window(requested, lead, liaison_a):
    end = requested.wanted_to - timedelta(days=5)
    ticket = services.ticket_approve(actor=lead, ticket=requested, ends_at=end)
    services.ticket_provision(actor=liaison_a, ticket=ticket, endpoint="e", credential="c", instructions="")
    with time_machine.travel(end + timedelta(seconds=1), tick=False):
        expire_access_tickets()
    assert AccessTicket.objects.get(pk=ticket.pk).status == TicketStatus.EXPIRED


def test_reveal_after_the_end_is_refused_even_if_the_task_never_ran(provisioned, evaluator):
    with time_machine.travel(provisioned.assessment.window_end + timedelta(seconds=1), tick=False):
        with pytest.raises(TransitionNotAllowed) as exc:
            services.ticket_reveal(actor=evaluator, ticket=provisioned)
    assert "ended" in str(exc.value)
    ticket = AccessTicket.objects.get(pk=provisioned.pk)
    assert ticket.status == TicketStatus.EXPIRED  # recorded, not rolled back
    assert not CredentialReveal.objects.exists()


def test_reveal_page_after_the_end_shows_a_message_not_the_secret(client_for, provisioned, evaluator):
    with time_machine.travel(provisioned.assessment.window_end + timedelta(hours=1), tick=False):
        response = client_for(evaluator).post(
            reverse("assessments:ticket_reveal", args=[provisioned.reference]), follow=True
        )
    html = response.content.decode()
    assert SECRET not in html and "ended" in html


def test_expiry_deadline_follows_the_ticket(provisioned):
    deadline = Deadline.objects.get(kind=DeadlineKind.TICKET_EXPIRY, owner_id=provisioned.pk)
    assert deadline.is_open and deadline.due_at == provisioned.access_ends_at
    assert set(deadline.recipients.all()) >= {provisioned.requested_by}
    with time_machine.travel(provisioned.access_ends_at + timedelta(seconds=1), tick=False):
        expire_access_tickets()
    deadline.refresh_from_db()
    assert not deadline.is_open


# --- Revocation and extension ---------------------------------------------------------------


@pytest.mark.parametrize("who", ["liaison_a", "lead", "evaluator"])
def test_either_side_revokes_with_a_reason(provisioned, who, request):
    actor = request.getfixturevalue(who)
    services.ticket_revoke(actor=actor, ticket=provisioned, reason="Suspicious traffic from the key.")
    ticket = AccessTicket.objects.get(pk=provisioned.pk)
    assert ticket.status == TicketStatus.REVOKED and ticket.ended_by == actor
    assert ticket.end_reason == "Suspicious traffic from the key."
    with pytest.raises(TransitionNotAllowed):
        services.ticket_reveal(actor=request.getfixturevalue("evaluator"), ticket=ticket)


def test_other_company_cannot_revoke(provisioned, liaison_b):
    with pytest.raises(PermissionDenied):
        services.ticket_revoke(actor=liaison_b, ticket=provisioned, reason="x")


def test_revocation_needs_a_reason(provisioned, lead):
    with pytest.raises(RuleViolation):
        services.ticket_revoke(actor=lead, ticket=provisioned, reason="  ")


def test_extension_needs_the_liaisons_consent_and_stays_within_the_window(requested, lead, evaluator, liaison_a):
    short_end = requested.wanted_to - timedelta(days=5)
    ticket = services.ticket_approve(actor=lead, ticket=requested, ends_at=short_end)
    with pytest.raises(RuleViolation):
        services.ticket_request_extension(
            actor=evaluator, ticket=ticket, until=ticket.assessment.window_end + timedelta(hours=1), reason="More"
        )
    wanted = short_end + timedelta(days=2)
    services.ticket_request_extension(actor=evaluator, ticket=ticket, until=wanted, reason="Bio evals slipped.")
    assert AccessTicket.objects.get(pk=ticket.pk).ends_at == short_end  # nothing changes without consent
    with pytest.raises(PermissionDenied):
        services.ticket_decide_extension(actor=lead, ticket=ticket, consent=True)
    services.ticket_decide_extension(actor=liaison_a, ticket=ticket, consent=True)
    ticket = AccessTicket.objects.get(pk=ticket.pk)
    assert ticket.ends_at == wanted and ticket.extension_requested_to is None
    assert Deadline.objects.get(kind=DeadlineKind.TICKET_EXPIRY, owner_id=ticket.pk).due_at == wanted


def test_declined_extension_leaves_the_end_alone(requested, lead, evaluator, liaison_a):
    end = requested.wanted_to - timedelta(days=5)
    ticket = services.ticket_approve(actor=lead, ticket=requested, ends_at=end)
    services.ticket_request_extension(actor=evaluator, ticket=ticket, until=end + timedelta(days=1), reason="More")
    services.ticket_decide_extension(actor=liaison_a, ticket=ticket, consent=False, note="Not this time.")
    ticket = AccessTicket.objects.get(pk=ticket.pk)
    assert ticket.ends_at == end and ticket.extension_requested_to is None


def test_closing_the_case_ends_open_tickets(provisioned, requested, lead):
    from assessments.models import AssessmentStatus

    case = provisioned.assessment
    case.status = AssessmentStatus.REPORTING
    case.save()
    services.assessment_close(actor=lead, assessment=case, outcome="no_concerns", rationale="Nothing material.")
    assert AccessTicket.objects.get(pk=provisioned.pk).status == TicketStatus.REVOKED
    assert AccessTicket.objects.count() == 1  # never deleted


def test_tickets_are_never_deleted_through_the_admin(client_for, admin_user, provisioned):
    client = client_for(admin_user)
    page = client.get(reverse("admin:assessments_accessticket_change", args=[provisioned.pk]))
    assert page.status_code == 200
    assert SECRET not in page.content.decode() and _raw_credential_column(provisioned) not in page.content.decode()
    assert client.get(reverse("admin:assessments_accessticket_delete", args=[provisioned.pk])).status_code == 403
    changelist = client.get(reverse("admin:assessments_accessticket_changelist"))
    assert changelist.status_code == 200 and provisioned.reference in changelist.text
    assert SECRET not in changelist.content.decode()


def test_reveal_window_before_the_start_is_refused(requested, lead, liaison_a, evaluator):
    start = timezone.now() + timedelta(days=2)
    ticket = services.ticket_approve(actor=lead, ticket=requested, starts_at=start)
    services.ticket_provision(actor=liaison_a, ticket=ticket, endpoint="e", credential="c", instructions="")
    with pytest.raises(TransitionNotAllowed) as exc:
        services.ticket_reveal(actor=evaluator, ticket=ticket)
    assert "begins" in str(exc.value)
