"""Who reaches the programme pages: programme admins and lead evaluators; everyone else a 404."""

from tests.authz import LOGIN_REDIRECT, Row, expect

# Those who run the programme see it; evaluators and company liaisons get the 404 of a missing page.
PROGRAMME_PAGE = expect(404, anonymous=LOGIN_REDIRECT, lead=200, admin_user=200)

ROWS = [
    Row("programme:overview", expect=PROGRAMME_PAGE),
    Row("programme:engagement", kwargs=lambda w: {"public_id": w.company_b.public_id}, expect=PROGRAMME_PAGE),
    Row(
        "programme:engagement",
        method="post",
        kwargs=lambda w: {"public_id": w.company_b.public_id},
        data={"stage": "in_discussion", "note": "First call."},
        expect=expect(404, anonymous=LOGIN_REDIRECT, lead=403, admin_user=302),
        note="only programme admins record engagement; a lead may look but not change it",
    ),
]
