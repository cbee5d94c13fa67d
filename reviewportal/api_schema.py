"""The OpenAPI schema class: drf-spectacular's, plus the error responses of every operation."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from rest_framework.permissions import SAFE_METHODS

from core.api import ErrorSerializer


class PortalAutoSchema(AutoSchema):
    """drf-spectacular's schema plus the error responses every operation can give.

    Documented per operation: 400 (invalid input or filter), 401 (no or bad
    token), 403 (refused by the policy), 404 (not visible, or a page that does
    not exist); for writes also 409 (illegal transition) and 429 (write rate).
    Responses a view declares itself win.
    """

    ERROR_DESCRIPTIONS = {
        "400": "Invalid input: `errors` names each field at fault.",
        "401": "Not authenticated, or the token is invalid, expired or revoked.",
        "403": "Authenticated, but the permission policy refuses this action.",
        "404": "No such object among those you may see (another organisation's object is a 404).",
        "409": "The object's current state does not allow this change.",
        "429": "Too many writes with this token; retry after the number of seconds in Retry-After.",
    }

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        codes = ["400", "401", "403", "404"]
        if self.method not in SAFE_METHODS:
            codes += ["409", "429"]
        error_ref = self.resolve_serializer(ErrorSerializer, "response").ref
        for code in codes:
            responses.setdefault(
                code,
                {"content": {"application/json": {"schema": error_ref}}, "description": self.ERROR_DESCRIPTIONS[code]},
            )
        return responses
