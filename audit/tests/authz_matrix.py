"""Matrix rows for the security pages (second factor). The audit export lives in the admin
(admin:audit_auditevent_export) and is tested in audit/tests/test_audit_admin.py."""

from tests.authz import LOGIN_REDIRECT, Row, expect

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
