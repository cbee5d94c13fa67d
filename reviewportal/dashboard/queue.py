"""Needs your action: everything a person can act on now, from every app, soonest due first.

Each app says what its kinds of work are in ``<app>/queue.py`` (``reminders.action_queue`` for
the reminders app, whose ``queue.py`` enqueues Celery tasks), from its own state machine and the
policy's rules, the same ones that decide the buttons on its pages. This module only puts them
together, in the composition root, because it reads every app.

Cost, whatever the number of records:

* the count of every kind (the header's badge and the dashboard's "and N more"): ONE query, a
  subquery per kind, kept in the cache for at most ``BADGE_MAX_AGE`` seconds and counted again at
  once after any change commits (``core/freshness.py``): acting on an item, or anyone else's change,
  shows on the next page. Counting a lead's kinds reads every finding in review and every answer on
  their cases, which no page should pay on every visit;
* the dashboard's list (``action_queue_for``): one query per kind that has items, each reading at
  most ``QUEUE_LIMIT`` rows, soonest due first; the rest is "and N more", linked to the list that
  shows them all. The dashboard page keeps it under the same rule (``dashboard_queue``), with the
  days left counted afresh on every visit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from django.utils import timezone

from accounts.permissions import actor_for
from agreements import queue as agreements_queue
from assessments import queue as assessments_queue
from core.action_queue import QueueItem, QueueSource, count_sources, person, soonest_first
from core.freshness import cached_total
from findings import queue as findings_queue
from reminders import action_queue as reminders_queue
from reminders.selectors import days_until

# How many items the dashboard lists; the rest are counted under "and N more".
QUEUE_LIMIT = 20
# The counts may be this many seconds old, unless a record changed since (then they are counted again
# at once: core/freshness.py). Counting a lead's queue reads every finding in review and every answer
# on their cases, which no page should pay on every visit.
BADGE_MAX_AGE = 60

# Every app's kinds of work, in the order the apps' work happens (ties keep this order).
_APPS = (findings_queue, assessments_queue, agreements_queue, reminders_queue)


@dataclass(frozen=True)
class QueueRow:
    """One item as the dashboard shows it, with the whole days left until it is due."""

    item: QueueItem
    days_left: int | None

    @property
    def is_overdue(self) -> bool:
        return self.days_left is not None and self.days_left < 0

    @property
    def days_late(self) -> int:
        return -self.days_left if self.is_overdue else 0


@dataclass
class ActionQueue:
    rows: list[QueueRow]
    total: int
    counts: dict[str, int]
    # (label, how many are not listed, the list that shows them), for each kind with some left out.
    more: list[tuple[str, int, str]] = field(default_factory=list)

    @property
    def left_out(self) -> int:
        return self.total - len(self.rows)


def action_queue_sources(user: Any, *, now: datetime | None = None) -> list[QueueSource]:
    """Every kind of work ``user`` has, from every app (none for an anonymous or unaffiliated user)."""
    if actor_for(user) is None:
        return []
    now = now or timezone.now()
    return [source for app in _APPS for source in app.queue_sources_for(actor=user, now=now)]


def action_queue_counts(user: Any, *, now: datetime | None = None) -> dict[str, int]:
    """How many items of each kind ``user`` has: one query (none when they have no kinds of work)."""
    sources = action_queue_sources(user, now=now)
    return count_sources(sources, anchor=person(user)) if sources else {}


def _cached_counts(user: Any, sources: Callable[[], list[QueueSource]]) -> dict[str, int]:
    """The counts of ``sources()`` by kind, from the cache when nothing changed in the last
    ``BADGE_MAX_AGE`` seconds (then the sources are not even built)."""

    def count() -> dict[str, int]:
        built = sources()
        return count_sources(built, anchor=person(user)) if built else {}

    counts, _ = cached_total(f"queue-counts-user-{user.pk}", count, max_age=BADGE_MAX_AGE)
    return counts


def action_queue_for(user: Any, *, limit: int = QUEUE_LIMIT, now: datetime | None = None) -> ActionQueue:
    """The first ``limit`` items ``user`` can act on now, overdue first, then by due date, then those
    without one; with the count of every kind (see the module docstring for how fresh it is)."""
    now = now or timezone.now()
    sources = action_queue_sources(user, now=now)
    counts = _cached_counts(user, lambda: sources)
    # Kinds with nothing to do cost no query.
    busy = [source for source in sources if counts.get(source.kind)]
    items = soonest_first((item for source in busy for item in source.first(limit)), limit)
    rows = [QueueRow(item, days_until(item.due_at, now) if item.due_at else None) for item in items]
    shown: dict[str, int] = {}
    for item in items:
        shown[item.kind] = shown.get(item.kind, 0) + 1
    more = [
        (source.label, counts[source.kind] - shown.get(source.kind, 0), source.more_url)
        for source in busy
        if counts[source.kind] > shown.get(source.kind, 0)
    ]
    return ActionQueue(rows=rows, total=sum(counts.values()), counts=counts, more=more)


def dashboard_queue(user: Any, *, now: datetime | None = None) -> tuple[ActionQueue, datetime]:
    """The dashboard's queue (``action_queue_for``) and when it was read: from the cache when no change
    committed in the last ``BADGE_MAX_AGE`` seconds, so acting on an item, or anyone else's change,
    shows on the next visit and time alone makes it at most a minute old. The days left are counted
    afresh on every visit. Reading it costs a query per kind that has items; a lead's eight kinds
    are 15 ms of a page that no visit should pay twice in a minute.
    """
    now = now or timezone.now()

    def read() -> ActionQueue:
        queue = action_queue_for(user, now=now)
        # Only what the page shows is kept: the rows themselves stay in the database.
        return replace(queue, rows=[QueueRow(replace(row.item, record=None), None) for row in queue.rows])

    queue, read_at = cached_total(f"queue-user-{user.pk}", read, max_age=BADGE_MAX_AGE)
    rows = [QueueRow(row.item, days_until(row.item.due_at, now) if row.item.due_at else None) for row in queue.rows]
    return replace(queue, rows=rows), read_at


def action_queue_count(request: Any) -> int:
    """The header badge's number for ``request``'s user: the counts the dashboard has just read when on
    that page, else the cached counts (one query when they are not cached)."""
    counts = getattr(request, "action_queue_counts", None)
    if counts is not None:
        return sum(counts.values())
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return 0
    return sum(_cached_counts(user, lambda: action_queue_sources(user)).values())
