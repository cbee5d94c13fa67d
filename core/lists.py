"""One layout for every list page: filter bar, sortable columns, search, count, pages, CSV export.

An app's selector owns its list's :class:`Sorts` (which ORDER BY each sort key means, each one
read off an index), and its view builds the page with :func:`list_context`. The templates
``partials/list_filters.html``, ``partials/list_head.html`` and ``partials/list_summary.html`` show
the filter bar, the column headers (links that sort, with ``aria-sort``) and the count with the
CSV link; ``partials/pagination.html`` the page links. Every link keeps the other parameters the
person chose, so filters, search and sort survive paging, sorting and exporting.

A sort key is a column's name for its ascending order and ``-name`` for the descending one. The
descending order reverses every term of the ascending one, so it reads the same index backwards.
NULLs sort as PostgreSQL keeps them in an index (last going up, first going down) on every
database, so the order is the same in tests on SQLite. An unknown sort key gives the list's
default order: a hostile ``?sort=`` is ignored, never an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import F, OrderBy
from django.http import QueryDict

from core.pagination import paginate


@dataclass(frozen=True)
class Column:
    """A column of a list's table. ``order`` (the ascending ORDER BY) makes it sortable.

    ``up``/``down`` say what each direction means to a reader ("oldest first"), for the sort
    menu; ``first_down`` makes a header's first click sort descending (newest first).
    """

    name: str
    label: str
    order: tuple[str, ...] = ()
    up: str = "A to Z"
    down: str = "Z to A"
    first_down: bool = False

    @property
    def sortable(self) -> bool:
        return bool(self.order)


def _term(expression: str, *, reverse: bool) -> OrderBy:
    descending = expression.startswith("-")
    if reverse:
        descending = not descending
    target = F(expression.lstrip("-"))
    # The placement of NULLs PostgreSQL's index gives each direction, on every database.
    return target.desc(nulls_first=True) if descending else target.asc(nulls_last=True)


class Sorts:
    """The sort keys a list accepts (its columns' and a few named ones) and their ORDER BY."""

    def __init__(
        self, columns: Sequence[Column], *, default: str, named: dict[str, tuple[str, tuple[str, ...]]] | None = None
    ):
        self.columns = tuple(columns)
        # key → (what it means to a reader, ORDER BY terms)
        self.choices: dict[str, tuple[str, list[OrderBy]]] = {}
        for key, (label, order) in (named or {}).items():
            self.choices[key] = (label, [_term(term, reverse=False) for term in order])
        for column in self.columns:
            if column.sortable:
                self.choices[column.name] = (
                    f"{column.label}: {column.up}",
                    [_term(t, reverse=False) for t in column.order],
                )
                self.choices[f"-{column.name}"] = (
                    f"{column.label}: {column.down}",
                    [_term(t, reverse=True) for t in column.order],
                )
        if default not in self.choices:
            raise ValueError(f"default sort {default!r} is not one of the list's sorts")
        self.default = default

    def key(self, value: Any) -> str:
        """``value`` if it is a sort of this list, else the default."""
        return value if isinstance(value, str) and value in self.choices else self.default

    def order_by(self, value: Any) -> list[OrderBy]:
        return self.choices[self.key(value)][1]

    def menu(self) -> list[tuple[str, str]]:
        """(key, label) of every sort, for the filter bar's menu (the headers are hidden on a phone)."""
        return [(key, label) for key, (label, _) in self.choices.items()]


@dataclass
class Header:
    label: str
    url: str = ""  # empty: not sortable
    aria_sort: str = ""  # ascending | descending | "" (not the current sort)
    next_direction: str = ""  # what a click does, for screen readers


@dataclass
class Listing:
    """What the list partials show: the filter form, the sort, the headers, the page and the links."""

    form: Any
    sort: str
    sort_menu: list[tuple[str, str]]
    headers: list[Header]
    page_obj: Any
    query_string: str
    export_url: str
    clear_url: str
    filtered: bool
    noun: str
    noun_plural: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return self.page_obj.paginator.count

    @property
    def sort_label(self) -> str:
        return dict(self.sort_menu).get(self.sort, "")

    @property
    def count_label(self) -> str:
        # "1,234 findings", or "more than 1,000 findings" past the paginator's count cap.
        paginator = self.page_obj.paginator
        shown = getattr(paginator, "count_display", None) or f"{self.count:,}"
        single = self.count == 1 and not getattr(paginator, "is_capped", False)
        return f"{shown} {self.noun if single else self.noun_plural}"


def _with(params: QueryDict, **changes: str) -> str:
    query = params.copy()
    query.pop("page", None)
    for key, value in changes.items():
        query[key] = value
    return query.urlencode()


def headers_for(params: QueryDict, sorts: Sorts, current: str) -> list[Header]:
    """The column headers: each sortable one links to its sort (the other direction when it is the
    current sort), keeping the filters and the search and going back to page 1."""
    headers = []
    for column in sorts.columns:
        if not column.sortable:
            headers.append(Header(column.label))
            continue
        if current == column.name:
            aria, target = "ascending", f"-{column.name}"
        elif current == f"-{column.name}":
            aria, target = "descending", column.name
        else:
            aria, target = "", f"-{column.name}" if column.first_down else column.name
        direction = "descending" if target.startswith("-") else "ascending"
        headers.append(Header(column.label, "?" + _with(params, sort=target), aria, f"sort {direction}"))
    return headers


def list_context(
    request,
    queryset,
    *,
    sorts: Sorts,
    form: Any,
    per_page: int,
    export_url: str,
    clear_url: str,
    noun: str,
    noun_plural: str = "",
    filter_fields: Iterable[str] | None = None,
    page_obj: Any = None,
) -> dict[str, Any]:
    """The template context of a list page: ``listing`` for the partials, ``page_obj`` and
    ``query_string`` for the page links. ``queryset`` is already filtered and sorted (by the
    selector); ``form`` is the bound filter form. ``filter_fields`` (default: the form's fields)
    are the parameters that count as a filter for "Clear filters". A list that pages itself
    (counting in its own way) passes its ``page_obj``.
    """
    params = request.GET
    current = sorts.key(params.get("sort"))
    if page_obj is None:
        page = paginate(request, queryset, per_page)
    else:
        page = {"page_obj": page_obj, "query_string": _with(params)}
    names = list(filter_fields) if filter_fields is not None else list(form.fields) if form is not None else []
    filtered = any(params.get(name) for name in names)
    export_query = _with(params)
    listing = Listing(
        form=form,
        sort=current,
        sort_menu=sorts.menu(),
        headers=headers_for(params, sorts, current),
        page_obj=page["page_obj"],
        query_string=page["query_string"],
        export_url=export_url + (f"?{export_query}" if export_query else ""),
        clear_url=clear_url,
        filtered=filtered,
        noun=noun,
        noun_plural=noun_plural or f"{noun}s",
    )
    return {**page, "listing": listing}


def valid_filters(form: Any) -> dict[str, Any]:
    """The cleaned values of the filter fields that are valid; an invalid one is left out (and its
    error shown beside it), so one bad value does not drop the others or answer an error page."""
    if form is None or not form.is_bound:
        return {}
    form.is_valid()
    return {name: value for name, value in form.cleaned_data.items() if name not in form.errors}


# --- CSV cells -------------------------------------------------------------------------------

# A cell that starts with one of these is read as a formula by spreadsheet programs (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str | int | float | Decimal:
    """``value`` as a CSV cell that no spreadsheet runs: text starting like a formula gets a
    leading apostrophe. Numbers stay numbers (``-3`` is a number, not a formula)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float, Decimal)):
        return value
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


# --- The search box --------------------------------------------------------------------------


class SearchInput(forms.TextInput):
    input_type = "search"


def search_field(label: str, *, max_length: int = 200) -> forms.CharField:
    """The ``q`` field every list's filter bar starts with."""
    return forms.CharField(label=label, required=False, max_length=max_length, widget=SearchInput, strip=True)
