import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

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


def test_seed_demo_records_every_company_engagement_and_one_only_in_discussion(db, settings):
    from accounts.models import EngagementChange, Organisation
    from accounts.states import EngagementStage
    from agreements.models import Agreement

    settings.DEBUG = True
    call_command("seed_demo")
    call_command("seed_demo")
    stages = dict(Organisation.objects.filter(kind=Organisation.Kind.DEVELOPER).values_list("name", "engagement_stage"))
    assert stages == {
        "Alpha AI": EngagementStage.SIGNED,
        "Beta AI": EngagementStage.SIGNED,
        "Gamma AI": EngagementStage.NEGOTIATING,
        "Delta AI": EngagementStage.IN_DISCUSSION,
    }
    delta = Organisation.objects.get(name="Delta AI")
    assert not Agreement.objects.filter(organisation=delta).exists()
    assert delta.engagement_changed_by.email == "admin@caisi.example"
    # Recorded once, however often the demo is loaded; the history is dated as it happened.
    alpha_history = EngagementChange.objects.filter(organisation__name="Alpha AI")
    assert alpha_history.count() == 4
    assert alpha_history.first().disclosure_to is True
    assert Organisation.objects.get(name="Alpha AI").disclosure_permitted
    assert not Organisation.objects.get(name="Beta AI").disclosure_permitted
    oldest = alpha_history.last()
    assert (timezone.now() - oldest.changed_at).days == 130
