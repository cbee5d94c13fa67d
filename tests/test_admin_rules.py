"""The Django admin obeys the same rules as the portal.

A programme admin posts each change form and each action with a change the
rules forbid; the database must stay as it was and the rule's message must be
on the page. Allowed changes go through the same services as the portal, so
they are audited like them and keep the deadlines in step.
"""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Organisation, Role, User
from agreements.models import AgreementStatus
from assessments import services as assessment_services
from assessments.models import AccessTicket, AssessmentOutcome, AssessmentStatus, TicketStatus
from assessments.tests.factories import AccessTicketFactory, AssessmentFactory, ModelSubmissionFactory
from audit.models import AuditEvent
from findings.models import FindingStatus
from findings.tests.factories import FindingFactory
from reminders.models import Deadline, DeliveryStatus, Reminder

pytestmark = pytest.mark.django_db


# --- Posting a change form as a browser would ---------------------------------------------------


class _FormFields(HTMLParser):
    """The name/value pairs a browser would post from the admin's main form (submit buttons left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def _add(self, name: str, value: str) -> None:
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self._add(name, a.get("value", "on"))
            else:
                self._add(name, a.get("value") or "")
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in a:
            self._add(self._select, a.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            self._add(self._textarea, "".join(self._text).lstrip("\n"))
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self._text.append(data)


def form_data(client, url: str) -> dict[str, list[str]]:
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    parser = _FormFields()
    parser.feed(page.content.decode())
    parser.data.pop("csrfmiddlewaretoken", None)
    return parser.data


def post_change(client, url: str, **changes):
    """Open the change form, change the named fields as a person would, and save."""
    data = form_data(client, url)
    for name, value in changes.items():
        data[name] = value if isinstance(value, list) else [value]
    return client.post(url, data, follow=True)


def change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def changelist_url(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def run_action(client, model, action: str, objects, **extra):
    data = {"action": action, "_selected_action": [o.pk for o in objects], **extra}
    return client.post(changelist_url(model), data, follow=True)


def page_text(response) -> str:
    return response.content.decode()


def split_dt(value) -> tuple[str, str]:
    local = timezone.localtime(value)
    return local.strftime("%Y-%m-%d"), local.strftime("%H:%M:%S")


@pytest.fixture
def admin_client(client_for, admin_user):
    return client_for(admin_user)


@pytest.fixture
def scheduled_case(agreement_a, lead, evaluator):
    submission = ModelSubmissionFactory(agreement=agreement_a, model_name="Gamma", model_version="1.0")
    return AssessmentFactory(submission=submission, lead=lead, team=[evaluator], status=AssessmentStatus.SCHEDULED)


def snapshot(obj, *fields: str) -> dict:
    obj = type(obj).objects.get(pk=obj.pk)
    return {name: getattr(obj, name) for name in fields}


# --- Assessments: status, outcome, window, lead, team ---------------------------------------------


ASSESSMENT_FIELDS = ("status", "outcome", "outcome_rationale", "window_start", "window_end", "lead_id", "closed_at")


def test_assessment_cannot_jump_from_scheduled_to_completed_in_the_change_form(admin_client, scheduled_case):
    before = snapshot(scheduled_case, *ASSESSMENT_FIELDS)
    url = change_url(scheduled_case)
    assert 'name="status"' not in page_text(admin_client.get(url))
    assert 'name="outcome"' not in page_text(admin_client.get(url))
    post_change(
        admin_client,
        url,
        status="completed",
        outcome=AssessmentOutcome.NO_CONCERNS,
        outcome_rationale="Typed straight into the admin.",
        closed_at_0="2026-01-01",
        closed_at_1="00:00:00",
    )
    assert snapshot(scheduled_case, *ASSESSMENT_FIELDS) == before
    assert not AuditEvent.objects.filter(object_id=scheduled_case.reference, summary__icontains="admin").exists()


def test_assessment_window_longer_than_the_agreement_allows_is_refused_with_its_message(
    admin_client, scheduled_case, agreement_a
):
    agreement_a.max_window_days = 14
    agreement_a.save()
    before = snapshot(scheduled_case, *ASSESSMENT_FIELDS)
    start = scheduled_case.window_start
    end_date, end_time = split_dt(start + timedelta(days=15))
    response = post_change(admin_client, change_url(scheduled_case), window_end_0=end_date, window_end_1=end_time)
    text = page_text(response)
    assert f"at most 14 days under agreement {agreement_a.reference}" in text
    assert "errornote" in text  # the form is shown again, with what was typed
    assert snapshot(scheduled_case, *ASSESSMENT_FIELDS) == before


def test_assessment_window_change_goes_through_the_service_and_moves_the_deadline(admin_client, scheduled_case):
    new_end = (scheduled_case.window_start + timedelta(days=10)).replace(microsecond=0)
    end_date, end_time = split_dt(new_end)
    response = post_change(admin_client, change_url(scheduled_case), window_end_0=end_date, window_end_1=end_time)
    assert response.status_code == 200
    scheduled_case.refresh_from_db()
    assert scheduled_case.window_end == new_end
    event = AuditEvent.objects.get(object_id=scheduled_case.reference, summary="Changed the case plan")
    assert "window_end" in event.changes
    deadline = Deadline.objects.get(owner_id=scheduled_case.pk, kind="window_end", is_open=True)
    assert deadline.due_at == new_end


def test_assessment_team_can_only_hold_centre_evaluators(admin_client, scheduled_case, liaison_a, evaluator):
    # The form offers only centre evaluators; a company's person posted anyway is refused.
    response = post_change(admin_client, change_url(scheduled_case), team=[str(evaluator.pk), str(liaison_a.pk)])
    assert f"Select a valid choice. {liaison_a.pk} is not one of the available choices." in page_text(response)
    assert list(scheduled_case.team.all()) == [evaluator]


def test_assessment_lead_must_be_a_lead_evaluator(admin_client, scheduled_case, evaluator_other, lead):
    response = post_change(admin_client, change_url(scheduled_case), lead=str(evaluator_other.pk))
    assert "The lead must be a lead evaluator." in page_text(response)
    scheduled_case.refresh_from_db()
    assert scheduled_case.lead == lead


def test_assessment_lead_changes_through_the_service(admin_client, scheduled_case, lead2, lead):
    post_change(admin_client, change_url(scheduled_case), lead=str(lead2.pk))
    scheduled_case.refresh_from_db()
    assert scheduled_case.lead == lead2
    event = AuditEvent.objects.get(object_id=scheduled_case.reference, changes__has_key="lead")
    assert event.changes["lead"] == {"from": lead.email, "to": lead2.email}
    deadline = Deadline.objects.get(owner_id=scheduled_case.pk, kind="window_end", is_open=True)
    assert lead2 in deadline.recipients.all()


def test_closed_assessment_is_read_only(admin_client, case, agreement_a):
    assessment_services.assessment_withdraw(actor=case.lead, assessment=case, reason="Company withdrew.")
    page = page_text(admin_client.get(change_url(case)))
    for field in ("lead", "team", "window_end_0", "internal_notes"):
        assert f'name="{field}"' not in page


def test_advance_action_moves_one_step_through_the_service(admin_client, scheduled_case):
    response = run_action(admin_client, type(scheduled_case), "advance_selected", [scheduled_case])
    scheduled_case.refresh_from_db()
    assert scheduled_case.status == AssessmentStatus.ACCESS_PENDING
    assert "1 assessment(s) moved on" in page_text(response)
    assert AuditEvent.objects.filter(object_id=scheduled_case.reference, action="transition").exists()


def test_advance_action_refuses_to_complete_without_an_outcome(admin_client, case):
    case.status = AssessmentStatus.REPORTING
    case.save()
    response = run_action(admin_client, type(case), "advance_selected", [case])
    assert "closing needs an outcome and a rationale" in page_text(response)
    assert snapshot(case, "status")["status"] == AssessmentStatus.REPORTING


def test_complete_action_refuses_a_case_not_in_reporting(admin_client, scheduled_case):
    before = snapshot(scheduled_case, *ASSESSMENT_FIELDS)
    response = run_action(
        admin_client,
        type(scheduled_case),
        "complete_selected",
        [scheduled_case],
        outcome=AssessmentOutcome.NO_CONCERNS,
        note="Straight to completed.",
    )
    assert "only a case in reporting can be completed" in page_text(response)
    assert snapshot(scheduled_case, *ASSESSMENT_FIELDS) == before


def test_complete_action_needs_an_outcome_and_rationale(admin_client, case):
    case.status = AssessmentStatus.REPORTING
    case.save()
    response = run_action(admin_client, type(case), "complete_selected", [case], outcome="", note="")
    assert "The outcome needs a choice and a written rationale." in page_text(response)
    assert snapshot(case, "status")["status"] == AssessmentStatus.REPORTING


def test_complete_action_closes_through_the_service_and_ends_access(admin_client, case, evaluator, lead):
    ticket = AccessTicketFactory(assessment=case, requested_by=evaluator)
    assessment_services.ticket_approve(actor=lead, ticket=ticket, ends_at=case.window_end - timedelta(days=1))
    case.status = AssessmentStatus.REPORTING
    case.save()
    run_action(
        admin_client,
        type(case),
        "complete_selected",
        [case],
        outcome=AssessmentOutcome.MITIGATIONS_RECOMMENDED,
        note="Two high findings.",
    )
    case.refresh_from_db()
    assert (case.status, case.outcome, case.outcome_rationale) == (
        "completed",
        "mitigations_recommended",
        "Two high findings.",
    )
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.REVOKED
    assert not Deadline.objects.filter(owner_id=case.pk, kind="window_end", is_open=True).exists()


def test_withdraw_action_needs_a_reason(admin_client, scheduled_case):
    response = run_action(admin_client, type(scheduled_case), "withdraw_selected", [scheduled_case], note="  ")
    assert "Say why the assessment is withdrawn." in page_text(response)
    assert snapshot(scheduled_case, "status")["status"] == AssessmentStatus.SCHEDULED


def test_withdraw_action_withdraws_through_the_service(admin_client, scheduled_case):
    run_action(admin_client, type(scheduled_case), "withdraw_selected", [scheduled_case], note="Company asked.")
    scheduled_case.refresh_from_db()
    assert scheduled_case.status == AssessmentStatus.WITHDRAWN
    assert scheduled_case.outcome_rationale == "Company asked."


# --- Submissions: organisation and agreement -----------------------------------------------------


def test_submission_cannot_move_under_another_companys_agreement(admin_client, case, agreement_b, company_b):
    submission = case.submission
    before = snapshot(submission, "agreement_id", "organisation_id", "model_name", "intended_release_date")
    url = change_url(submission)
    page = page_text(admin_client.get(url))
    assert 'name="agreement"' not in page
    assert 'name="organisation"' not in page
    admin_client.post(url, {"agreement": agreement_b.pk, "organisation": company_b.pk, "model_name": "Renamed"})
    assert snapshot(submission, "agreement_id", "organisation_id", "model_name", "intended_release_date") == before
    assert admin_client.get(reverse("admin:assessments_modelsubmission_add")).status_code == 403


# --- Access tickets -------------------------------------------------------------------------------


def test_ticket_fields_cannot_be_posted(admin_client, case, evaluator):
    ticket = AccessTicketFactory(assessment=case, requested_by=evaluator)
    admin_client.post(change_url(ticket), {"status": "active", "ends_at_0": "2099-01-01", "ends_at_1": "00:00:00"})
    ticket.refresh_from_db()
    assert (ticket.status, ticket.ends_at) == (TicketStatus.REQUESTED, None)


def test_ticket_revoke_action_needs_a_reason_and_uses_the_service(admin_client, case, evaluator, lead):
    ticket = AccessTicketFactory(assessment=case, requested_by=evaluator)
    assessment_services.ticket_approve(actor=lead, ticket=ticket, ends_at=case.window_end - timedelta(days=1))
    response = run_action(admin_client, AccessTicket, "revoke_selected", [ticket], note="")
    assert "Say why access is revoked." in page_text(response)
    assert AccessTicket.objects.get(pk=ticket.pk).status == TicketStatus.APPROVED
    run_action(admin_client, AccessTicket, "revoke_selected", [ticket], note="Key leaked.")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.REVOKED
    event = AuditEvent.objects.filter(object_id=ticket.reference, action="transition").latest("occurred_at")
    assert event.actor_email == "admin@centre.test"


# --- Agreements -----------------------------------------------------------------------------------


def test_agreement_change_form_saves_nothing(admin_client, agreement_a):
    before = snapshot(agreement_a, "status", "max_window_days", "organisation_id")
    admin_client.post(change_url(agreement_a), {"status": "terminated", "max_window_days": 30, "title": "New"})
    assert snapshot(agreement_a, "status", "max_window_days", "organisation_id") == before


def test_agreement_terminate_action_needs_a_reason(admin_client, agreement_a):
    response = run_action(admin_client, type(agreement_a), "terminate_selected", [agreement_a], note="")
    assert "Say why the agreement is terminated." in page_text(response)
    assert snapshot(agreement_a, "status")["status"] == AgreementStatus.ACTIVE


def test_agreement_transition_actions_keep_to_the_state_machine(admin_client, agreement_a):
    response = run_action(admin_client, type(agreement_a), "open_negotiation_selected", [agreement_a])
    assert f"Cannot open negotiation on {agreement_a.reference}: it is active" in page_text(response)
    assert snapshot(agreement_a, "status")["status"] == AgreementStatus.ACTIVE
    run_action(admin_client, type(agreement_a), "terminate_selected", [agreement_a], note="Company left.")
    agreement_a.refresh_from_db()
    assert (agreement_a.status, agreement_a.status_reason) == (AgreementStatus.TERMINATED, "Company left.")
    assert AuditEvent.objects.filter(object_id=agreement_a.reference, action="transition").exists()


# --- Findings -------------------------------------------------------------------------------------


def test_finding_status_and_links_cannot_be_posted(admin_client, case, case_b, evaluator):
    finding = FindingFactory(assessment=case, author=evaluator)
    fields = ("status", "assessment_id", "released_at", "title")
    before = snapshot(finding, *fields)
    admin_client.post(
        change_url(finding),
        {"status": "released", "assessment": case_b.pk, "released_at_0": "2026-01-01", "released_at_1": "00:00:00"},
    )
    assert snapshot(finding, *fields) == before


def test_finding_text_is_read_only_to_an_admin_the_policy_keeps_off_the_case(admin_client, case, evaluator):
    # finding.edit belongs to the case team; the admin corrects nothing the portal would not let them.
    finding = FindingFactory(assessment=case, author=evaluator, status=FindingStatus.IN_REVIEW)
    page = page_text(admin_client.get(change_url(finding)))
    assert 'name="title"' not in page
    admin_client.post(change_url(finding), {"title": "Rewritten by the admin"})
    assert snapshot(finding, "title")["title"] == finding.title


def test_finding_withdraw_action_refuses_a_resolved_finding(admin_client, case, evaluator, lead):
    from findings.tests.factories import released_finding

    finding = released_finding(assessment=case, author=evaluator, released_by=lead, status=FindingStatus.RESOLVED)
    response = run_action(admin_client, type(finding), "withdraw_selected", [finding])
    assert finding.reference in page_text(response)
    assert "resolved" in page_text(response).lower()
    assert snapshot(finding, "status")["status"] == FindingStatus.RESOLVED


# --- Reminders: deliver again ---------------------------------------------------------------------


@pytest.fixture
def deliveries(evaluator, admin_user):
    from reminders.tests.factories import make_deadline

    deadline = make_deadline(due_at=timezone.now() + timedelta(days=1), recipients=[evaluator, admin_user])
    common = {"deadline": deadline, "revision": deadline.revision, "offset_days": 1, "send_at": timezone.now()}
    failed = Reminder.objects.create(
        recipient=evaluator, status=DeliveryStatus.FAILED, attempts=8, last_error="SMTP down", **common
    )
    sent = Reminder.objects.create(recipient=admin_user, status=DeliveryStatus.SENT, attempts=1, **common)
    return failed, sent


def test_retry_delivery_queues_a_failed_reminder_through_the_service_and_audits_it(admin_client, deliveries):
    failed, _sent = deliveries
    response = run_action(admin_client, Reminder, "retry_delivery", [failed])
    assert "1 queued for the next scan." in page_text(response)
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.claimed_at) == (DeliveryStatus.PENDING, 0, None)
    event = AuditEvent.objects.get(object_type="reminders.reminder", object_id=str(failed.pk))
    assert event.actor_email == "admin@centre.test"
    assert event.changes["status"] == {"from": "failed", "to": "pending"}


def test_retry_delivery_refuses_a_delivery_that_did_not_fail(admin_client, deliveries):
    failed, sent = deliveries
    response = run_action(admin_client, Reminder, "retry_delivery", [failed, sent])
    assert "Only failed deliveries can be delivered again" in page_text(response)
    assert snapshot(failed, "status", "attempts")["status"] == DeliveryStatus.FAILED
    assert snapshot(sent, "status")["status"] == DeliveryStatus.SENT
    assert not AuditEvent.objects.filter(object_type="reminders.reminder").exists()


def test_retry_delivery_service_checks_the_actor(deliveries, evaluator):
    from django.core.exceptions import PermissionDenied

    from reminders.services import delivery_retry

    failed, _sent = deliveries
    with pytest.raises(PermissionDenied):
        delivery_retry(actor=evaluator, deliveries=[failed])
    assert snapshot(failed, "status")["status"] == DeliveryStatus.FAILED


# --- People: accounts, memberships, organisations -------------------------------------------------


def test_access_flags_of_a_user_are_read_only(admin_client, evaluator):
    url = change_url(evaluator)
    page = page_text(admin_client.get(url))
    for field in ("is_active", "is_staff", "is_superuser"):
        assert f'name="{field}"' not in page
    post_change(admin_client, url, is_superuser="on", is_staff="on", full_name="Eva Luator")
    evaluator.refresh_from_db()
    assert (evaluator.is_superuser, evaluator.is_staff, evaluator.is_active) == (False, False, True)
    assert evaluator.full_name == "Eva Luator"  # a plain descriptive field stays editable, and audited
    assert AuditEvent.objects.filter(object_type="accounts.user", changes__has_key="full_name").exists()


def test_deactivate_action_deactivates_through_the_service(admin_client, evaluator):
    response = run_action(admin_client, User, "deactivate_selected", [evaluator])
    assert "1 account(s) deactivated" in page_text(response)
    evaluator.refresh_from_db()
    assert not evaluator.is_active
    event = AuditEvent.objects.get(object_type="accounts.user", action="transition")
    assert event.changes == {"is_active": {"from": True, "to": False}}
    run_action(admin_client, User, "reactivate_selected", [evaluator])
    evaluator.refresh_from_db()
    assert evaluator.is_active


def test_an_admin_cannot_deactivate_their_own_account(admin_client, admin_user):
    response = run_action(admin_client, User, "deactivate_selected", [admin_user])
    assert "You cannot deactivate your own account" in page_text(response)
    assert User.objects.get(pk=admin_user.pk).is_active


def test_membership_organisation_is_read_only_and_role_changes_through_the_service(admin_client, evaluator, company_a):
    membership = evaluator.membership
    url = change_url(membership)
    assert 'name="organisation"' not in page_text(admin_client.get(url))
    post_change(admin_client, url, organisation=str(company_a.pk), role=Role.LEAD_EVALUATOR)
    membership.refresh_from_db()
    assert (membership.organisation.kind, membership.role) == (Organisation.Kind.AGENCY, Role.LEAD_EVALUATOR)
    event = AuditEvent.objects.get(object_type="accounts.user", object_id=str(evaluator.public_id))
    assert event.changes == {"role": {"from": "evaluator", "to": "lead_evaluator"}}


def test_membership_role_must_suit_the_organisation(admin_client, liaison_a):
    response = post_change(admin_client, change_url(liaison_a.membership), role=Role.PROGRAMME_ADMIN)
    assert "Centre roles can only be held by members of the agency." in page_text(response)
    assert Membership.objects.get(pk=liaison_a.membership.pk).role == Role.LIAISON


def test_a_lead_of_an_open_case_keeps_the_lead_role(admin_client, case, lead):
    response = post_change(admin_client, change_url(lead.membership), role=Role.EVALUATOR)
    assert case.reference in page_text(response)
    assert "name another lead first" in page_text(response)
    assert Membership.objects.get(pk=lead.membership.pk).role == Role.LEAD_EVALUATOR


def test_an_admin_cannot_change_their_own_role(admin_client, admin_user):
    response = post_change(admin_client, change_url(admin_user.membership), role=Role.EVALUATOR)
    assert "You cannot change your own role" in page_text(response)
    assert Membership.objects.get(pk=admin_user.membership.pk).role == Role.PROGRAMME_ADMIN


def test_membership_on_the_user_page_is_read_only_once_it_exists(admin_client, evaluator, company_a):
    page = page_text(admin_client.get(change_url(evaluator)))
    assert 'name="membership-0-role"' not in page
    assert 'name="membership-0-organisation"' not in page


def test_organisation_kind_is_read_only_after_creation(admin_client, company_a, liaison_a):
    url = change_url(company_a)
    assert 'name="kind"' not in page_text(admin_client.get(url))
    post_change(admin_client, url, kind=Organisation.Kind.AGENCY)
    assert Organisation.objects.get(pk=company_a.pk).kind == Organisation.Kind.DEVELOPER


def test_organisation_engagement_is_read_only_and_moves_only_by_the_state_machine(admin_client, company_a):
    url = change_url(company_a)
    page = page_text(admin_client.get(url))
    assert 'name="engagement_stage"' not in page and 'name="disclosure_permitted"' not in page
    post_change(admin_client, url, engagement_stage="signed", disclosure_permitted="on")
    company_a.refresh_from_db()
    assert (company_a.engagement_stage, company_a.disclosure_permitted) == ("prospect", False)
    # The action goes through organisation_engagement_change: a prospect cannot jump to signed.
    response = run_action(admin_client, Organisation, "record_engagement_stage", [company_a], stage="signed")
    assert "cannot go from prospect to signed" in page_text(response)
    run_action(admin_client, Organisation, "record_engagement_stage", [company_a], stage="negotiating")
    company_a.refresh_from_db()
    assert company_a.engagement_stage == "negotiating"
    event = AuditEvent.objects.get(object_type="accounts.organisation", action="transition")
    assert event.changes["engagement_stage"] == {"from": "prospect", "to": "negotiating"}


def test_an_organisation_name_with_a_control_character_is_refused_on_the_form(admin_client, company_a):
    response = post_change(admin_client, change_url(company_a), name="Company\x0bA")
    assert "control character U+000B" in page_text(response)
    assert Organisation.objects.get(pk=company_a.pk).name == "Company A"


def test_setting_a_password_in_the_admin_is_audited(admin_client, evaluator):
    url = reverse("admin:auth_user_password_change", args=[evaluator.pk])
    response = admin_client.post(
        url,
        {"password1": "a new long passphrase 42", "password2": "a new long passphrase 42", "usable_password": "true"},
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(object_type="accounts.user", object_id=str(evaluator.public_id))
    assert event.summary == "Password set in the admin"
    assert "a new long passphrase" not in str(event.changes)


# --- Nothing is deleted through the admin ---------------------------------------------------------


@pytest.fixture
def every_record(case, evaluator, lead, admin_user, liaison_a, deliveries):
    """One saved row of every model the admin shows (besides the security records)."""
    from agreements.tests.factories import (
        AgreementDocumentFactory,
        AgreementVersionFactory,
        NegotiationEntryFactory,
        OpenPointFactory,
    )
    from reminders.models import Digest, Notification, ReminderPreference

    agreement = case.submission.agreement
    ticket = AccessTicketFactory(assessment=case, requested_by=evaluator)
    ticket = assessment_services.ticket_approve(actor=lead, ticket=ticket, ends_at=case.window_end - timedelta(days=1))
    ticket = assessment_services.ticket_provision(
        actor=liaison_a, ticket=ticket, endpoint="https://api.a.test", credential="secret", instructions=""
    )
    assessment_services.ticket_reveal(actor=evaluator, ticket=ticket)
    finding = FindingFactory(assessment=case, author=evaluator)
    from findings.models import FindingComment, FindingEvidence

    FindingComment.objects.create(finding=finding, author=evaluator, body="Looks right.", internal=True)
    FindingEvidence.objects.create(
        finding=finding, original_name="log.txt", content_type="text/plain", size=1, sha256="0" * 64
    )
    AgreementVersionFactory(agreement=agreement)
    NegotiationEntryFactory(agreement=agreement)
    OpenPointFactory(agreement=agreement, owner=lead)
    AgreementDocumentFactory(agreement=agreement, uploaded_by=lead)
    from agreements.models import Signature

    Signature.objects.create(
        agreement=agreement,
        side="centre",
        signer=lead,
        signer_name="Lead",
        capacity="Director",
        signed_at=timezone.now(),
    )
    Digest.objects.create(recipient=evaluator, kind=Digest.Kind.choices[0][0], day=timezone.localdate())
    Notification.objects.create(recipient=evaluator, title="Due soon", url="/deadlines/")
    ReminderPreference.objects.create(user=evaluator)
    from accounts.services import api_token_create

    api_token_create(actor=evaluator, user=evaluator, name="script", days=30)
    return case


def _registered_models():
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


# django-otp devices and django-axes lockouts are deleted to reset a lost phone or unlock early (audited).
DELETABLE = {"otp_totp.totpdevice", "otp_static.staticdevice", "axes.accessattempt"}


def test_no_record_can_be_deleted_through_the_admin(admin_client, every_record):
    checked = []
    for model, _model_admin in _registered_models():
        if model._meta.label_lower in DELETABLE:
            continue
        obj = model._default_manager.first()
        if obj is None:
            continue
        checked.append(model._meta.label_lower)
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_delete", args=[obj.pk])
        assert admin_client.post(url, {"post": "yes"}).status_code == 403, url
        assert model._default_manager.filter(pk=obj.pk).exists()
        bulk = run_action(admin_client, model, "delete_selected", [obj])
        assert model._default_manager.filter(pk=obj.pk).exists(), model
        assert bulk.status_code == 200
    for label in (
        "assessments.modelsubmission",
        "assessments.assessment",
        "assessments.accessticket",
        "assessments.credentialreveal",
        "findings.finding",
        "findings.findingevidence",
        "agreements.agreement",
        "agreements.agreementversion",
        "agreements.negotiationentry",
        "agreements.openpoint",
        "agreements.agreementdocument",
        "agreements.signature",
        "reminders.deadline",
        "reminders.reminder",
        "reminders.digest",
        "audit.auditevent",
        "accounts.user",
        "accounts.membership",
        "accounts.organisation",
    ):
        assert label in checked, f"no {label} was tried"


# --- Every admin: which fields a form can write ---------------------------------------------------

# The only fields an admin form may post. Each one is either a plain description no rule governs
# (saved with the generic audited save) or is saved by a service (noted beside it).
EDITABLE = {
    "accounts.organisation": {"name", "email_domains"},
    "accounts.user": {"email", "full_name", "time_zone"},
    "accounts.membership": {"role"},  # accounts.services.membership_change_role
    # assessments.services: assessment_change_lead and assessment_update
    "assessments.assessment": {
        "lead",
        "team",
        "risk_domains",
        "window_start",
        "window_end",
        "window_after_release_reason",
        "internal_notes",
    },
    # The programme's list of handling markings is configuration no rule governs (its code is fixed);
    # an item's marking changes only through the <entity>_set_marking services.
    "core.handlingmarking": {"name", "rank", "banner_text", "colour", "description", "is_default"},
    # findings.services.rubrics.severity_rubric_revise: every save writes a new version, the old one kept
    "findings.severityrubric": {"risk_domain", "critical", "high", "medium", "low", "informational", "change_note"},
}


def _editable_fields(model_admin, request, obj) -> set[str]:
    if not model_admin.has_change_permission(request, obj):
        return set()
    form = model_admin.get_form(request, obj, change=True)
    readonly = set(model_admin.get_readonly_fields(request, obj))
    return {name for name, field in form.base_fields.items() if name not in readonly and not field.disabled}


def test_every_admin_form_writes_only_fields_no_rule_governs_or_a_service_saves(admin_user, every_record):
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    for model, model_admin in _registered_models():
        obj = model._default_manager.first()
        editable = _editable_fields(model_admin, request, obj)
        allowed = EDITABLE.get(model._meta.label_lower, set())
        assert editable <= allowed, f"{model._meta.label}: {sorted(editable - allowed)} can be written in the admin"
