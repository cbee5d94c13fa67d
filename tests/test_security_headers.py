"""Response headers: CSP with nonces on every HTML page, framing, referrer, no-store; `check --deploy` clean."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent


def _directives(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


@pytest.fixture
def pages(case, agreement_a):
    return [
        reverse("login"),
        reverse("password_reset"),
        reverse("dashboard"),
        reverse("profile"),
        reverse("twofactor:setup"),
        reverse("agreements:list"),
        reverse("agreements:detail", kwargs={"reference": agreement_a.reference}),
        reverse("assessments:detail", kwargs={"reference": case.reference}),
        reverse("admin:index"),
        reverse("admin:audit_auditevent_changelist"),
        "/no-such-page/",
    ]


def test_every_html_page_has_a_strict_csp_with_a_nonce_its_scripts_carry(client_for, admin_user, pages):
    client = client_for(admin_user)
    for url in pages:
        response = client.get(url)
        assert response["Content-Type"].startswith("text/html"), url
        header = response.get("Content-Security-Policy")
        assert header, f"no CSP on {url}"
        directives = _directives(header)
        script_src = directives["script-src"]
        assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src, url
        assert directives["frame-ancestors"] == ["'none'"], url
        assert directives["object-src"] == ["'none'"], url
        body = response.content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", body), (
            f"inline script on {url}"
        )
        for nonce in re.findall(r'<script[^>]*nonce="([^"]+)"', body):
            assert f"'nonce-{nonce}'" in script_src, url
        assert ' style="' not in body or url.startswith("/admin/"), f"inline style attribute on {url}"


def test_portal_pages_carry_the_other_protective_headers(client_for, evaluator):
    response = client_for(evaluator).get(reverse("dashboard"))
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_nothing_a_signed_in_person_receives_is_cached(client_for, evaluator, case):
    client = client_for(evaluator)
    for url in (reverse("dashboard"), reverse("assessments:detail", kwargs={"reference": case.reference}), "/api/v1/"):
        assert "no-store" in client.get(url)["Cache-Control"], url


def test_api_calls_with_a_token_are_not_cached(client, liaison_a):
    from accounts.services import api_token_create

    _, token = api_token_create(actor=liaison_a, user=liaison_a, name="script", days=5)
    response = client.get("/api/v1/organisations/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_hsts_on_https_in_production(client, db, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = client.get(reverse("login"), secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000; includeSubDomains")


def test_check_deploy_is_clean_under_production_settings(tmp_path):
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "k" + Fernet.generate_key().decode() + Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "portal.example.gov",
        "CREDENTIAL_KEYS": Fernet.generate_key().decode(),
        "DJANGO_SETTINGS_MODULE": "reviewportal.settings",
        "VAR_DIR": str(tmp_path),
        # CI's DATABASE_URL is the postgres superuser; production connects as the app role (audit.W001).
        "ALLOW_SUPERUSER_DB": "1",
    }
    for name in ("REQUIRE_2FA", "AXES_ENABLED", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS"):
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_when_2fa_is_relaxed_in_production(tmp_path):
    env = {
        **os.environ,
        "DEBUG": "0",
        "REQUIRE_2FA": "0",
        "SECRET_KEY": "k" + Fernet.generate_key().decode() + Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "portal.example.gov",
        "CREDENTIAL_KEYS": Fernet.generate_key().decode(),
        "DJANGO_SETTINGS_MODULE": "reviewportal.settings",
        "VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "reviewportal.W001" in result.stdout + result.stderr
