"""Matrix rows for the security pages (second factor). The audit export lives in the admin
(admin:audit_auditevent_export) and is tested in audit/tests/test_audit_admin.py."""

from tests.authz import ADMIN_PAGE, LOGIN_REDIRECT, Row, admin_action_row, admin_change_row, expect

ROWS = [
    # Everyone signed in may set up their own second factor; the page shows a QR code.
    Row("twofactor:setup", expect=expect(200, anonymous=LOGIN_REDIRECT)),
    Row(
        "twofactor:verify",
        expect=expect(302),
        note="nobody in the world has a device yet: sent on to setup; anonymous to login",
    ),
    Row(
        "twofactor:backup_codes",
        method="post",
        expect=expect(302),
        note="refused without a verified second factor: sent to setup; anonymous to login",
    ),
]


def _event(w):
    from audit.models import AuditEvent

    return AuditEvent.objects.order_by("pk").first()


# The Django admin (see tests/authz.py): the trail is read and exported, by programme admins only.
ADMIN_ROWS = [
    admin_change_row("audit.auditevent", _event),
    # The export answers the CSV itself (200).
    admin_action_row("audit.auditevent", "export_selected_csv", lambda w: [_event(w)], statuses=ADMIN_PAGE),
]
