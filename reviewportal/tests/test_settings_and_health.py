import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]


def _start_django(env_overrides: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "CREDENTIAL_KEYS"}}
    env.update({"DJANGO_SETTINGS_MODULE": "reviewportal.settings", **env_overrides})
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_secret_key():
    result = _start_django({"DEBUG": "0", "ALLOWED_HOSTS": "portal.example.gov"})
    assert result.returncode != 0
    assert "The environment variable SECRET_KEY is required when DEBUG is off." in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = _start_django({"DEBUG": "0", "SECRET_KEY": "x" * 50})
    assert result.returncode != 0
    assert "The environment variable ALLOWED_HOSTS is required when DEBUG is off." in result.stderr


def test_bad_boolean_names_the_variable():
    result = _start_django({"DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DEBUG must be one of" in result.stderr


def test_production_starts_with_its_required_settings():
    result = _start_django(
        {
            "DEBUG": "0",
            "SECRET_KEY": "x" * 50,
            "ALLOWED_HOSTS": "portal.example.gov",
            "CREDENTIAL_KEYS": "q3nQ0YqU1u7yqEJ5Qx9l3v2Xo6r6eYcY5t0yW3Yb8aM=",
        }
    )
    assert result.returncode == 0, result.stderr


def test_passwords_are_hashed_with_argon2_in_production_settings():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; import django; django.setup(); print(settings.PASSWORD_HASHERS[0])",
        ],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "reviewportal.settings", "DEBUG": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_healthz_is_liveness_and_asks_no_database(client):
    # No django_db mark: any query would raise (and the client with it); liveness must not need one.
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_healthz_stays_200_while_the_broker_is_down_so_no_web_process_is_restarted(client):
    from reviewportal.celery import app

    original = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:9/0"  # nothing listens on the discard port
    try:
        live = client.get(reverse("healthz"))
        ready = client.get(reverse("readyz"))
    finally:
        app.conf.broker_url = original
    assert live.status_code == 200 and live.json() == {"status": "ok"}
    # Readiness is the check that takes the node out of rotation (reviewportal/tests/test_operations.py).
    assert ready.status_code == 503 and ready.json()["broker"].startswith("unavailable")


def test_postgresql_connections_turn_off_jit_compilation():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; from django.conf import settings; django.setup();"
            " print(settings.DATABASES['default']['OPTIONS']['options'])",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "reviewportal.settings",
            "DEBUG": "1",
            "DATABASE_URL": "postgres://portal@db.internal:5432/portal",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "-c jit=off", result.stderr
