"""Services of the accounts app: personal API tokens.

A token reads ``rp_<prefix>_<secret>``. Only the prefix (for the lookup) and
the SHA-256 of the secret are stored; the whole token is returned once, by
``api_token_create``, and never again. Why not django-rest-knox: knox keeps
its own token model and views, logs in and out through its own endpoints and
has no notion of a named token with a user-chosen expiry that the portal
lists and revokes; our needs are one small model, three functions and an
authentication class, all going through the one policy and the audit trail.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import ApiToken, User
from accounts.permissions import require
from audit.models import AuditEvent
from audit.services import audit_record
from reviewportal.errors import RuleViolation, TransitionNotAllowed

TOKEN_MARK = "rp"  # noqa: S105 - the fixed marker at the start of every token, not a secret
PREFIX_BYTES = 6  # 12 hex characters: unique lookup key, not secret
SECRET_BYTES = 32  # 256 bits of randomness: a fast hash is enough, no dictionary can find it


class TokenRejected(Exception):
    """A presented token that does not (or no longer) authenticate; the message says why."""


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_token_max_days() -> int:
    return int(getattr(settings, "API_TOKEN_MAX_DAYS", 365))


def api_token_create(
    *, actor: Any, user: User, name: str, days: int, request=None, source: str = "portal"
) -> tuple[ApiToken, str]:
    """Create a token for ``user`` valid for ``days`` days and return it with its plaintext.

    ``actor`` is the person creating it: the user themselves in the portal
    (policy action ``apitoken.create``), or ``None`` for the administrator's
    command line, where shell access to the server is the authority. The
    plaintext is returned here only; callers show it once and drop it.
    """
    if actor is not None:
        require(actor, "apitoken.create", user)
    name = (name or "").strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["Give the token a name that says what it is for."]
    elif len(name) > ApiToken._meta.get_field("name").max_length:
        errors["name"] = ["Keep the name under 100 characters."]
    max_days = api_token_max_days()
    if not isinstance(days, int) or not 1 <= days <= max_days:
        errors["days"] = [f"A token must expire in 1 to {max_days} days."]
    if not user.is_active:
        errors["user"] = [f"{user.email} is disabled; a disabled account cannot hold API tokens."]
    if errors:
        raise RuleViolation("The token could not be created.", errors=errors)

    now = timezone.now()
    with transaction.atomic():
        for _attempt in range(3):
            prefix = secrets.token_hex(PREFIX_BYTES)
            secret = secrets.token_urlsafe(SECRET_BYTES)
            try:
                with transaction.atomic():
                    token = ApiToken.objects.create(
                        user=user,
                        name=name,
                        prefix=prefix,
                        secret_hash=_hash_secret(secret),
                        created_at=now,
                        expires_at=now + timedelta(days=days),
                        created_by=actor if actor is not None else None,
                    )
                break
            except IntegrityError:  # a prefix collision (one in 2**48): draw again
                continue
        else:  # pragma: no cover - three collisions in a row do not happen
            raise RuleViolation("Could not create a unique token; try again.")
        audit_record(
            actor=actor or user,
            action=AuditEvent.Action.CREATE,
            obj=token,
            summary=f"API token '{name}' created for {user.email} ({source}), expires {token.expires_at:%Y-%m-%d}",
            changes={
                "name": {"from": None, "to": name},
                "expires_at": {"from": None, "to": token.expires_at.isoformat()},
            },
            request=request,
            object_repr=str(token),
        )
    return token, f"{TOKEN_MARK}_{prefix}_{secret}"


def api_token_revoke(*, actor: Any, token: ApiToken, request=None) -> ApiToken:
    """Revoke ``token`` now: its next use answers 401. Owner or programme admin only."""
    require(actor, "apitoken.revoke", token)
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is not None:
            raise TransitionNotAllowed(
                f"The token '{locked.name}' was already revoked on {locked.revoked_at:%Y-%m-%d}."
            )
        was = locked.status
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action=AuditEvent.Action.TRANSITION,
            obj=locked,
            summary=f"API token '{locked.name}' of {locked.user.email} revoked",
            changes={
                "status": {"from": was, "to": "revoked"},
                "revoked_at": {"from": None, "to": locked.revoked_at.isoformat()},
            },
            request=request,
            object_repr=str(locked),
        )
    return locked


def api_token_authenticate(*, raw: str) -> ApiToken:
    """The live token for ``raw``, or ``TokenRejected`` with a message for the caller.

    The lookup is by prefix; the secret is compared as SHA-256 digests with
    ``hmac.compare_digest`` so the comparison time says nothing about it.
    ``last_used_at`` is written at most once a minute per token.
    """
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_MARK or not parts[1] or not parts[2]:
        raise TokenRejected("Invalid token: expected 'rp_<prefix>_<secret>'.")
    _mark, prefix, secret = parts
    token = ApiToken.objects.select_related("user", "user__membership").filter(prefix=prefix).first()
    # Hash even when there is no such prefix, so both paths take the same time.
    presented = _hash_secret(secret)
    stored = token.secret_hash if token is not None else _hash_secret("no-such-token")
    if token is None or not hmac.compare_digest(presented, stored):
        raise TokenRejected("Invalid token.")
    now = timezone.now()
    if token.revoked_at is not None:
        raise TokenRejected(f"This token was revoked on {token.revoked_at:%Y-%m-%d}. Create a new one in your profile.")
    if token.expires_at <= now:
        raise TokenRejected(f"This token expired on {token.expires_at:%Y-%m-%d}. Create a new one in your profile.")
    if not token.user.is_active:
        raise TokenRejected("The account this token belongs to is disabled.")
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
