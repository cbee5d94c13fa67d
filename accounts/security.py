"""Account security: the second factor (TOTP app and backup codes), session bookkeeping, deploy checks.

Services here follow the project's shape: keyword-only, one transaction,
an audit event for each change. Views in accounts/otp_views.py stay thin.

* A user enrols an authenticator app (TOTP, RFC 6238) by scanning a QR code
  and typing one code; the device is confirmed only then, and ten single-use
  backup codes are issued.
* After the password, a user with a confirmed device proves the second
  factor (``second_factor_verify``); a TOTP code is accepted once only
  (django-otp remembers the last time step used) and a backup code is
  consumed when used.
* ``REQUIRE_2FA`` (on in production) makes the second factor compulsory for
  everyone, company liaisons included; the ``deploy`` check below warns when
  it is off. A user who has enrolled is always asked for it.
"""

from __future__ import annotations

import base64
import time
from typing import Any

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.core import checks
from django.core.exceptions import ValidationError
from django.db import transaction
from django.dispatch import receiver
from django_otp import devices_for_user, user_has_device
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.permissions import require
from audit.models import AuditEvent
from audit.services import audit_record

# Session keys.
SESSION_STARTED_AT = "security_started_at"  # when the password login happened (absolute lifetime)
SESSION_LAST_SEEN = "security_last_seen"  # last request (idle limit)
SESSION_HAS_DEVICE = "security_has_device"  # the user has a confirmed second factor: always ask for it

TOTP_DEVICE_NAME = "Authenticator app"
BACKUP_DEVICE_NAME = "Backup codes"
BACKUP_CODE_COUNT = 10


def has_second_factor(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user_has_device(user, confirmed=True)


def second_factor_required(request) -> bool:
    """True when this session must pass the second factor before it may see anything."""
    return bool(settings.REQUIRE_2FA or request.session.get(SESSION_HAS_DEVICE))


def is_verified(user: Any) -> bool:
    check = getattr(user, "is_verified", None)
    return bool(check and check())


@receiver(user_logged_in, dispatch_uid="security_session_start")
def _session_start(sender, request, user, **kwargs) -> None:
    # Django has already rotated the session key; start the clocks and remember whether to ask for the code.
    if request is None or not hasattr(request, "session"):
        return
    now = time.time()
    request.session[SESSION_STARTED_AT] = now
    request.session[SESSION_LAST_SEEN] = now
    request.session[SESSION_HAS_DEVICE] = user_has_device(user, confirmed=True)


# --- Enrolment ------------------------------------------------------------------


def totp_enrolment_start(*, user: Any) -> TOTPDevice:
    """The user's unconfirmed authenticator device, created on first visit (the same QR code on reload)."""
    require(user, "security.manage_own_2fa", user)
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def totp_qr_data_uri(device: TOTPDevice) -> str:
    """The device's otpauth:// address as an SVG QR code in a data: URI (allowed by img-src data:)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10)
    return "data:image/svg+xml;base64," + base64.b64encode(image.to_string()).decode("ascii")


def totp_secret_for_display(device: TOTPDevice) -> str:
    """The shared secret in base32, grouped by four, for apps that cannot scan."""
    secret = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def totp_enrolment_confirm(*, user: Any, request, token: str) -> list[str]:
    """Confirm the authenticator with one code; mark the session verified; return new backup codes.

    Raises ValidationError when the code is wrong (or already used).
    """
    require(user, "security.manage_own_2fa", user)
    if has_second_factor(user) and not is_verified(user):
        raise ValidationError("Verify with your existing second factor first.")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    token = _clean_token(token)
    with transaction.atomic():
        if device is None or not device.verify_token(token):
            raise ValidationError("That code is not right. Check the time on your device and try the newest code.")
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        codes = _issue_backup_codes(user)
        audit_record(
            actor=user,
            action=AuditEvent.Action.CREATE,
            obj=device,
            object_repr=f"Second factor of {user.email}",
            request=request,
            summary="Two-factor authentication enabled (authenticator app and backup codes)",
        )
    _mark_verified(request, device)
    return codes


def backup_codes_regenerate(*, user: Any, request) -> list[str]:
    """Replace the user's backup codes (old ones stop working). Needs a verified session."""
    require(user, "security.manage_own_2fa", user)
    if not is_verified(user):
        raise ValidationError("Verify your second factor before making new backup codes.")
    with transaction.atomic():
        codes = _issue_backup_codes(user)
        audit_record(
            actor=user,
            action=AuditEvent.Action.CHANGE,
            obj=user,
            request=request,
            summary="Backup codes replaced",
        )
    return codes


def _issue_backup_codes(user: Any) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(user=user, name=BACKUP_DEVICE_NAME, defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


# --- Verification after the password ----------------------------------------------


def second_factor_verify(*, user: Any, request, token: str) -> None:
    """Check a code from the authenticator app or a backup code; on success the session is verified.

    Every attempt is recorded. Raises ValidationError for a wrong, reused or throttled code.
    """
    token = _clean_token(token)
    device = None
    throttled = False
    with transaction.atomic():
        # Each device throttles itself after a wrong code (django-otp doubles the wait each time).
        for candidate in devices_for_user(user, confirmed=True, for_verify=True):
            allowed, _details = candidate.verify_is_allowed()
            if not allowed:
                throttled = True
                continue
            if candidate.verify_token(token):
                device = candidate
                break
    if device is None:
        audit_record(
            actor=user,
            action=AuditEvent.Action.LOGIN_FAILED,
            obj=user,
            request=request,
            summary="Second-factor code refused" + (" (throttled)" if throttled else ""),
        )
        if throttled:
            raise ValidationError("Too many wrong codes. Wait a few seconds, then enter the newest code.")
        raise ValidationError("That code is not right, or it has been used already. Wait for a new code and try again.")
    kind = "backup code" if isinstance(device, StaticDevice) else "authenticator app"
    audit_record(
        actor=user,
        action=AuditEvent.Action.LOGIN,
        obj=user,
        request=request,
        summary=f"Second factor verified ({kind})",
    )
    _mark_verified(request, device)


def backup_codes_left(user: Any) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def _mark_verified(request, device) -> None:
    # A new session key at each step up in privilege, like Django does at login.
    request.session.cycle_key()
    otp_login(request, device)
    request.session[SESSION_HAS_DEVICE] = True


def _clean_token(token: str) -> str:
    return "".join((token or "").split()).lower()


# --- Deploy checks (python manage.py check --deploy) ----------------------------------


@checks.register(checks.Tags.security, deploy=True)
def check_security_settings(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    if not settings.REQUIRE_2FA:
        messages.append(
            checks.Warning(
                "REQUIRE_2FA is off: users can reach the portal with a password alone.",
                hint="Unset REQUIRE_2FA (it defaults to on when DEBUG is off); turn it off only for a local demo.",
                id="reviewportal.W001",
            )
        )
    if not getattr(settings, "AXES_ENABLED", False):
        messages.append(
            checks.Warning(
                "AXES_ENABLED is off: logins are not throttled or locked out after repeated failures.",
                id="reviewportal.W002",
            )
        )
    script_src = settings.CONTENT_SECURITY_POLICY.get("DIRECTIVES", {}).get("script-src", [])
    if "'unsafe-inline'" in script_src or "csp.middleware.CSPMiddleware" not in settings.MIDDLEWARE:
        messages.append(
            checks.Warning(
                "The Content Security Policy is missing or allows inline scripts.",
                id="reviewportal.W003",
            )
        )
    return messages
