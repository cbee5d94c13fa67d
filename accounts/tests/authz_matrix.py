from tests.authz import (
    ADMIN_PAGE,
    ANY_MEMBER,
    API_ANONYMOUS,
    LOGIN_REDIRECT,
    Row,
    admin_action_row,
    admin_change_row,
    expect,
)

ROWS = [
    Row("dashboard", expect=ANY_MEMBER),
    Row("profile", expect=ANY_MEMBER),
    Row("api_tokens", expect=ANY_MEMBER),
    Row(
        "api_tokens",
        method="post",
        data={"name": "matrix", "days": 5},
        expect=expect(200, anonymous=LOGIN_REDIRECT),
        note="anyone signed in creates a token for themselves",
    ),
    Row(
        "api_token_revoke",
        method="post",
        kwargs=lambda w: {"public_id": w.lead_token.public_id},
        expect=expect(404, anonymous=LOGIN_REDIRECT, lead=302),
        note="only the owner revokes in the portal; anyone else's token is a 404",
    ),
    Row("password_change", expect=ANY_MEMBER),
    Row("password_change_done", expect=ANY_MEMBER),
    Row("login", expect=expect(302, anonymous=200), note="signed-in people are sent on to the dashboard"),
    Row("logout", method="post", expect=expect(302)),
    Row("password_reset", expect=expect(200)),
    Row("password_reset_done", expect=expect(200)),
    Row("password_reset_complete", expect=expect(200)),
    Row(
        "password_reset_confirm",
        kwargs={"uidb64": "MQ", "token": "bad-token"},
        expect=expect(200),
        note="an invalid link shows 'no longer valid'",
    ),
    Row("healthz", expect=expect(200)),
    Row("readyz", expect=expect(200)),
    Row("metrics", expect=expect(404), note="no METRICS_TOKEN configured: nobody, signed in or not"),
    Row("favicon", expect=expect(301)),
    Row("api-schema", expect=expect(200)),
    Row("api-docs", expect=expect(200)),
    Row("api-root", expect=expect(200, anonymous=API_ANONYMOUS)),
    Row("organisation-list", expect=expect(200, anonymous=API_ANONYMOUS)),
    Row(
        "organisation-detail",
        kwargs=lambda w: {"public_id": w.company_b.public_id},
        expect=expect(200, anonymous=API_ANONYMOUS, liaison_a=404),
    ),
]


def build(w):
    from accounts.services import api_token_create

    w.lead_token, _ = api_token_create(actor=w.lead, user=w.lead, name="lead's script", days=30)
    _build_security_records(w)


def _build_security_records(w):
    # A second factor and lockout records of someone outside the matrix's actors, for the admin rows.
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.utils import timezone
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    w.totp_device = TOTPDevice.objects.create(user=w.lead2, name="Authenticator app", confirmed=True)
    w.static_device = StaticDevice.objects.create(user=w.lead2, name="Backup codes", confirmed=True)
    seen = {"ip_address": "198.51.100.9", "username": w.lead2.email, "user_agent": "matrix", "path_info": "/"}
    w.access_attempt = AccessAttempt.objects.create(failures_since_start=1, get_data="", post_data="", **seen)
    w.access_log = AccessLog.objects.create(attempt_time=timezone.now(), **seen)
    w.access_failure = AccessFailureLog.objects.create(locked_out=False, **seen)


# The Django admin (see tests/authz.py): every model's change page and every action.
ADMIN_ROWS = [
    admin_change_row("accounts.organisation", lambda w: w.company_a),
    admin_action_row(
        "accounts.organisation", "record_engagement_stage", lambda w: [w.company_a], extra={"stage": "in_discussion"}
    ),
    admin_action_row("accounts.organisation", "permit_disclosure", lambda w: [w.company_a]),
    admin_action_row("accounts.organisation", "withhold_disclosure", lambda w: [w.company_a]),
    # The programme's list of handling markings (core.markings), registered by accounts' admin.
    admin_change_row("core.handlingmarking", lambda w: __import__("core.markings").markings.marking_default()),
    admin_change_row("accounts.user", lambda w: w.evaluator),
    admin_action_row("accounts.user", "deactivate_selected", lambda w: [w.evaluator_other]),
    admin_action_row("accounts.user", "reactivate_selected", lambda w: [w.evaluator_other]),
    admin_change_row("accounts.membership", lambda w: w.evaluator.membership),
    admin_change_row("accounts.apitoken", lambda w: w.lead_token),
    admin_action_row("accounts.apitoken", "revoke_selected", lambda w: [w.lead_token]),
    admin_change_row("otp_totp.totpdevice", lambda w: w.totp_device),
    # Deleting a device or a lockout record asks for confirmation first (200); it is audited when confirmed.
    admin_action_row("otp_totp.totpdevice", "delete_selected", lambda w: [w.totp_device], statuses=ADMIN_PAGE),
    admin_change_row("otp_static.staticdevice", lambda w: w.static_device),
    admin_action_row("otp_static.staticdevice", "delete_selected", lambda w: [w.static_device], statuses=ADMIN_PAGE),
    admin_change_row("axes.accessattempt", lambda w: w.access_attempt),
    admin_action_row("axes.accessattempt", "delete_selected", lambda w: [w.access_attempt], statuses=ADMIN_PAGE),
    admin_change_row("axes.accesslog", lambda w: w.access_log),
    admin_change_row("axes.accessfailurelog", lambda w: w.access_failure),
]
