"""``Authorization: Bearer <token>`` for the REST API, and its OpenAPI description.

A token authenticates as its user, so every request still goes through the
one policy (``accounts.permissions``) exactly as a portal page would. A
missing header falls through to the next class (session); a bad, expired or
revoked token, or one whose user is disabled, answers 401 with a message
saying which, and is recorded in the audit trail as a probe (its prefix,
never its secret). ``request.auth`` is the ``ApiToken``, which the write
throttle uses as its key.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from accounts.services import TOKEN_MARK, TokenRejected, api_token_authenticate
from audit.services import audit_probe

KEYWORD = b"bearer"


class BearerTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD:
            return None
        if len(parts) != 2:
            raise _refused(request, "Malformed Authorization header: use 'Authorization: Bearer <token>'.")
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise _refused(request, "Invalid token.")
        try:
            token = api_token_authenticate(raw=raw)
        except TokenRejected as exc:
            raise _refused(request, str(exc), prefix=_prefix_of(raw))
        return token.user, token

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) to unauthenticated calls, naming the scheme.
        return 'Bearer realm="api"'


def _prefix_of(raw: str) -> str:
    """The token's public prefix (``rp_<prefix>_<secret>``), never its secret; "" when malformed."""
    parts = raw.split("_", 2)
    return parts[1][:64] if len(parts) == 3 and parts[0] == TOKEN_MARK else ""


def _refused(request, message: str, *, prefix: str = "") -> exceptions.AuthenticationFailed:
    # A bad token is recorded as a probe (once a minute per source address); the answer is the 401.
    # Django's own request: asking DRF's for its user would run this authentication again.
    django_request = getattr(request, "_request", request)
    audit_probe(request=django_request, kind="api-token", reference=prefix, summary=f"API token refused: {message}")
    return exceptions.AuthenticationFailed(message)


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = BearerTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "rp_<prefix>_<secret>",
            "description": "A personal API token, created under Profile → API tokens or with "
            "`manage.py create_api_token`. It acts as its user; expired or revoked tokens answer 401.",
        }
