"""Sign-in events for the audit trail, from Django's authentication signals.

Logins, failed logins and logouts happen inside Django's auth machinery
rather than in a service of ours, so its signals are the one place to see
all of them (the login page, the admin login and anything else that calls
``authenticate``/``login``/``logout``). A failed login records the email that
was tried, never the password.
"""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from audit.models import AuditEvent
from audit.services import audit_record

# Set on the request by code that ends a session for a reason (e.g. the session limits middleware).
LOGOUT_REASON_ATTR = "_audit_logout_reason"


@receiver(user_logged_in, dispatch_uid="audit_login")
def _record_login(sender, request, user, **kwargs) -> None:
    audit_record(actor=user, action=AuditEvent.Action.LOGIN, obj=user, request=request, summary="Signed in")


@receiver(user_logged_out, dispatch_uid="audit_logout")
def _record_logout(sender, request, user, **kwargs) -> None:
    if user is None:
        return  # an anonymous visitor pressed "sign out": nothing ended
    reason = getattr(request, LOGOUT_REASON_ATTR, "") if request is not None else ""
    audit_record(actor=user, action=AuditEvent.Action.LOGOUT, obj=user, request=request, summary=reason or "Signed out")


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def _record_login_failed(sender, credentials, request=None, **kwargs) -> None:
    # Only the identity that was tried is kept; every other credential (the password) is dropped.
    attempted = str((credentials or {}).get("username") or (credentials or {}).get("email") or "")[:254]
    locked = bool(getattr(request, "axes_locked_out", False)) if request is not None else False
    summary = "Login refused: too many failed attempts (locked out)" if locked else "Failed login"
    audit_record(
        actor=None,
        action=AuditEvent.Action.LOGIN_FAILED,
        request=request,
        object_type="accounts.user" if attempted else "",
        object_repr=attempted,
        summary=f"{summary} for {attempted}" if attempted else summary,
    )
