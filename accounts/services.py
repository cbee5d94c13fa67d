"""Services of the accounts app: people's access (deactivation, roles) and personal API tokens.

People are deactivated, never deleted, so every record keeps its author; a
role changes only through ``membership_change_role``, which keeps a role to
its kind of organisation and a lead of an open case a lead.


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
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import AGENCY_ROLES, ApiToken, EngagementChange, Membership, Organisation, Role, User
from accounts.permissions import require
from accounts.states import EngagementStage, engagement_move_to, engagement_targets
from audit.models import AuditEvent
from audit.services import audit_record
from core.control_characters import control_character_message
from core.errors import RuleViolation, TransitionNotAllowed

TOKEN_MARK = "rp"  # noqa: S105 - the fixed marker at the start of every token, not a secret
PREFIX_BYTES = 6  # 12 hex characters: unique lookup key, not secret
SECRET_BYTES = 32  # 256 bits of randomness: a fast hash is enough, no dictionary can find it


class TokenRejected(Exception):
    """A presented token that does not (or no longer) authenticate; the message says why."""


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# --- People's access ------------------------------------------------------------------------


def _set_active(*, actor: Any, user: User, active: bool, request=None) -> User:
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.is_active == active:
            raise TransitionNotAllowed(f"{locked.email} is already {'active' if active else 'deactivated'}.")
        locked.is_active = active
        locked.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            action=AuditEvent.Action.TRANSITION,
            obj=locked,
            summary=f"Account {'reactivated' if active else 'deactivated'}: {locked.email}",
            changes={"is_active": {"from": not active, "to": active}},
            request=request,
        )
    return locked


def user_deactivate(*, actor: Any, user: User, request=None) -> User:
    """End a person's access: no sign-in, no API token, no reminders. Programme admins only.

    The account and everything it made stay (users are never deleted). An
    admin cannot deactivate their own account; another admin must.
    """
    require(actor, "user.manage", user)
    if user.pk == getattr(actor, "pk", None):
        raise RuleViolation("You cannot deactivate your own account; another programme admin must.")
    return _set_active(actor=actor, user=user, active=False, request=request)


def user_reactivate(*, actor: Any, user: User, request=None) -> User:
    """Give a deactivated person their access back, with the role they had. Programme admins only."""
    require(actor, "user.manage", user)
    return _set_active(actor=actor, user=user, active=True, request=request)


# What another app needs a role for. Accounts sits below the apps that hand out work by role
# (a case has a lead), so each of them adds its check here when it loads (AppConfig.ready()).
RoleChangeGuard = Callable[..., None]
_role_change_guards: list[RoleChangeGuard] = []


def role_change_guard_register(guard: RoleChangeGuard) -> None:
    """Have ``membership_change_role`` call ``guard(membership=..., role=...)`` before a role changes.

    The guard gets the locked membership, still holding its current role, and the role asked
    for; it raises ``RuleViolation`` (on ``role``) to refuse, and the role stays as it was.
    Registering the same guard twice has no further effect.
    """
    if guard not in _role_change_guards:
        _role_change_guards.append(guard)


def membership_change_role(*, actor: Any, membership: Membership, role: str, request=None) -> Membership:
    """Change the role a person holds in their organisation. Programme admins only.

    Refused (``RuleViolation`` on ``role``) for one's own role, for a role
    that does not belong to the organisation's kind (centre roles at the
    centre, the liaison role at a company), and by any registered role
    change guard (a lead who still leads an open case must hand it to
    another lead first). The organisation itself never changes: someone who
    joins another organisation gets a new account.
    """
    require(actor, "user.manage", membership.user)
    if role not in Role.values:
        raise RuleViolation("Choose a role.", errors={"role": ["Choose a role."]})
    if membership.user_id == getattr(actor, "pk", None):
        message = "You cannot change your own role; another programme admin must."
        raise RuleViolation(message, errors={"role": [message]})
    with transaction.atomic():
        locked = Membership.objects.select_for_update().select_related("user", "organisation").get(pk=membership.pk)
        old = locked.role
        if old == role:
            return locked
        person, organisation = locked.user, locked.organisation
        if role in AGENCY_ROLES and organisation.kind != Organisation.Kind.AGENCY:
            message = (
                f"Centre roles can only be held by members of the centre. {person.email} belongs to {organisation}."
            )
            raise RuleViolation(message, errors={"role": [message]})
        if role == Role.LIAISON and organisation.kind == Organisation.Kind.AGENCY:
            message = f"The liaison role is for a company's staff. {person.email} belongs to the centre."
            raise RuleViolation(message, errors={"role": [message]})
        for guard in _role_change_guards:
            guard(membership=locked, role=role)
        locked.role = role
        locked.save(update_fields=["role"])
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CHANGE,
            obj=person,
            summary=f"Role changed from {Role(old).label} to {Role(role).label}",
            changes={"role": {"from": old, "to": role}},
            request=request,
        )
    return locked


# --- Personal API tokens --------------------------------------------------------------------


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


# --- A company's engagement with the programme ----------------------------------------------

NOTE_MAX = EngagementChange._meta.get_field("note").max_length


def organisation_engagement_change(
    *,
    actor: Any,
    organisation: Organisation,
    stage: str | None = None,
    disclosure_permitted: bool | None = None,
    note: str = "",
    request=None,
) -> EngagementChange:
    """Move a company to engagement ``stage`` and/or set whether its participation may be disclosed.

    Programme admins only (policy action ``organisation.engage``), for developer companies only.
    ``None`` leaves that part as it is. A stage move must be one of ``accounts.states``
    (``TransitionNotAllowed`` otherwise, naming the stages it could go to); lapsing needs a
    ``note`` saying why. Asking for nothing new is refused. In one transaction: the organisation's
    stage (with when and by whom) and flag, one ``EngagementChange`` row for the history, and the
    audit event. No agreement is needed at any stage: a company can be "in discussion" without one.
    """
    require(actor, "organisation.engage", organisation, "Only programme admins record a company's engagement.")
    note = (note or "").strip()
    if stage is not None and stage not in EngagementStage.values:
        raise RuleViolation("Choose an engagement stage.", errors={"stage": ["Choose an engagement stage."]})
    note_problem = control_character_message(note, text=True)
    if note_problem is None and len(note) > NOTE_MAX:
        note_problem = f"Keep the note under {NOTE_MAX} characters (it has {len(note)})."
    if note_problem:
        raise RuleViolation(note_problem, errors={"note": [note_problem]})
    with transaction.atomic():
        locked = Organisation.objects.select_for_update().get(pk=organisation.pk)
        old_stage, old_disclosure = locked.engagement_stage, locked.disclosure_permitted
        new_stage = old_stage if stage is None else stage
        new_disclosure = old_disclosure if disclosure_permitted is None else bool(disclosure_permitted)
        if new_stage == old_stage and new_disclosure == old_disclosure:
            message = (
                f"{locked.name} is already {EngagementStage(old_stage).label.lower()}"
                f" and its participation {'may' if old_disclosure else 'may not'} be disclosed; nothing changed."
            )
            raise TransitionNotAllowed(message)
        changes: dict[str, Any] = {}
        now = timezone.now()
        if new_stage != old_stage:
            move = engagement_move_to(old_stage, new_stage)
            if move is None:
                allowed = ", ".join(EngagementStage(s).label.lower() for s in engagement_targets(old_stage))
                message = (
                    f"{locked.name} cannot go from {EngagementStage(old_stage).label.lower()} to "
                    f"{EngagementStage(new_stage).label.lower()}; from there it can become: {allowed}."
                )
                raise TransitionNotAllowed(message, errors={"stage": [message]})
            if move.needs_reason and not note:
                message = f"Say why {locked.name} is recorded as {EngagementStage(new_stage).label.lower()}."
                raise RuleViolation(message, errors={"note": [message]})
            locked.engagement_stage = new_stage
            locked.engagement_changed_at = now
            locked.engagement_changed_by = actor
            changes["engagement_stage"] = {"from": old_stage, "to": new_stage}
        if new_disclosure != old_disclosure:
            locked.disclosure_permitted = new_disclosure
            changes["disclosure_permitted"] = {"from": old_disclosure, "to": new_disclosure}
        locked.save(
            update_fields=["engagement_stage", "engagement_changed_at", "engagement_changed_by", "disclosure_permitted"]
        )
        change = EngagementChange.objects.create(
            organisation=locked,
            stage_from=old_stage,
            stage_to=new_stage,
            disclosure_from=old_disclosure,
            disclosure_to=new_disclosure,
            note=note,
            changed_at=now,
            changed_by=actor,
        )
        parts = []
        if "engagement_stage" in changes:
            parts.append(
                f"engagement {EngagementStage(old_stage).label.lower()} → {EngagementStage(new_stage).label.lower()}"
            )
        if "disclosure_permitted" in changes:
            parts.append("participation may be disclosed" if new_disclosure else "participation not to be disclosed")
        if note:
            changes["note"] = {"from": None, "to": note}
        audit_record(
            actor=actor,
            action=AuditEvent.Action.TRANSITION if "engagement_stage" in changes else AuditEvent.Action.CHANGE,
            obj=locked,
            summary=f"{locked.name}: {'; '.join(parts)}",
            changes=changes,
            request=request,
        )
    organisation.engagement_stage = locked.engagement_stage
    organisation.engagement_changed_at = locked.engagement_changed_at
    organisation.engagement_changed_by = locked.engagement_changed_by
    organisation.disclosure_permitted = locked.disclosure_permitted
    return change
