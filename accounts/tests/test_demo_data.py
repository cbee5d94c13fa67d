import pytest
from django.core.management import CommandError, call_command

from accounts.demo import DEMO_USERS
from accounts.models import Role, User


def test_seed_demo_is_idempotent_and_prints_logins(db, settings, capsys):
    settings.DEBUG = True
    call_command("seed_demo")
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert User.objects.filter(email__in=[e for e, *_ in DEMO_USERS.values()]).count() == len(DEMO_USERS)
    assert "liaison@gamma-ai.example" in out
    assert f"password for all: {settings.DEMO_PASSWORD}" in out
    assert User.objects.get(email="lead2@caisi.example").role == Role.LEAD_EVALUATOR
    assert User.objects.get(email="liaison@beta-ai.example").organisation.name == "Beta AI"


def test_seed_demo_refuses_demo_password_when_debug_is_off(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="Refusing to create demo accounts"):
        call_command("seed_demo")
    assert not User.objects.exists()
