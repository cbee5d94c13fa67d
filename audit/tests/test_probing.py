"""Probing is recorded: another organisation's record, a forged form, a malformed sign-in, a bad token.

The prober's answer does not change (the same 404, 403, form errors or 401), and a scan cannot
flood the trail: at most one event per actor (the person, or the address when anonymous), kind
and minute.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import uuid

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from audit.services import audit_probe

START = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
MISSING = "AGR-2026-9999"


def _probes(**filters):
    return AuditEvent.objects.filter(action=AuditEvent.Action.PROBE, **filters)


def _page(response) -> str:
    """The page without what differs on every response (the CSP nonce, the CSRF token)."""
    return re.sub(r'(nonce|value)="[^"]*"', "", response.content.decode())


@pytest.fixture
def address() -> str:
    """An address of its own for each test, so no test meets another's one-a-minute window.

    Drawn from the IPv6 documentation range: 96 random bits, so two tests (or two runs within a
    minute sharing a Redis cache) never draw the same one.
    """
    return str(ipaddress.IPv6Address((0x20010DB8 << 96) | uuid.uuid4().int >> 32))


@pytest.fixture
def local_cache(settings):
    """A per-process cache that time travel reaches (a Redis key expires in real time only)."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex}
    }


# --- Another organisation's record ---------------------------------------------------------------


def test_opening_another_companys_agreement_page_is_recorded_and_answers_the_same_404(
    client_for, liaison_b, agreement_a, address
):
    client = client_for(liaison_b)
    theirs = client.get(reverse("agreements:detail", kwargs={"reference": agreement_a.reference}), REMOTE_ADDR=address)
    missing = client.get(reverse("agreements:detail", kwargs={"reference": MISSING}), REMOTE_ADDR=address)
    assert theirs.status_code == missing.status_code == 404
    assert _page(theirs).replace(agreement_a.reference, MISSING) == _page(missing)
    assert "Agreement A" not in theirs.content.decode()

    event = _probes().get()
    assert (event.actor, event.actor_email, event.source_ip) == (liaison_b, liaison_b.email, address)
    assert (event.object_type, event.object_id) == ("agreements.agreement", agreement_a.reference)
    assert event.object_repr == f"GET /agreements/{agreement_a.reference}/"
    assert "Agreement A" not in str(event.__dict__)


def test_a_record_that_does_not_exist_is_not_a_probe(client_for, liaison_b, agreement_a):
    response = client_for(liaison_b).get(reverse("agreements:detail", kwargs={"reference": MISSING}))
    assert response.status_code == 404
    assert not _probes().exists()


def test_opening_ones_own_record_is_not_a_probe(client_for, liaison_a, agreement_a):
    response = client_for(liaison_a).get(reverse("agreements:detail", kwargs={"reference": agreement_a.reference}))
    assert response.status_code == 200
    assert not _probes().exists()


def test_an_evaluator_off_the_case_opening_it_is_recorded(client_for, evaluator_other, case):
    response = client_for(evaluator_other).get(reverse("assessments:detail", kwargs={"reference": case.reference}))
    assert response.status_code == 404
    event = _probes().get()
    assert (event.actor, event.object_type, event.object_id) == (
        evaluator_other,
        "assessments.assessment",
        case.reference,
    )


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/api/v1/agreements/{agreement}/", "agreements.agreement"),
        ("/api/v1/assessments/{case}/", "assessments.assessment"),
    ],
)
def test_the_api_records_another_companys_record_and_answers_the_same_404(
    client_for, liaison_b, case, address, path, kind
):
    agreement = case.submission.agreement
    client = client_for(liaison_b)
    url = path.format(agreement=agreement.reference, case=case.reference)
    theirs = client.get(url, REMOTE_ADDR=address)
    missing = client.get(path.format(agreement=MISSING, case="ASM-2026-9999"), REMOTE_ADDR=address)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()
    event = _probes().get()
    assert (event.actor, event.source_ip, event.object_type) == (liaison_b, address, kind)
    assert event.object_id in (agreement.reference, case.reference)
    assert event.object_repr == f"GET {url}"


def test_an_api_filter_that_hides_ones_own_record_is_not_a_probe(client_for, liaison_a, agreement_a):
    response = client_for(liaison_a).get(f"/api/v1/agreements/{agreement_a.reference}/?status=terminated")
    assert response.status_code == 404  # filtered out, but in scope: nothing was probed
    assert not _probes().exists()


# --- One event per actor, kind and minute ----------------------------------------------------------


def test_a_scan_of_many_records_makes_one_event_a_minute(client_for, liaison_b, agreement_a, case, local_cache):
    client = client_for(liaison_b)
    url = reverse("agreements:detail", kwargs={"reference": agreement_a.reference})
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(25):
            assert client.get(url).status_code == 404
        assert _probes().count() == 1
        # Another kind of record is another event, even within the minute.
        client.get(reverse("assessments:detail", kwargs={"reference": case.reference}))
        assert sorted(_probes().values_list("object_type", flat=True)) == [
            "agreements.agreement",
            "assessments.assessment",
        ]
        clock.shift(dt.timedelta(seconds=61))
        client.get(url)
    assert _probes(object_type="agreements.agreement").count() == 2


def test_two_people_probing_at_once_are_each_recorded(client_for, liaison_b, evaluator_other, agreement_a, case):
    client_for(liaison_b).get(reverse("agreements:detail", kwargs={"reference": agreement_a.reference}))
    client_for(evaluator_other).get(reverse("assessments:detail", kwargs={"reference": case.reference}))
    assert set(_probes().values_list("actor", flat=True)) == {liaison_b.pk, evaluator_other.pk}


def test_when_the_cache_is_down_the_audit_table_decides(rf, liaison_b, monkeypatch):
    from django.core.cache import cache

    def down(*args, **kwargs):
        raise ConnectionError("cache unreachable")

    monkeypatch.setattr(cache, "add", down)
    request = rf.get("/agreements/AGR-2026-0001/")
    request.user = liaison_b
    first = audit_probe(request=request, kind="agreements.agreement", reference="AGR-2026-0001", summary="probe")
    second = audit_probe(request=request, kind="agreements.agreement", reference="AGR-2026-0002", summary="probe")
    assert first is not None and second is None
    assert _probes().count() == 1


def test_the_window_is_shared_through_redis_by_every_process(rf, liaison_b, settings, redis_url):
    """With REDIS_URL, the one-a-minute key lives in Redis, where every web process looks."""
    import redis

    prefix = f"probe-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": prefix,
        }
    }
    request = rf.get("/agreements/AGR-2026-0001/")
    request.user = liaison_b
    assert audit_probe(request=request, kind="agreements.agreement", summary="probe") is not None
    server = redis.Redis.from_url(redis_url)
    keys = server.keys(f"{prefix}:*audit-probe*")
    assert len(keys) == 1 and 0 < server.ttl(keys[0]) <= 60
    # Another process (a fresh connection to the same Redis) sees the key and writes nothing.
    from django.core.cache import caches

    caches.close_all()
    assert audit_probe(request=request, kind="agreements.agreement", summary="probe") is None
    assert _probes().count() == 1
    server.delete(*keys)


# --- A forged form, a malformed sign-in, a bad API token --------------------------------------------


def test_a_form_that_fails_its_csrf_check_is_recorded(liaison_a, address):
    client = Client(enforce_csrf_checks=True)
    client.force_login(liaison_a)
    for _ in range(3):
        response = client.post(reverse("profile"), {"full_name": "Forged"}, REMOTE_ADDR=address)
        assert response.status_code == 403
    liaison_a.refresh_from_db()
    assert liaison_a.full_name != "Forged"
    event = _probes().get()
    assert (event.actor, event.object_type, event.source_ip) == (liaison_a, "csrf", address)
    assert "CSRF" in event.summary


def test_an_anonymous_forged_form_is_recorded_by_its_address(db, address):
    response = Client(enforce_csrf_checks=True).post(reverse("login"), {"username": "a@b.test"}, REMOTE_ADDR=address)
    assert response.status_code == 403
    event = _probes().get()
    assert (event.actor, event.object_type, event.source_ip) == (None, "csrf", address)


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({"username": "not-an-email", "password": "hunter2-guess"}, "username"),
        ({"username": "a@b.test"}, "password"),
        ({}, "password, username"),
        ({"password": "hunter2-guess"}, "username"),
    ],
)
def test_a_malformed_sign_in_is_recorded(client, db, address, data, fields):
    response = client.post(reverse("login"), data, REMOTE_ADDR=address)
    assert response.status_code == 200  # the form again, with its errors, as before
    assert response.context["form"].errors
    event = _probes().get()
    assert (event.actor, event.object_type, event.source_ip) == (None, "sign-in", address)
    assert event.object_id == data.get("username", "")
    assert event.summary.startswith(f"Malformed sign-in refused ({fields})")
    assert all("hunter2-guess" not in str(getattr(event, f.attname)) for f in AuditEvent._meta.concrete_fields)
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILED).exists()


def test_a_sign_in_with_control_characters_is_recorded_with_them_written_out(client, db, address):
    # A NUL cannot be stored in PostgreSQL: the event keeps what was sent, written out.
    response = client.post(reverse("login"), {"username": "a\x00b@c.test\x1b", "password": "x"}, REMOTE_ADDR=address)
    assert response.status_code == 200
    assert response.context["form"].errors
    event = _probes().get()
    assert event.object_id == "a\\x00b@c.test\\x1b"


def test_a_wrong_password_is_a_failed_login_not_a_probe(client, evaluator, address):
    client.post(reverse("login"), {"username": evaluator.email, "password": "wrong"}, REMOTE_ADDR=address)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILED).count() == 1
    assert not _probes().exists()


@pytest.mark.parametrize(
    ("header", "reference"),
    [
        ("Bearer rp_abcdef12_not-the-secret", "abcdef12"),
        ("Bearer not-even-a-token", ""),
        ("Bearer two parts", ""),
    ],
)
def test_a_bad_api_token_is_recorded_without_its_secret(client, db, address, header, reference):
    for _ in range(5):
        response = client.get("/api/v1/agreements/", HTTP_AUTHORIZATION=header, REMOTE_ADDR=address)
        assert response.status_code == 401
    event = _probes().get()
    assert (event.actor, event.object_type, event.object_id, event.source_ip) == (None, "api-token", reference, address)
    assert "API token refused" in event.summary
    assert all("not-the-secret" not in str(getattr(event, f.attname)) for f in AuditEvent._meta.concrete_fields)


def test_a_revoked_token_is_recorded(client, evaluator, address):
    from accounts.services import api_token_create, api_token_revoke

    token, raw = api_token_create(actor=evaluator, user=evaluator, name="old", days=1)
    api_token_revoke(actor=evaluator, token=token)
    response = client.get("/api/v1/agreements/", HTTP_AUTHORIZATION=f"Bearer {raw}", REMOTE_ADDR=address)
    assert response.status_code == 401
    event = _probes().get()
    assert event.object_id == token.prefix
    assert "revoked" in event.summary
