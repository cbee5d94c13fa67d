"""Default pagination, content negotiation for downloads and parsers of the REST API.

Kept apart from core/api.py because DRF imports these classes while
``rest_framework.views``/``generics`` are still loading, so this module must
not import either (nor drf-spectacular, which imports them).
"""

from __future__ import annotations

from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser

from core.control_characters import data_errors, field_errors


class PortalPagination(PageNumberPagination):
    """``?page=N`` and ``?page_size=M`` (at most 100); the body carries count, next, previous, results."""

    page_size_query_param = "page_size"
    max_page_size = 100


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
