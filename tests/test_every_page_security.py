"""Every page of the authorization matrix: closed before the second factor, and under the strict CSP.

With REQUIRE_2FA on, no page or API endpoint of the matrix opens before the second factor.

Walks every GET row of the authorization matrix as the evaluator (who is on the
case) with a session that passed the password but not the second factor.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.authz import Row
from tests.test_authorization_matrix import ROWS, world  # noqa: F401 - world is a fixture

# Pages someone must reach to sign in or to pass the second factor.
OPEN = {
    "login",
    "logout",
    "healthz",
    "readyz",
    "metrics",
    "twofactor:setup",
    "twofactor:verify",
    "api-schema",
    "api-docs",
}
OPEN_PREFIXES = ("password_reset",)

GATED = [
    row
    for row in ROWS
    if row.method == "get" and row.url_name not in OPEN and not row.url_name.startswith(OPEN_PREFIXES)
]


@pytest.mark.parametrize("row", GATED, ids=lambda r: f"{r.url_name}{' ' + r.note if r.note else ''}")
def test_unverified_session_reaches_no_page(row: Row, world, client, settings):  # noqa: F811
    settings.REQUIRE_2FA = True
    client.force_login(world.evaluator)
    url = reverse(row.url_name, kwargs=row.resolve_kwargs(world)) + (f"?{row.query}" if row.query else "")
    response = client.get(url)
    if url.startswith("/api/"):
        assert response.status_code == 403, url
    else:
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("twofactor:setup")), url


HTML_ROWS = [
    row for row in ROWS if row.method == "get" and not row.url_name.startswith("api") and "-" not in row.url_name
]


def test_every_portal_page_has_the_strict_csp_and_no_inline_script(world, client):  # noqa: F811
    """Every GET page of the matrix, as a programme admin (who reaches the most pages)."""
    import re

    client.force_login(world.admin_user)
    checked = 0
    for row in HTML_ROWS:
        url = reverse(row.url_name, kwargs=row.resolve_kwargs(world)) + (f"?{row.query}" if row.query else "")
        response = client.get(url)
        if not response.get("Content-Type", "").startswith("text/html") or response.status_code != 200:
            continue
        checked += 1
        header = response["Content-Security-Policy"]
        script_src = next(part for part in header.split(";") if part.strip().startswith("script-src"))
        assert "'unsafe-inline'" not in script_src, url
        body = response.content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body), f"inline script on {url}"
        assert ' style="' not in body, f"inline style attribute on {url}"
        for nonce in re.findall(r'<script[^>]*nonce="([^"]+)"', body):
            assert f"'nonce-{nonce}'" in script_src, url
    assert checked > 20
