"""Agreements expire by themselves once their expiry date has passed; negotiators move the signature due date."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from rest_framework.test import APIClient

from agreements import services
from agreements.models import Agreement, AgreementStatus
from agreements.tasks import expire_due_agreements
from agreements.tests.conftest import SIGNATURE_DUE
from agreements.tests.factories import AgreementFactory
from audit.models import AuditEvent
from core.errors import RuleViolation, TransitionNotAllowed
from reminders.models import Deadline, DeadlineKind

LAST_DAY = datetime.date(2030, 3, 31)


@pytest.fixture
def ending(company_a):
    """An active agreement whose last day in force is LAST_DAY."""
    return AgreementFactory(
        organisation=company_a,
        status=AgreementStatus.ACTIVE,
        effective_date=datetime.date(2029, 4, 1),
        expiry_date=LAST_DAY,
    )


def _status(agreement: Agreement) -> str:
    return Agreement.objects.values_list("status", flat=True).get(pk=agreement.pk)


def _expiry_events(agreement: Agreement):
    return AuditEvent.objects.filter(
        object_id=agreement.reference, action=AuditEvent.Action.TRANSITION, changes__status__to="expired"
    )


# --- Automatic expiry -------------------------------------------------------------------


@time_machine.travel("2030-03-31 23:59:59Z", tick=False)
def test_agreement_is_still_active_on_its_expiry_date(ending):
    assert expire_due_agreements() == []
    assert _status(ending) == AgreementStatus.ACTIVE
    assert not _expiry_events(ending).exists()


@time_machine.travel("2030-04-01 00:00:01Z", tick=False)
def test_agreement_expires_on_the_next_utc_day_even_while_it_is_still_that_day_in_the_centre(ending):
    assert settings.TIME_ZONE == "America/New_York"  # 2030-03-31 20:00 there: the day after counts in UTC
    assert expire_due_agreements() == [ending.reference]
    ending.refresh_from_db()
    assert ending.status == AgreementStatus.EXPIRED
    assert ending.status_changed_at is not None
    assert "expiry date (2030-03-31) has passed" in ending.status_reason


@time_machine.travel("2030-04-02 06:00Z", tick=False)
def test_expiry_is_audited_with_the_system_as_actor(ending):
    expire_due_agreements()
    event = _expiry_events(ending).get()
    assert event.actor is None
    assert event.actor_email == ""
    assert " system " in str(event)
    assert event.changes == {"status": {"from": "active", "to": "expired"}}
    assert event.summary.startswith("Active → Expired: Expired automatically")


@time_machine.travel("2030-04-02 06:00Z", tick=False)
def test_running_twice_expires_once_and_records_one_event(ending):
    assert expire_due_agreements() == [ending.reference]
    assert expire_due_agreements() == []
    assert _expiry_events(ending).count() == 1


@pytest.mark.parametrize("status", [AgreementStatus.EXPIRED, AgreementStatus.TERMINATED])
@time_machine.travel("2030-04-02 06:00Z", tick=False)
def test_an_agreement_already_expired_or_terminated_is_untouched(company_a, status):
    agreement = AgreementFactory(
        organisation=company_a,
        status=status,
        status_reason="Ended by the programme.",
        effective_date=datetime.date(2029, 4, 1),
        expiry_date=LAST_DAY,
    )
    before = Agreement.objects.get(pk=agreement.pk)
    assert expire_due_agreements() == []
    after = Agreement.objects.get(pk=agreement.pk)
    assert (after.status, after.status_reason) == (status, "Ended by the programme.")
    assert after.updated_at == before.updated_at
    assert not AuditEvent.objects.filter(object_id=agreement.reference).exists()


@time_machine.travel("2030-04-02 06:00Z", tick=False)
def test_agreements_without_expiry_date_or_still_in_negotiation_are_untouched(company_a):
    open_ended = AgreementFactory(organisation=company_a, status=AgreementStatus.ACTIVE, expiry_date=None)
    negotiating = AgreementFactory(
        organisation=company_a,
        status=AgreementStatus.NEGOTIATING,
        effective_date=datetime.date(2029, 4, 1),
        expiry_date=LAST_DAY,
    )
    assert expire_due_agreements() == []
    assert _status(open_ended) == AgreementStatus.ACTIVE
    assert _status(negotiating) == AgreementStatus.NEGOTIATING


def test_expiry_recomputes_the_agreements_deadlines(company_a, lead, liaison_a):
    with time_machine.travel("2030-03-01 12:00Z", tick=False):
        agreement = AgreementFactory(
            organisation=company_a, status=AgreementStatus.NEGOTIATING, created_by=lead, expiry_date=None
        )
        point = services.open_point_add(
            actor=lead, agreement=agreement, title="Logs", owner=liaison_a, due_date=datetime.date(2030, 3, 20)
        )
        # A deadline left open from the negotiation (e.g. by a data fix) is closed by the expiry.
        Agreement.objects.filter(pk=agreement.pk).update(
            status=AgreementStatus.ACTIVE, effective_date=datetime.date(2029, 4, 1), expiry_date=LAST_DAY
        )
    assert Deadline.objects.get(owner_id=point.pk, kind=DeadlineKind.OPEN_POINT_DUE).is_open
    with time_machine.travel("2030-04-01 01:00Z", tick=False):
        expire_due_agreements()
    assert not Deadline.objects.get(owner_id=point.pk, kind=DeadlineKind.OPEN_POINT_DUE).is_open


def test_the_system_actor_is_only_accepted_where_code_passes_it(agreement_a):
    """Anonymous or missing users are refused; only the SYSTEM object skips the policy."""
    from django.contrib.auth.models import AnonymousUser

    for nobody in (None, AnonymousUser()):
        with pytest.raises(PermissionDenied):
            services.agreement_expire(actor=nobody, agreement=agreement_a)
    assert _status(agreement_a) == AgreementStatus.ACTIVE


def test_expiry_is_scheduled_with_celery_beat():
    entry = settings.CELERY_BEAT_SCHEDULE["agreements-expire-due"]
    assert entry["task"] == expire_due_agreements.name == "agreements.expire_due"


# --- Signature due date -----------------------------------------------------------------

SOON = SIGNATURE_DUE  # when the ``awaiting`` agreement is due to be signed
LATER = datetime.date.today() + datetime.timedelta(days=21)


def _signature_deadline(agreement: Agreement) -> Deadline:
    return Deadline.objects.get(owner_id=agreement.pk, kind=DeadlineKind.SIGNATURE_DUE)


@pytest.mark.parametrize("role", ["lead", "admin_user"])
def test_negotiator_moves_the_signature_due_date_and_the_deadline_moves(request, role, awaiting):
    before = _signature_deadline(awaiting)
    services.agreement_change_signature_due(
        actor=request.getfixturevalue(role), agreement=awaiting, signature_due=LATER
    )
    awaiting.refresh_from_db()
    after = _signature_deadline(awaiting)
    assert awaiting.signature_due == LATER
    assert after.due_at > before.due_at
    assert after.due_at.date() in (LATER, LATER + datetime.timedelta(days=1))  # end of the day, in UTC
    assert after.revision == before.revision + 1
    event = AuditEvent.objects.filter(object_id=awaiting.reference, action=AuditEvent.Action.CHANGE).get()
    assert event.changes == {"signature_due": {"from": SOON.isoformat(), "to": LATER.isoformat()}}


def test_same_signature_due_date_changes_nothing(awaiting, lead):
    services.agreement_change_signature_due(actor=lead, agreement=awaiting, signature_due=SOON)
    assert not AuditEvent.objects.filter(object_id=awaiting.reference, action=AuditEvent.Action.CHANGE).exists()
    assert _signature_deadline(awaiting).revision == 1


def test_signature_due_date_in_the_past_is_refused_on_the_field(awaiting, lead):
    with pytest.raises(RuleViolation) as exc:
        services.agreement_change_signature_due(
            actor=lead, agreement=awaiting, signature_due=datetime.date.today() - datetime.timedelta(days=2)
        )
    assert "signature_due" in exc.value.errors
    awaiting.refresh_from_db()
    assert awaiting.signature_due == SOON


@pytest.mark.parametrize("role", ["liaison_a", "evaluator"])
def test_only_centre_negotiators_move_the_signature_due_date(request, role, awaiting):
    with pytest.raises(PermissionDenied):
        services.agreement_change_signature_due(
            actor=request.getfixturevalue(role), agreement=awaiting, signature_due=LATER
        )
    awaiting.refresh_from_db()
    assert awaiting.signature_due == SOON


@pytest.mark.parametrize("status", ["draft", "negotiating", "active", "expired", "withdrawn"])
def test_signature_due_date_moves_only_while_awaiting_signature(company_a, lead, status):
    agreement = AgreementFactory(organisation=company_a, status=status, signature_due=SOON)
    with pytest.raises(TransitionNotAllowed, match="only while it is awaiting signature"):
        services.agreement_change_signature_due(actor=lead, agreement=agreement, signature_due=LATER)
    assert Agreement.objects.get(pk=agreement.pk).signature_due == SOON


def test_signature_due_page_moves_the_date_and_says_so(client_for, lead, awaiting):
    client = client_for(lead)
    detail = client.get(reverse("agreements:detail", kwargs={"reference": awaiting.reference}))
    url = reverse("agreements:signature_due", kwargs={"reference": awaiting.reference})
    assert url in detail.text
    response = client.post(url, {"signature_due": LATER.isoformat()}, follow=True)
    assert f"Both sides should now sign by {LATER:%d %B %Y}" in response.text
    assert Agreement.objects.get(pk=awaiting.pk).signature_due == LATER


def test_signature_due_page_keeps_a_past_date_and_names_the_field(client_for, lead, awaiting):
    past = (datetime.date.today() - datetime.timedelta(days=3)).isoformat()
    url = reverse("agreements:signature_due", kwargs={"reference": awaiting.reference})
    response = client_for(lead).post(url, {"signature_due": past})
    assert response.status_code == 200
    assert "The signature due date must be between" in response.text and "(today)" in response.text
    assert f'value="{past}"' in response.text


def test_liaison_sees_no_signature_due_button(client_for, liaison_a, awaiting):
    detail = client_for(liaison_a).get(reverse("agreements:detail", kwargs={"reference": awaiting.reference}))
    assert reverse("agreements:signature_due", kwargs={"reference": awaiting.reference}) not in detail.text


def test_api_moves_the_signature_due_date(lead, liaison_a, awaiting):
    url = f"/api/v1/agreements/{awaiting.reference}/signature-due/"
    client = APIClient()
    client.force_authenticate(lead)
    response = client.post(url, {"signature_due": LATER.isoformat()}, format="json")
    assert response.status_code == 200
    assert response.json()["signature_due"] == LATER.isoformat()
    assert client.post(url, {}, format="json").json()["errors"]["signature_due"]
    client.force_authenticate(liaison_a)
    assert client.post(url, {"signature_due": SOON.isoformat()}, format="json").status_code == 403
    assert Agreement.objects.get(pk=awaiting.pk).signature_due == LATER
