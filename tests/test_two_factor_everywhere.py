"""With REQUIRE_2FA on, no page or API endpoint of the matrix opens before the second factor.

Walks every GET row of the authorization matrix as the evaluator (who is on the
case) with a session that passed the password but not the second factor.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.authz import Row
from tests.test_authorization_matrix import ROWS, world  # noqa: F401 - world is a fixture

# Pages someone must reach to sign in or to pass the second factor.
OPEN = {"login", "logout", "healthz", "twofactor:setup", "twofactor:verify", "api-schema", "api-docs"}
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
