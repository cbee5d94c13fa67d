"""Services: every transition allowed and refused by role and by state, versions, signatures, open points."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from agreements import services
from agreements.models import (
    TERM_FIELDS,
    Agreement,
    AgreementStatus,
    AgreementVersion,
    EntryKind,
    OpenPointStatus,
    Signature,
)
from agreements.selectors import version_compare
from agreements.tests.factories import AgreementFactory, NegotiationEntryFactory, OpenPointFactory
from audit.models import AuditEvent
from core.errors import RuleViolation, TransitionNotAllowed
from reminders.models import Deadline, DeadlineKind

ALL_STATUSES = [s.value for s in AgreementStatus]
NEXT_WEEK = datetime.date.today() + datetime.timedelta(days=7)

# transition → (states it may start from, the state it reaches)
TRANSITIONS = {
    "open_negotiation": (["draft"], "negotiating"),
    "submit_for_signature": (["negotiating"], "awaiting_signature"),
    "withdraw": (["draft", "negotiating", "awaiting_signature"], "withdrawn"),
    "expire": (["active"], "expired"),
    "terminate": (["active"], "terminated"),
}
ALLOWED_ROLES = {name: ["admin_user", "lead"] for name in TRANSITIONS} | {"terminate": ["admin_user"]}
ALL_ROLES = ["admin_user", "lead", "evaluator", "liaison_a"]


def _apply(user, agreement, name):
    return services.agreement_apply_transition(
        actor=user, agreement=agreement, transition=name, reason="Stated reason.", signature_due=NEXT_WEEK
    )


def _terms(**overrides):
    terms = {
        "max_window_days": 30,
        "risk_domains": ["cyber", "biological"],
        "access_modalities": ["hosted_api"],
        "trade_secret_terms": "Weights stay on company infrastructure.",
        "release_notice_days": 14,
        "risk_consequence": "consultation",
        "effective_date": None,
        "expiry_date": None,
    }
    return terms | overrides


@pytest.mark.parametrize(
    ("name", "start", "role"),
    [(n, s, r) for n, (starts, _) in TRANSITIONS.items() for s in starts for r in ALL_ROLES],
)
def test_transition_from_an_allowed_state_by_role(request, name, start, role, company_a, lead):
    user = request.getfixturevalue(role)
    agreement = AgreementFactory(organisation=company_a, status=start, created_by=lead)
    if role in ALLOWED_ROLES[name]:
        _apply(user, agreement, name)
        agreement.refresh_from_db()
        assert agreement.status == TRANSITIONS[name][1]
        event = AuditEvent.objects.get(object_id=agreement.reference, action=AuditEvent.Action.TRANSITION)
        assert event.changes["status"] == {"from": start, "to": TRANSITIONS[name][1]}
        assert event.actor == user
    else:
        with pytest.raises(PermissionDenied):
            _apply(user, agreement, name)
        agreement.refresh_from_db()
        assert agreement.status == start
        assert not AuditEvent.objects.filter(object_id=agreement.reference).exists()


@pytest.mark.parametrize(
    ("name", "start"),
    [(n, s) for n, (starts, _) in TRANSITIONS.items() for s in ALL_STATUSES if s not in starts],
)
def test_transition_from_a_wrong_state_is_refused_with_a_message_naming_the_states(name, start, company_a, admin_user):
    agreement = AgreementFactory(organisation=company_a, status=start)
    with pytest.raises(TransitionNotAllowed) as refused:
        _apply(admin_user, agreement, name)
    message = str(refused.value)
    assert agreement.reference in message
    assert AgreementStatus(start).label.lower() in message
    agreement.refresh_from_db()
    assert agreement.status == start


def test_withdraw_and_terminate_need_a_reason(company_a, admin_user):
    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)
    with pytest.raises(RuleViolation) as refused:
        services.agreement_withdraw(actor=admin_user, agreement=agreement, reason="  ")
    assert "reason" in refused.value.errors
    assert Agreement.objects.get(pk=agreement.pk).status == AgreementStatus.NEGOTIATING


def test_sending_for_signature_is_refused_while_open_points_remain(company_a, lead, liaison_a):
    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)
    OpenPointFactory(agreement=agreement, owner=liaison_a)
    with pytest.raises(TransitionNotAllowed, match="Resolve the 1 open point"):
        services.agreement_submit_for_signature(actor=lead, agreement=agreement, signature_due=NEXT_WEEK)
    assert Agreement.objects.get(pk=agreement.pk).status == AgreementStatus.NEGOTIATING


def test_signature_due_date_in_the_past_is_a_field_error(company_a, lead):
    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)
    with pytest.raises(RuleViolation) as refused:
        services.agreement_submit_for_signature(
            actor=lead, agreement=agreement, signature_due=datetime.date.today() - datetime.timedelta(days=1)
        )
    assert "signature_due" in refused.value.errors


# --- Signatures ---------------------------------------------------------------------------


def test_one_signature_leaves_the_agreement_awaiting_the_other_side(awaiting, liaison_a):
    services.agreement_sign(actor=liaison_a, agreement=awaiting, signer_name="Alex Alpha", capacity="General Counsel")
    awaiting.refresh_from_db()
    assert awaiting.status == AgreementStatus.AWAITING_SIGNATURE
    assert list(awaiting.signatures.values_list("side", flat=True)) == ["company"]


def test_second_signature_makes_the_agreement_active_and_closes_the_signature_deadline(awaiting, liaison_a, lead):
    deadline = Deadline.objects.get(owner_id=awaiting.pk, kind=DeadlineKind.SIGNATURE_DUE)
    assert set(deadline.recipients.all()) == {liaison_a, lead}
    services.agreement_sign(actor=liaison_a, agreement=awaiting, signer_name="Alex Alpha", capacity="General Counsel")
    deadline.refresh_from_db()
    assert set(deadline.recipients.all()) == {lead}, "only the side that has not signed is reminded"
    services.agreement_sign(actor=lead, agreement=awaiting, signer_name="Lena Lead", capacity="Programme Director")
    awaiting.refresh_from_db()
    deadline.refresh_from_db()
    assert awaiting.status == AgreementStatus.ACTIVE
    assert awaiting.effective_date == timezone.localdate()
    assert deadline.is_open is False


def test_the_same_side_cannot_sign_twice(awaiting, lead, admin_user):
    services.agreement_sign(actor=lead, agreement=awaiting, signer_name="Lena Lead", capacity="Director")
    with pytest.raises(TransitionNotAllowed, match="already signed"):
        services.agreement_sign(actor=admin_user, agreement=awaiting, signer_name="Avery", capacity="Admin")
    awaiting.refresh_from_db()
    assert awaiting.status == AgreementStatus.AWAITING_SIGNATURE
    assert Signature.objects.filter(agreement=awaiting).count() == 1


def test_signing_before_awaiting_signature_is_refused(company_a, liaison_a):
    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)
    with pytest.raises(TransitionNotAllowed, match="only an agreement awaiting signature can be signed"):
        services.agreement_sign(actor=liaison_a, agreement=agreement, signer_name="A", capacity="B")
    assert not Signature.objects.exists()


@pytest.mark.parametrize("role", ["evaluator", "liaison_b"])
def test_evaluators_and_other_companies_cannot_sign(request, role, awaiting):
    with pytest.raises(PermissionDenied):
        services.agreement_sign(actor=request.getfixturevalue(role), agreement=awaiting, signer_name="X", capacity="Y")
    assert not Signature.objects.exists()


def test_withdrawing_closes_the_open_point_deadlines(company_a, lead, liaison_a):
    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING, created_by=lead)
    point = services.open_point_add(actor=lead, agreement=agreement, title="Logs", owner=liaison_a, due_date=NEXT_WEEK)
    services.agreement_withdraw(actor=lead, agreement=agreement, reason="Paused.")
    assert not Deadline.objects.filter(owner_id=point.pk, kind=DeadlineKind.OPEN_POINT_DUE, is_open=True).exists()


# --- Terms and versions ------------------------------------------------------------------


def test_creating_an_agreement_makes_version_one(company_a, lead):
    agreement = services.agreement_create(actor=lead, organisation=company_a, title="Pilot", terms=_terms())
    assert agreement.reference.startswith("AGR-")
    assert agreement.status == AgreementStatus.DRAFT
    version = agreement.versions.get()
    assert version.number == 1
    assert version.terms["risk_domains"] == ["biological", "cyber"]


def test_a_liaison_cannot_create_an_agreement(company_a, liaison_a):
    with pytest.raises(PermissionDenied):
        services.agreement_create(actor=liaison_a, organisation=company_a, title="Pilot", terms=_terms())
    assert not Agreement.objects.exists()


def test_agreement_with_the_centre_itself_is_refused(centre, admin_user):
    with pytest.raises(RuleViolation) as refused:
        services.agreement_create(actor=admin_user, organisation=centre, title="Self", terms=_terms())
    assert "organisation" in refused.value.errors


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"max_window_days": 31}, "max_window_days"),
        ({"max_window_days": 0}, "max_window_days"),
        ({"risk_domains": ["weather"]}, "risk_domains"),
        ({"effective_date": datetime.date(2027, 1, 1), "expiry_date": datetime.date(2026, 1, 1)}, "expiry_date"),
    ],
)
def test_terms_that_break_the_rules_are_refused_on_their_field(company_a, lead, overrides, field):
    with pytest.raises(RuleViolation) as refused:
        services.agreement_create(actor=lead, organisation=company_a, title="Pilot", terms=_terms(**overrides))
    assert field in refused.value.errors
    assert not Agreement.objects.exists()


def test_every_change_of_terms_makes_a_version_and_comparison_highlights_changed_clauses(company_a, lead):
    agreement = services.agreement_create(actor=lead, organisation=company_a, title="Pilot", terms=_terms())
    v2 = services.agreement_update_terms(
        actor=lead, agreement=agreement, terms=_terms(max_window_days=21, release_notice_days=30), note="Round 2"
    )
    v3 = services.agreement_update_terms(
        actor=lead,
        agreement=agreement,
        terms=_terms(max_window_days=21, release_notice_days=30, risk_consequence="release_hold"),
    )
    assert (v2.number, v3.number) == (2, 3)
    assert v2.changed_clauses == ["max_window_days", "release_notice_days"]
    v1 = AgreementVersion.objects.get(agreement=agreement, number=1)
    rows = {row.name: row for row in version_compare(v1, v3)}
    assert [name for name, row in rows.items() if row.changed] == [
        "max_window_days",
        "release_notice_days",
        "risk_consequence",
    ]
    assert rows["max_window_days"].old == "30 days" and rows["max_window_days"].new == "21 days"
    assert rows["risk_consequence"].new == "Release hold"
    assert len(rows) == len(TERM_FIELDS)


def test_saving_unchanged_terms_makes_no_version(company_a, lead):
    agreement = services.agreement_create(actor=lead, organisation=company_a, title="Pilot", terms=_terms())
    assert services.agreement_update_terms(actor=lead, agreement=agreement, terms=_terms()) is None
    assert agreement.versions.count() == 1


@pytest.mark.parametrize("status", ["awaiting_signature", "active", "expired", "terminated", "withdrawn"])
def test_terms_cannot_change_once_out_of_negotiation(company_a, lead, status):
    agreement = AgreementFactory(organisation=company_a, status=status)
    with pytest.raises(TransitionNotAllowed, match="draft or negotiating"):
        services.agreement_update_terms(actor=lead, agreement=agreement, terms=_terms(max_window_days=5))
    agreement.refresh_from_db()
    assert agreement.max_window_days == 30


@pytest.mark.parametrize("role", ["liaison_a", "evaluator"])
def test_only_centre_negotiators_change_the_agreed_terms(request, company_a, role):
    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)
    with pytest.raises(PermissionDenied):
        services.agreement_update_terms(
            actor=request.getfixturevalue(role), agreement=agreement, terms=_terms(max_window_days=5)
        )


# --- Negotiation log and open points -----------------------------------------------------


def test_both_sides_add_proposals_and_the_side_is_kept(company_a, lead, liaison_a):
    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)
    proposal = services.negotiation_entry_add(
        actor=lead, agreement=agreement, kind=EntryKind.PROPOSAL, clause="max_window_days", text="30 days"
    )
    counter = services.negotiation_entry_add(
        actor=liaison_a,
        agreement=agreement,
        kind=EntryKind.COUNTER_PROPOSAL,
        clause="max_window_days",
        text="14 days",
        responds_to=proposal,
    )
    assert (proposal.author_side, counter.author_side) == ("centre", "company")
    assert counter.responds_to == proposal


def test_liaison_of_another_company_cannot_propose(company_a, liaison_b):
    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)
    with pytest.raises(PermissionDenied):
        services.negotiation_entry_add(
            actor=liaison_b, agreement=agreement, kind=EntryKind.COMMENT, clause="general", text="Hi"
        )


def test_counter_proposal_must_answer_an_entry_of_the_same_agreement(company_a, lead):
    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)
    elsewhere = NegotiationEntryFactory()
    with pytest.raises(RuleViolation) as refused:
        services.negotiation_entry_add(
            actor=lead,
            agreement=agreement,
            kind=EntryKind.COUNTER_PROPOSAL,
            clause="general",
            text="x",
            responds_to=elsewhere,
        )
    assert "responds_to" in refused.value.errors


def test_no_proposals_on_an_active_agreement(agreement_a, lead):
    with pytest.raises(TransitionNotAllowed):
        services.negotiation_entry_add(actor=lead, agreement=agreement_a, kind="proposal", clause="general", text="x")


def test_open_point_is_a_deadline_for_its_owner_until_resolved(company_a, lead, liaison_a, admin_user):
    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)
    point = services.open_point_add(
        actor=lead, agreement=agreement, title="Retention", owner=liaison_a, due_date=NEXT_WEEK
    )
    deadline = Deadline.objects.get(owner_id=point.pk, kind=DeadlineKind.OPEN_POINT_DUE)
    assert list(deadline.recipients.all()) == [liaison_a]
    assert list(deadline.escalate_to.all()) == [admin_user]
    assert deadline.is_open

    later = NEXT_WEEK + datetime.timedelta(days=7)
    services.open_point_update(actor=lead, point=point, owner=liaison_a, due_date=later)
    deadline.refresh_from_db()
    assert deadline.due_at.astimezone(timezone.get_current_timezone()).date() == later
    assert deadline.revision == 2

    services.open_point_resolve(actor=liaison_a, point=point, resolution="90 days retention agreed.")
    point.refresh_from_db()
    deadline.refresh_from_db()
    assert point.status == OpenPointStatus.RESOLVED and point.resolved_by == liaison_a
    assert deadline.is_open is False


def test_open_point_owner_must_belong_to_the_centre_or_the_company(company_a, lead, liaison_b):
    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)
    with pytest.raises(RuleViolation) as refused:
        services.open_point_add(actor=lead, agreement=agreement, title="X", owner=liaison_b, due_date=NEXT_WEEK)
    assert "owner" in refused.value.errors


def test_a_liaison_who_does_not_own_the_point_cannot_resolve_it(company_a, lead, liaison_a):
    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)
    point = OpenPointFactory(agreement=agreement, owner=lead)
    with pytest.raises(PermissionDenied):
        services.open_point_resolve(actor=liaison_a, point=point, resolution="Done")


def test_resolving_twice_is_refused(company_a, lead):
    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)
    point = OpenPointFactory(agreement=agreement, owner=lead)
    services.open_point_resolve(actor=lead, point=point, resolution="Done")
    with pytest.raises(TransitionNotAllowed, match="already resolved"):
        services.open_point_resolve(actor=lead, point=point, resolution="Again")


def test_meeting_needs_attendees_and_minutes(company_a, lead):
    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)
    with pytest.raises(RuleViolation) as refused:
        services.meeting_record(actor=lead, agreement=agreement, held_at=timezone.now(), attendees="", minutes="")
    assert set(refused.value.errors) == {"attendees", "minutes"}
    meeting = services.meeting_record(
        actor=lead, agreement=agreement, held_at=timezone.now(), attendees="Lena Lead\nAlex Alpha", minutes="Agreed."
    )
    assert meeting.attendee_list == ["Lena Lead", "Alex Alpha"]
