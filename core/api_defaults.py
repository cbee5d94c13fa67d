"""Default pagination, content negotiation for downloads and parsers of the REST API.

Kept apart from core/api.py because DRF imports these classes while
``rest_framework.views``/``generics`` are still loading, so this module must
not import either (nor drf-spectacular, which imports them).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import decimal
import json
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, Field, OrderBy, Q, QuerySet
from rest_framework.exceptions import NotFound, ParseError, ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.utils.urls import replace_query_param

from core.control_characters import data_errors, field_errors


class PortalPagination(PageNumberPagination):
    """``?page=N`` and ``?page_size=M`` (at most 100); the body carries count, next, previous, results."""

    page_size_query_param = "page_size"
    max_page_size = 100


@dataclass(frozen=True)
class _SortKey:
    """One column of a cursor-paged list's order. NULL sorts as the largest value on every database."""

    name: str
    descending: bool
    field: Field

    @property
    def nullable(self) -> bool:
        return bool(getattr(self.field, "null", False))

    def flipped(self) -> _SortKey:
        return _SortKey(self.name, not self.descending, self.field)

    def order_by(self) -> str | OrderBy:
        if not self.nullable:
            return f"-{self.name}" if self.descending else self.name
        if self.descending:
            return F(self.name).desc(nulls_first=True)
        return F(self.name).asc(nulls_last=True)

    def equal(self, value: Any) -> Q:
        return Q(**{f"{self.name}__isnull": True}) if value is None else Q(**{self.name: value})

    def after(self, value: Any) -> Q | None:
        """Rows strictly after ``value`` in this key's direction; None when nothing can be."""
        if value is None:  # NULL is the largest value
            return Q(**{f"{self.name}__isnull": False}) if self.descending else None
        if self.descending:
            return Q(**{f"{self.name}__lt": value})
        beyond = Q(**{f"{self.name}__gt": value})
        return beyond | Q(**{f"{self.name}__isnull": True}) if self.nullable else beyond


class PortalCursorPagination(CursorPagination):
    """Keyset pages for the large collections: follow ``next`` (or ``previous``), each carrying an opaque
    ``?cursor=``; ``?page_size=M`` (at most 100). The body carries next, previous and results, no count.

    The order is the list's sort key (the view's ``ordering`` or the client's ``?ordering=``) plus the
    view's public id (its ``lookup_field``, unique) as the tiebreaker. A cursor holds the sort key of
    the row a page starts after, so every page is one query that seeks in the sort key's index and
    reads one page of rows, however deep: no COUNT, no OFFSET. A cursor that cannot be read, or was
    made for another ``?ordering=``, is a 404, as DRF answers for an invalid cursor.
    """

    page_size_query_param = "page_size"
    max_page_size = 100
    ordering = "pk"

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        self.keys = self._sort_keys(queryset, view)
        position, backwards = self._decode(request)
        walk = [key.flipped() for key in self.keys] if backwards else self.keys
        queryset = queryset.order_by(*(key.order_by() for key in walk))
        if position is not None:
            queryset = queryset.filter(self._after(walk, position))
        rows = list(queryset[: self.page_size + 1])
        more = len(rows) > self.page_size
        self.page = rows[: self.page_size]
        if backwards:
            self.page.reverse()
        first = self._position(self.page[0]) if self.page else position
        last = self._position(self.page[-1]) if self.page else position
        # Going forward there is a previous page when we came from one; going back, a next page.
        self.has_next = more if not backwards else position is not None
        self.has_previous = more if backwards else position is not None
        self.next_position, self.previous_position = last, first
        self.display_page_controls = self.has_next or self.has_previous
        return self.page

    def get_next_link(self) -> str | None:
        return self._link(self.next_position, backwards=False) if self.has_next else None

    def get_previous_link(self) -> str | None:
        return self._link(self.previous_position, backwards=True) if self.has_previous else None

    # --- the order -----------------------------------------------------------------------------

    def _sort_keys(self, queryset: QuerySet, view) -> list[_SortKey]:
        names = list(self.get_ordering(self.request, queryset, view))
        tiebreaker = getattr(view, "lookup_field", None) or "pk"
        if not any(name.lstrip("-") == tiebreaker for name in names):
            names.append(f"-{tiebreaker}" if names and names[-1].startswith("-") else tiebreaker)
        keys, seen = [], set()
        for name in names:
            bare = name.lstrip("-")
            if bare not in seen:
                seen.add(bare)
                keys.append(_SortKey(bare, name.startswith("-"), self._field(queryset, bare)))
        return keys

    @staticmethod
    def _field(queryset: QuerySet, name: str) -> Field:
        if name in queryset.query.annotations:
            return queryset.query.annotations[name].output_field
        meta = queryset.model._meta
        try:
            return meta.pk if name == "pk" else meta.get_field(name)
        except FieldDoesNotExist:
            raise ValueError(f"Cursor pagination cannot order by {name!r}: not a field of {meta.label}.") from None

    @staticmethod
    def _after(keys: list[_SortKey], position: list[Any]) -> Q:
        """Rows after ``position`` in the order ``keys``: after it on the first key, or equal on the
        first and after on the second, and so on. When the first key has no NULLs a plain bound on it
        is added, so the database seeks to the position in the index instead of filtering up to it."""
        match, equal_so_far = Q(pk__in=[]), Q()  # pk__in=[] matches nothing: the empty OR
        for key, value in zip(keys, position, strict=True):
            after = key.after(value)
            if after is not None:
                match |= equal_so_far & after
            equal_so_far &= key.equal(value)
        first = keys[0]
        if not first.nullable:
            match &= Q(**{f"{first.name}__{'lte' if first.descending else 'gte'}": position[0]})
        return match

    # --- the cursor ----------------------------------------------------------------------------

    def _position(self, row: Any) -> list[Any]:
        return [getattr(row, key.name) for key in self.keys]

    def _order(self) -> str:
        """The order a cursor was made for, carried in it: a cursor used with another ``?ordering=``
        would otherwise be read as a position in the wrong columns."""
        return ",".join(f"-{key.name}" if key.descending else key.name for key in self.keys)

    def _link(self, position: list[Any], *, backwards: bool) -> str:
        body = {"o": self._order(), "p": [_to_json(value) for value in position], **({"r": 1} if backwards else {})}
        token = base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode()).decode()
        return replace_query_param(self.base_url, self.cursor_query_param, token)

    def _decode(self, request) -> tuple[list[Any] | None, bool]:
        token = request.query_params.get(self.cursor_query_param)
        if token is None:
            return None, False
        try:
            body = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
            raw, backwards = body["p"], body.get("r", 0)
            if body["o"] != self._order() or not isinstance(raw, list) or len(raw) != len(self.keys):
                raise ValueError("the cursor was made for another order")
            if backwards not in (0, 1):
                raise ValueError("the cursor's direction is unknown")
            position = [self._value(key, value) for key, value in zip(self.keys, raw, strict=True)]
        except (ValueError, TypeError, KeyError, UnicodeError, binascii.Error, DjangoValidationError):
            raise NotFound(self.invalid_cursor_message) from None
        return position, bool(backwards)

    @staticmethod
    def _value(key: _SortKey, raw: Any) -> Any:
        """A cursor's value for ``key``, parsed and range-checked as the field would (a number too big
        for the column would otherwise reach the database and fail there)."""
        if raw is None:
            return None
        value = key.field.to_python(raw)
        key.field.run_validators(value)
        return value


def _to_json(value: Any) -> Any:
    """A sort key value as JSON, exactly (a datetime keeps its microseconds)."""
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID | decimal.Decimal):
        return str(value)
    return value


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
