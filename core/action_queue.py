"""The shape of a person's action queue: what they can act on now, gathered from every app.

Each app's ``<app>/queue.py`` describes its kinds of work as ``QueueSource`` objects: the rows
a person may act on now, as one queryset (the statuses a move starts from, narrowed by the
policy's ``actionable``), how to order them (due date first) and how to show one. The
dashboard, in the composition root, puts the sources of every app together; this module only
holds what they share, so no app needs another's.

Cost: a source's first rows are one query, and the number of rows of any number of sources is
one query (``count_sources``), whatever the number of records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import F, IntegerField, OrderBy, QuerySet, Subquery


@dataclass(frozen=True)
class QueueItem:
    """One thing to do: ``verb`` (what to do) on the record ``reference`` — ``title``, at ``url``.

    ``due_at`` is when it must be done (None: no date), ``due_label`` what that date is
    ("Response due", "Access wanted from").
    """

    kind: str
    verb: str
    reference: str
    title: str
    url: str
    due_at: datetime | None = None
    due_label: str = ""
    note: str = ""
    # The row itself (a finding, a ticket…), for whoever needs more than the line shows.
    record: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class QueueSource:
    """One kind of work in one app, for one person.

    ``rows``: every row the person can act on now (scoped, filtered, unordered). ``due``: the
    field it is due by (None: no date), read to order the rows: the soonest, and so the overdue,
    first; rows without a date last. ``item`` turns a row into a ``QueueItem``. ``label`` names
    the kind in the plural ("Findings to answer"), and ``more_url`` is the list that shows all
    of them, for "and N more".
    """

    kind: str
    label: str
    rows: QuerySet
    item: Callable[[Any], QueueItem]
    more_url: str
    due: str | None = None

    def ordered(self) -> QuerySet:
        order: list[Any] = [OrderBy(F(self.due), nulls_last=True)] if self.due else []
        return self.rows.order_by(*order, "pk")

    def first(self, limit: int) -> list[QueueItem]:
        """The first ``limit`` items, soonest due first: one query."""
        return [replace(self.item(row), record=row) for row in self.ordered()[:limit]]


class _Count(Subquery):
    """The number of rows of a queryset, as a value inside another query."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _queue_rows)"
    output_field = IntegerField()
    empty_result_set_value = 0


def count_sources(sources: Sequence[QueueSource], *, anchor: QuerySet) -> dict[str, int]:
    """How many rows each source has, by ``kind``, in ONE query.

    The counts are subqueries of one SELECT on ``anchor``, a queryset of exactly one row (the
    signed-in person's own, ``person``), so a page pays one round trip however many kinds of
    work there are.
    """
    if not sources:
        return {}
    names = {f"n{i}": source for i, source in enumerate(sources)}
    row = (
        anchor.order_by()
        .annotate(**{name: _Count(source.rows.order_by().values("pk")) for name, source in names.items()})
        .values(*names)
        .first()
    )
    return {source.kind: (row or {}).get(name) or 0 for name, source in names.items()}


def soonest_first(items: Iterable[QueueItem], limit: int) -> list[QueueItem]:
    """The first ``limit`` of ``items``: by due date, so the overdue come first, then those without
    a date (each source's own order kept among them)."""
    items = list(items)
    dated = sorted((i for i in items if i.due_at is not None), key=lambda i: i.due_at)
    return [*dated, *(i for i in items if i.due_at is None)][:limit]


def first_items(sources: Iterable[QueueSource], limit: int) -> list[QueueItem]:
    """The first ``limit`` items of all ``sources`` together, soonest due first: one query per source
    (each reads at most ``limit`` rows, so a page costs what it shows)."""
    return soonest_first((item for source in sources for item in source.first(limit)), limit)


def person(user: Any) -> QuerySet:
    """The one-row queryset of ``user``'s own row, to hang counts on (``count_sources``)."""
    return get_user_model()._default_manager.filter(pk=user.pk)


def total(sources: Sequence[QueueSource], *, user: Any) -> int:
    """How many items ``sources`` hold together: one query."""
    return sum(count_sources(sources, anchor=person(user)).values())
