"""Sessions end on time and when an account is disabled; repeated failed logins lock out, then release."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import TEST_PASSWORD
from audit.models import AuditEvent

START = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)


def _login(client, user, **extra):
    return client.post(reverse("login"), {"username": user.email, "password": TEST_PASSWORD}, **extra)


def _signed_in(client) -> bool:
    response = client.get(reverse("dashboard"))
    return response.status_code == 200


# --- Sessions -------------------------------------------------------------------------------


def test_login_rotates_the_session_key(client, evaluator):
    client.get(reverse("login"))
    client.cookies["sessionid"] = "attacker-chosen-session-key"
    _login(client, evaluator)
    assert client.cookies["sessionid"].value != "attacker-chosen-session-key"
    assert _signed_in(client)


def test_a_session_idle_past_the_limit_is_logged_out(client, evaluator, settings):
    settings.SESSION_COOKIE_AGE = 30 * 60
    with time_machine.travel(START, tick=False) as clock:
        _login(client, evaluator)
        clock.shift(dt.timedelta(minutes=29))
        assert _signed_in(client)  # each request restarts the idle timer
        clock.shift(dt.timedelta(minutes=29))
        assert _signed_in(client)
        clock.shift(dt.timedelta(minutes=31))
        response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_requests_within_a_minute_do_not_rewrite_the_session(client, evaluator):
    with time_machine.travel(START, tick=False) as clock:
        _login(client, evaluator)
        key = client.session.session_key
        client.get(reverse("dashboard"))
        written = Session.objects.get(session_key=key).expire_date
        clock.shift(dt.timedelta(seconds=50))
        with CaptureQueriesContext(connection) as queries:
            assert _signed_in(client)
        assert not [q for q in queries.captured_queries if "django_session" in q["sql"] and "UPDATE" in q["sql"]]
        assert Session.objects.get(session_key=key).expire_date == written
        clock.shift(dt.timedelta(seconds=20))  # more than a minute since the last write
        assert _signed_in(client)
        assert Session.objects.get(session_key=key).expire_date == written + dt.timedelta(seconds=70)


def test_an_active_session_ends_after_the_absolute_lifetime(client, evaluator, settings):
    settings.SESSION_ABSOLUTE_HOURS = 12
    with time_machine.travel(START, tick=False) as clock:
        _login(client, evaluator)
        for _ in range(12 * 4 - 1):  # busy all day: a request every 15 minutes
            clock.shift(dt.timedelta(minutes=15))
            assert _signed_in(client)
        clock.shift(dt.timedelta(minutes=16))  # 12 h 1 min after sign-in
        response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    ended = AuditEvent.objects.filter(action=AuditEvent.Action.LOGOUT, actor=evaluator).get()
    assert "12 hours" in ended.summary


def test_disabling_an_account_ends_its_session(client, evaluator):
    _login(client, evaluator)
    key = client.session.session_key
    assert _signed_in(client)
    evaluator.is_active = False
    evaluator.save(update_fields=["is_active"])
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not Session.objects.filter(session_key=key).exists()


# --- Lockout -----------------------------------------------------------------------------------


@pytest.fixture
def lockout(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=15)


def _fail(client, user, **extra):
    return client.post(reverse("login"), {"username": user.email, "password": "wrong-guess"}, **extra)


def test_repeated_failures_lock_the_account_then_release_after_the_cool_off(client, evaluator, lockout):
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(2):
            assert _fail(client, evaluator).status_code == 200
        locked = _fail(client, evaluator)
        assert locked.status_code == 429
        assert "Too many failed sign-ins" in locked.content.decode()
        assert "Try again in 15 minutes." in locked.content.decode()
        # Even the right password is refused during the lockout.
        assert _login(client, evaluator).status_code == 429
        assert not _signed_in(client)

        clock.shift(dt.timedelta(minutes=16))
        response = _login(client, evaluator)
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILED, summary__contains="locked out").exists()


def test_failures_during_the_lockout_do_not_extend_it(client, evaluator, lockout):
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(3):
            _fail(client, evaluator)
        for _ in range(10):  # an attacker keeps hammering
            clock.shift(dt.timedelta(minutes=1))
            assert _fail(client, evaluator).status_code == 429
        clock.shift(dt.timedelta(minutes=6))  # 16 minutes after the lockout began
        assert _login(client, evaluator).status_code == 302


def test_lockout_follows_the_account_across_addresses(client, evaluator, lockout):
    for n in range(3):
        _fail(client, evaluator, REMOTE_ADDR=f"198.51.100.{n + 1}")
    assert _login(client, evaluator, REMOTE_ADDR="192.0.2.44").status_code == 429
