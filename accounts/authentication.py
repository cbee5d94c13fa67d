"""``Authorization: Bearer <token>`` for the REST API, and its OpenAPI description.

A token authenticates as its user, so every request still goes through the
one policy (``accounts.permissions``) exactly as a portal page would. A
missing header falls through to the next class (session); a bad, expired or
revoked token, or one whose user is disabled, answers 401 with a message
saying which. ``request.auth`` is the ``ApiToken``, which the write
throttle uses as its key.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from accounts.services import TokenRejected, api_token_authenticate

KEYWORD = b"bearer"


class BearerTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Malformed Authorization header: use 'Authorization: Bearer <token>'."
            )
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.")
        try:
            token = api_token_authenticate(raw=raw)
        except TokenRejected as exc:
            raise exceptions.AuthenticationFailed(str(exc))
        return token.user, token

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) to unauthenticated calls, naming the scheme.
        return 'Bearer realm="api"'


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
