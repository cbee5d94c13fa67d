from tests.authz import ANY_MEMBER, API_ANONYMOUS, LOGIN_REDIRECT, Row, expect

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
