"""Personal API tokens: created in the portal or on the command line, shown once, stored hashed."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import ApiToken
from accounts.services import api_token_create
from accounts.tests.factories import UserFactory
from audit.models import AuditEvent

TOKEN_RE = re.compile(r"rp_[0-9a-f]{12}_[A-Za-z0-9_\-]{43}")
ORGANISATIONS = "/api/v1/organisations/"


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def create_in_portal(client, name="export script", days=30):
    response = client.post(reverse("api_tokens"), {"name": name, "days": days})
    assert response.status_code == 200
    found = TOKEN_RE.findall(response.content.decode())
    assert len(set(found)) == 1, "the new token is shown exactly once, on the creation response"
    return response, found[0]


def test_token_created_in_portal_is_shown_once_and_only_its_hash_is_stored(client_for, liaison_a):
    client = client_for(liaison_a)
    response, plaintext = create_in_portal(client)
    assert response["Cache-Control"] == "no-store"
    assert "will not be shown again" in response.content.decode()

    token = ApiToken.objects.get(user=liaison_a)
    _, prefix, secret = plaintext.split("_", 2)
    assert token.prefix == prefix
    assert token.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    # No column of the row holds the secret or the whole token.
    stored = " ".join(str(getattr(token, f.attname)) for f in ApiToken._meta.concrete_fields)
    assert secret not in stored and plaintext not in stored

    listing = client.get(reverse("api_tokens")).content.decode()
    assert "export script" in listing
    assert f"rp_{prefix}_" in listing
    assert secret not in listing


def test_token_authenticates_api_calls_as_its_user_with_the_same_scope(client, liaison_a, company_b, centre):
    _, plaintext = api_token_create(actor=liaison_a, user=liaison_a, name="script", days=5)
    response = client.get(ORGANISATIONS, **bearer(plaintext))
    assert response.status_code == 200
    names = {row["name"] for row in response.json()["results"]}
    assert names == {"Company A", "Test Centre"}  # never Company B, exactly as in the portal


def test_bad_lifetime_keeps_what_was_typed_and_says_why(client_for, evaluator, settings):
    settings.API_TOKEN_MAX_DAYS = 30
    response = client_for(evaluator).post(reverse("api_tokens"), {"name": "nightly export", "days": 400})
    body = response.content.decode()
    assert response.status_code == 200
    assert 'value="nightly export"' in body
    assert "A token can last at most 30 days." in body
    assert not ApiToken.objects.exists()


def test_expired_token_answers_401_with_a_clear_message(client, evaluator):
    with time_machine.travel("2026-03-01 12:00Z", tick=False):
        _, plaintext = api_token_create(actor=evaluator, user=evaluator, name="short", days=7)
        assert client.get(ORGANISATIONS, **bearer(plaintext)).status_code == 200
    with time_machine.travel("2026-03-08 12:00Z", tick=False):
        response = client.get(ORGANISATIONS, **bearer(plaintext))
    assert response.status_code == 401
    assert response.json() == {
        "detail": "This token expired on 2026-03-08. Create a new one in your profile.",
        "code": "authentication_failed",
        "errors": {},
    }
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_revoked_token_answers_401_and_revocation_is_audited(client, client_for, lead):
    token, plaintext = api_token_create(actor=lead, user=lead, name="ci", days=30)
    portal = client_for(lead)
    response = portal.post(reverse("api_token_revoke", args=[token.public_id]), follow=True)
    assert "The token &#x27;ci&#x27; was revoked" in response.content.decode()
    portal.logout()

    response = client.get(ORGANISATIONS, **bearer(plaintext))
    assert response.status_code == 401
    assert response.json()["detail"].startswith("This token was revoked on")
    events = AuditEvent.objects.filter(object_type="accounts.apitoken", object_id=str(token.public_id))
    assert {e.action for e in events} == {AuditEvent.Action.CREATE, AuditEvent.Action.TRANSITION}
    assert all(plaintext.split("_", 2)[2] not in str(e.changes) + e.summary for e in events)


def test_revoking_twice_says_it_was_already_revoked(client_for, lead):
    token, _ = api_token_create(actor=lead, user=lead, name="ci", days=30)
    client = client_for(lead)
    client.post(reverse("api_token_revoke", args=[token.public_id]))
    response = client.post(reverse("api_token_revoke", args=[token.public_id]), follow=True)
    assert "was already revoked" in response.content.decode()


def test_someone_elses_token_cannot_be_revoked_and_is_a_404(client_for, lead, evaluator):
    token, plaintext = api_token_create(actor=lead, user=lead, name="ci", days=30)
    response = client_for(evaluator).post(reverse("api_token_revoke", args=[token.public_id]))
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_tokens_page_lists_only_your_own_tokens(client_for, lead, evaluator):
    api_token_create(actor=lead, user=lead, name="lead's secret script", days=30)
    body = client_for(evaluator).get(reverse("api_tokens")).content.decode()
    assert "lead&#x27;s secret script" not in body
    assert "You have no API tokens yet." in body


def test_disabled_users_token_stops_working(client, evaluator):
    _, plaintext = api_token_create(actor=evaluator, user=evaluator, name="script", days=30)
    evaluator.is_active = False
    evaluator.save(update_fields=["is_active"])
    response = client.get(ORGANISATIONS, **bearer(plaintext))
    assert response.status_code == 401
    assert response.json()["detail"] == "The account this token belongs to is disabled."


@pytest.mark.parametrize(
    "header",
    ["Bearer rp_000000000000_not-a-real-secret-at-all", "Bearer nonsense", "Bearer two parts", "Bearer"],
)
def test_wrong_or_malformed_tokens_answer_401(client, db, header):
    response = client.get(ORGANISATIONS, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_right_prefix_with_wrong_secret_is_refused(client, evaluator):
    token, plaintext = api_token_create(actor=evaluator, user=evaluator, name="script", days=30)
    forged = f"rp_{token.prefix}_" + "A" * 43
    assert client.get(ORGANISATIONS, **bearer(forged)).status_code == 401


def test_last_use_is_recorded(client, evaluator):
    token, plaintext = api_token_create(actor=evaluator, user=evaluator, name="script", days=30)
    client.get(ORGANISATIONS, **bearer(plaintext))
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_session_writes_still_need_csrf_but_token_writes_do_not(liaison_a):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(liaison_a)
    response = client.post(ORGANISATIONS, {}, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]

    _, plaintext = api_token_create(actor=liaison_a, user=liaison_a, name="script", days=30)
    anonymous = Client(enforce_csrf_checks=True)
    response = anonymous.post(ORGANISATIONS, {}, content_type="application/json", **bearer(plaintext))
    # Authenticated without any CSRF token; then refused only because organisations are read-only.
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert "CSRF" not in response.json()["detail"]


# --- The command line ----------------------------------------------------------------------


def test_command_prints_a_working_token_once_and_audits_it(client, evaluator):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "create_api_token", evaluator.email.upper(), "--name", "nightly export", "--days", "10", stdout=out, stderr=err
    )
    plaintext = out.getvalue().strip()
    assert TOKEN_RE.fullmatch(plaintext)
    assert "will not be shown again" in err.getvalue()
    token = ApiToken.objects.get(user=evaluator)
    assert token.name == "nightly export"
    assert token.expires_at - token.created_at == timedelta(days=10)
    assert client.get(ORGANISATIONS, **bearer(plaintext)).status_code == 200
    assert AuditEvent.objects.filter(
        object_id=str(token.public_id), action=AuditEvent.Action.CREATE, summary__contains="command line"
    ).exists()


def test_command_refuses_unknown_email_and_bad_lifetime(evaluator, settings):
    settings.API_TOKEN_MAX_DAYS = 90
    with pytest.raises(CommandError, match="No user with the email address"):
        call_command("create_api_token", "nobody@example.test", "--name", "x", stdout=io.StringIO())
    with pytest.raises(CommandError, match="1 to 90 days"):
        call_command("create_api_token", evaluator.email, "--name", "x", "--days", "91", stdout=io.StringIO())
    assert not ApiToken.objects.exists()


def test_command_refuses_a_disabled_account(db):
    user = UserFactory(is_active=False)
    with pytest.raises(CommandError, match="disabled"):
        call_command("create_api_token", user.email, "--name", "x", stdout=io.StringIO())


def test_expiry_is_computed_from_now(evaluator):
    with time_machine.travel("2026-05-01 09:30Z", tick=False):
        token, _ = api_token_create(actor=evaluator, user=evaluator, name="x", days=3)
    assert token.expires_at == datetime(2026, 5, 4, 9, 30, tzinfo=UTC)


def test_admin_revokes_a_token_from_the_admin_and_it_is_audited(client_for, admin_user, lead):
    token, plaintext = api_token_create(actor=lead, user=lead, name="ci", days=30)
    client = client_for(admin_user)
    changelist = reverse("admin:accounts_apitoken_changelist")
    body = client.get(changelist).content.decode()
    assert "ci" in body and plaintext.split("_", 2)[2] not in body and token.secret_hash not in body
    client.post(changelist, {"action": "revoke_selected", "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEvent.objects.filter(
        object_id=str(token.public_id), action=AuditEvent.Action.TRANSITION, actor=admin_user
    ).exists()
