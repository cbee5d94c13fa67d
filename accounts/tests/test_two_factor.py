"""Two-factor authentication: enrolment with a QR code, codes after the password, backup codes, the gate."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.security import BACKUP_CODE_COUNT, check_security_settings
from audit.models import AuditEvent

SETUP = "/accounts/2fa/"
VERIFY = "/accounts/2fa/verify/"


def code_for(device: TOTPDevice) -> str:
    return TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()


def _code_str(device: TOTPDevice) -> str:
    return f"{code_for(device):0{device.digits}d}"


@pytest.fixture
def require_2fa(settings):
    settings.REQUIRE_2FA = True


@pytest.fixture
def enrolled(evaluator):
    """The evaluator with a confirmed authenticator app and one backup code."""
    device = TOTPDevice.objects.create(user=evaluator, name="Authenticator app", confirmed=True)
    backup = evaluator.staticdevice_set.create(name="Backup codes", confirmed=True)
    backup.token_set.create(token="backupcode123456")
    return device


# --- The gate -----------------------------------------------------------------------------


def test_in_development_login_goes_straight_to_the_dashboard(client, evaluator, settings):
    from accounts.tests.factories import TEST_PASSWORD

    settings.REQUIRE_2FA = False
    response = client.post(reverse("login"), {"username": evaluator.email, "password": TEST_PASSWORD})
    assert response["Location"] == reverse("dashboard")
    assert client.get(reverse("dashboard")).status_code == 200


def test_evaluator_without_a_second_factor_cannot_reach_dashboard_or_case_pages(
    require_2fa, client_for, evaluator, case
):
    client = client_for(evaluator)
    case_url = reverse("assessments:detail", kwargs={"reference": case.reference})
    for url in (reverse("dashboard"), case_url):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(SETUP + "?next=")
    page = client.get(SETUP + f"?next={case_url}")
    body = page.content.decode()
    assert page.status_code == 200
    assert 'src="data:image/svg+xml;base64,' in body
    assert "Alpha-Frontier" not in body  # nothing of the case before the second factor


def test_session_api_call_needs_the_second_factor_but_a_bearer_token_does_not(require_2fa, client, liaison_a):
    from accounts.services import api_token_create

    client.force_login(liaison_a)
    refused = client.get("/api/v1/organisations/")
    assert refused.status_code == 403
    assert "Two-factor" in refused.json()["detail"]
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DENIED, actor=liaison_a).exists()

    client.logout()
    _, token = api_token_create(actor=liaison_a, user=liaison_a, name="script", days=5)
    assert client.get("/api/v1/organisations/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200


def test_admin_needs_a_verified_session_too(require_2fa, client_for, admin_user, rf):
    from django.contrib import admin

    response = client_for(admin_user).get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(SETUP)

    request = rf.get("/admin/")
    request.session = {}
    request.user = admin_user
    admin_user.is_verified = lambda: False
    assert admin.site.has_permission(request) is False
    admin_user.is_verified = lambda: True
    assert admin.site.has_permission(request) is True


def test_someone_who_enrolled_is_always_asked_for_the_code(settings, client_for, evaluator, enrolled):
    settings.REQUIRE_2FA = False  # even in the relaxed demo mode
    response = client_for(evaluator).get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)


# --- Enrolment ----------------------------------------------------------------------------------


def test_enrolment_with_the_qr_code_turns_2fa_on_and_shows_backup_codes_once(require_2fa, client_for, evaluator):
    client = client_for(evaluator)
    page = client.get(SETUP)
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=evaluator, confirmed=False)
    assert client.get(SETUP).status_code == 200
    assert TOTPDevice.objects.filter(user=evaluator).count() == 1  # reloading keeps the same QR code

    response = client.post(SETUP, {"token": _code_str(device), "next": "/"})
    body = response.content.decode()
    assert response.status_code == 200
    codes = re.findall(r"<code>([a-z0-9]{8,})</code>", body)
    assert len(codes) == BACKUP_CODE_COUNT
    device.refresh_from_db()
    assert device.confirmed
    assert set(StaticToken.objects.filter(device__user=evaluator).values_list("token", flat=True)) == set(codes)
    assert AuditEvent.objects.filter(actor=evaluator, summary__startswith="Two-factor authentication enabled").exists()

    assert client.get(reverse("dashboard")).status_code == 200  # this session is verified
    status = client.get(SETUP).content.decode()
    assert f"{BACKUP_CODE_COUNT} unused backup codes left" in status
    assert codes[0] not in status  # backup codes are never shown again


def test_wrong_enrolment_code_says_why_and_leaves_2fa_off(require_2fa, client_for, evaluator):
    client = client_for(evaluator)
    client.get(SETUP)
    response = client.post(SETUP, {"token": "000000"})
    assert "That code is not right" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=evaluator, confirmed=True).exists()
    assert client.get(reverse("dashboard")).status_code == 302


def test_an_unverified_session_cannot_add_another_authenticator(require_2fa, client_for, evaluator, enrolled):
    client = client_for(evaluator)
    response = client.get(SETUP)
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)
    client.post(SETUP, {"token": "123456"})
    assert TOTPDevice.objects.filter(user=evaluator).count() == 1


# --- Verification after the password ---------------------------------------------------------------


@time_machine.travel("2026-05-04 10:00:05Z", tick=False)
def test_a_correct_code_verifies_and_the_same_code_is_refused_the_second_time(require_2fa, client, evaluator, enrolled):
    from django.test import Client

    code = _code_str(enrolled)
    client.force_login(evaluator)
    response = client.post(VERIFY, {"token": code, "next": reverse("profile")})
    assert response.status_code == 302
    assert response["Location"] == reverse("profile")
    assert client.get(reverse("dashboard")).status_code == 200

    other = Client()
    other.force_login(evaluator)
    replay = other.post(VERIFY, {"token": code})
    assert replay.status_code == 200
    assert "already" in replay.content.decode()
    assert other.get(reverse("dashboard")).status_code == 302
    refused = AuditEvent.objects.filter(actor=evaluator, action=AuditEvent.Action.LOGIN_FAILED)
    assert refused.count() == 1


def test_verification_rotates_the_session_key(require_2fa, client, evaluator, enrolled):
    client.force_login(evaluator)
    before = client.session.session_key
    client.post(VERIFY, {"token": _code_str(enrolled)})
    assert client.session.session_key != before


def test_a_backup_code_works_once(require_2fa, client, evaluator, enrolled):
    from django.test import Client

    client.force_login(evaluator)
    assert client.post(VERIFY, {"token": "backupcode123456"}).status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200
    other = Client()
    other.force_login(evaluator)
    assert other.post(VERIFY, {"token": "backupcode123456"}).status_code == 200
    assert other.get(reverse("dashboard")).status_code == 302


def test_verify_does_not_redirect_off_site(require_2fa, client, evaluator, enrolled):
    client.force_login(evaluator)
    response = client.post(VERIFY, {"token": _code_str(enrolled), "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_new_backup_codes_need_a_verified_session_and_replace_the_old(require_2fa, client, evaluator, enrolled):
    client.force_login(evaluator)
    assert client.post(reverse("twofactor:backup_codes")).status_code == 302
    assert StaticToken.objects.filter(token="backupcode123456").exists()
    client.post(VERIFY, {"token": _code_str(enrolled)})
    response = client.post(reverse("twofactor:backup_codes"))
    assert response.status_code == 200
    assert not StaticToken.objects.filter(token="backupcode123456").exists()
    assert StaticToken.objects.filter(device__user=evaluator).count() == BACKUP_CODE_COUNT


# --- Offered to everyone, checked at deploy --------------------------------------------------------------


def test_profile_offers_2fa_enrolment(client_for, liaison_a):
    body = client_for(liaison_a).get(reverse("profile")).content.decode()
    assert f'href="{SETUP}"' in body


def test_deploy_check_warns_when_2fa_is_relaxed(settings):
    settings.REQUIRE_2FA = False
    assert [m.id for m in check_security_settings()] == ["reviewportal.W001"]
    settings.REQUIRE_2FA = True
    assert check_security_settings() == []
