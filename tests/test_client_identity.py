"""The client's address is read the same way everywhere, and the client cannot choose it.

Behind ``TRUSTED_PROXY_COUNT`` proxies the address is the X-Forwarded-For entry that many places
from the right (written by our own proxy); what the client puts further left is ignored by the
sign-in lockout, the audit trail and the API throttle alike.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.db.models import Sum
from django.urls import reverse

from accounts.models import Role
from accounts.tests.factories import TEST_PASSWORD, UserFactory
from audit.models import AuditEvent
from audit.services import client_ip
from reviewportal.throttles import WriteRateThrottle

ROOT = Path(__file__).resolve().parent.parent
PROXY = "10.0.0.2"  # the TLS proxy in front of the portal
OFFICE = "203.0.113.9"  # the address a company's people share


def _forged(n: int) -> dict:
    """A request as our proxy passes it on: the client's own (forged) entry, then the real address."""
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": f"198.51.100.{n}, {OFFICE}"}


@pytest.fixture
def behind_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.AXES_FAILURE_LIMIT = 3


def _fail(client, email: str, **extra):
    return client.post(reverse("login"), {"username": email, "password": "wrong-guess"}, **extra)


def _login(client, email: str, **extra):
    return client.post(reverse("login"), {"username": email, "password": TEST_PASSWORD}, **extra)


# --- The one function ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "198.51.100.1", "192.0.2.10"),  # no proxy: the header is the client's, ignored
        (1, "198.51.100.1, 203.0.113.9", "203.0.113.9"),  # forged first entry, real one last
        (1, "203.0.113.9", "203.0.113.9"),
        (2, "198.51.100.1, 203.0.113.9, 10.0.0.7", "203.0.113.9"),  # CDN then load balancer
        (2, "203.0.113.9", "192.0.2.10"),  # fewer entries than proxies: did not come through them
        (1, "", "192.0.2.10"),
        (1, "not-an-address", "192.0.2.10"),
        (1, "198.51.100.1, 2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_address_is_the_entry_the_trusted_proxies_wrote(rf, settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = rf.get("/", REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


@pytest.mark.parametrize(("behind", "expected"), [("1", "1"), ("0", "0")])
def test_trusted_proxy_count_defaults_to_one_behind_the_tls_proxy(behind, expected):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "reviewportal.settings", "DEBUG": "1", "BEHIND_TLS_PROXY": behind}
    env.pop("TRUSTED_PROXY_COUNT", None)
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.TRUSTED_PROXY_COUNT)"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == expected, result.stderr


# --- Sign-in lockout --------------------------------------------------------------------------


def test_rotating_forged_entries_still_count_against_the_real_address_and_lock_out(client, evaluator, behind_proxy):
    for n in range(2):
        assert _fail(client, evaluator.email, **_forged(n)).status_code == 200
    assert _fail(client, evaluator.email, **_forged(2)).status_code == 429  # the third failure locks
    locked = _login(client, evaluator.email, **_forged(99))
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    # Every failure was counted against the one real address, none against an invented one.
    attempts = AccessAttempt.objects.filter(username=evaluator.email)
    assert set(attempts.values_list("ip_address", flat=True)) == {OFFICE}
    assert attempts.aggregate(n=Sum("failures_since_start"))["n"] == 3


def test_thirty_forged_addresses_do_not_spread_the_failures(client, evaluator, behind_proxy, settings):
    settings.AXES_FAILURE_LIMIT = 30
    for n in range(30):
        _fail(client, evaluator.email, **_forged(n))
    assert _login(client, evaluator.email, **_forged(200)).status_code == 429
    assert not AccessAttempt.objects.exclude(ip_address=OFFICE).exists()


def test_a_colleague_at_the_same_address_is_not_locked_out(client, liaison_a, company_a, behind_proxy):
    colleague = UserFactory(email="colleague@a.test", role=Role.LIAISON, organisation=company_a)
    for n in range(3):
        _fail(client, liaison_a.email, **_forged(n))
    assert _login(client, liaison_a.email, **_forged(7)).status_code == 429

    response = _login(client, colleague.email, **_forged(8))
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")


def test_the_locked_account_stays_locked_from_another_address(client, evaluator, behind_proxy):
    for n in range(3):
        _fail(client, evaluator.email, **_forged(n))
    elsewhere = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "192.0.2.200"}
    assert _login(client, evaluator.email, **elsewhere).status_code == 429


# --- Audit trail ------------------------------------------------------------------------------


def test_the_audit_trail_records_the_real_address_not_the_forged_one(client, evaluator, behind_proxy):
    _fail(client, evaluator.email, **_forged(1))
    _login(client, evaluator.email, **_forged(2))
    failed = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILED)
    signed_in = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN)
    assert failed.source_ip == OFFICE
    assert signed_in.source_ip == OFFICE


def test_without_a_proxy_the_header_is_ignored(client, evaluator, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    _fail(client, evaluator.email, REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILED).source_ip == "192.0.2.10"


# --- API throttle -----------------------------------------------------------------------------


def test_the_api_throttle_reads_the_same_address(rf, behind_proxy):
    request = rf.post("/api/v1/agreements/", **_forged(5))
    assert WriteRateThrottle().get_ident(request) == OFFICE
