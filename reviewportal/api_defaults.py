"""Default pagination, write throttle and parsers of the REST API.

Kept apart from reviewportal/api.py because DRF imports these classes while
``rest_framework.views``/``generics`` are still loading, so this module must
not import either (nor drf-spectacular, which imports them).
"""

from __future__ import annotations

import logging

from django.conf import settings
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import SimpleRateThrottle

from reviewportal.control_characters import data_errors, field_errors

logger = logging.getLogger(__name__)


class PortalPagination(PageNumberPagination):
    """``?page=N`` and ``?page_size=M`` (at most 100); the body carries count, next, previous, results."""

    page_size_query_param = "page_size"
    max_page_size = 100


class WriteRateThrottle(SimpleRateThrottle):
    """Limits writes per API token (per signed-in user for session calls); reads are not limited.

    The rate is ``settings.API_WRITE_RATE`` (env ``API_WRITE_RATE``, e.g. ``60/min``), read on
    each request so it can be changed in tests. The key is the token's public id, so each
    token of a person has its own budget and revoking one does not reset another.
    """

    scope = "write"

    def get_rate(self) -> str:
        return settings.API_WRITE_RATE

    def allow_request(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        try:
            return super().allow_request(request, view)
        except Exception:  # noqa: BLE001 - the cache (Redis) is down: serve the write rather than fail it
            logger.warning("Write throttle skipped: the cache is unreachable.", exc_info=True)
            return True

    def get_cache_key(self, request, view) -> str:
        token_id = getattr(request.auth, "public_id", None)
        if token_id is not None:
            ident = f"token:{token_id}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.public_id}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def get_ident(self, request) -> str:
        # The address the audit trail and the sign-in lockout use, not DRF's own reading of
        # X-Forwarded-For (which trusts its first entry, written by the client).
        from audit.services import client_ip

        return client_ip(request) or ""


class FileDownloadNegotiation(DefaultContentNegotiation):
    """For file downloads: the answer has the file's own type, so a client's Accept (e.g.
    application/pdf) must not be refused with 406 before the view runs; errors stay JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        renderer = renderers[0]
        return renderer, renderer.media_type


# --- Parsers: every body is checked before a serializer sees it --------------------------

# Deepest nesting of objects and arrays a JSON body may have. The API's own bodies nest three
# levels at most; the limit stops a body of ten thousand "[" before it exhausts the stack.
MAX_JSON_DEPTH = 32
TOO_DEEP = f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep."


def _refuse_control_characters(errors: dict[str, list[str]]) -> None:
    if errors:
        # A 400 naming each field, like any other invalid value (reviewportal/api.py shapes it).
        raise ValidationError(errors)


class PortalJSONParser(JSONParser):
    """JSON with a nesting limit, and no control characters in keys or values (tab and newlines allowed)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(TOO_DEEP) from None
        errors, too_deep = data_errors(data, max_depth=MAX_JSON_DEPTH)
        if too_deep:
            raise ParseError(TOO_DEEP)
        _refuse_control_characters(errors)
        return data


class PortalFormParser(FormParser):
    """URL-encoded forms, with no control characters in names or values (tab and newlines allowed)."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        _refuse_control_characters(field_errors(data.lists(), text=True))
        return data


class PortalMultiPartParser(MultiPartParser):
    """Multipart forms, with the same check on their fields (files are checked by content elsewhere)."""

    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        _refuse_control_characters(field_errors(parsed.data.lists(), text=True))
        return parsed
