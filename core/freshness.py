"""Totals that may be read from the cache, and how the cache learns that records changed.

Some numbers cost a scan of a programme's records (the dashboard's totals by status over 100,000
findings and 200,000 access tickets) and are read on every visit. They are cached for at most
``max_age`` seconds, under a key that includes the *records generation*: a counter bumped after
every transaction that changes a record (``records_changed``, which the audit trail calls for every
audited change once it commits). A change therefore makes every cached total stale at once; the
time limit covers the rest (a change made around the services, a cache shared by fewer processes
than write, as with the per-process cache of a development checkout).

Correctness first: a page that shows a cached number says when it was counted, and any change that
commits through the services counts it again on the next visit, so acting on an item takes it off the
dashboard at once; only time alone (a date passing) and changes made around the services wait for
``max_age``. A cache that fails (Redis down) means counting afresh, not an error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from django.core.cache import cache
from django.utils import timezone

from core.page_cache import note_dependency

logger = logging.getLogger(__name__)

GENERATION_KEY = "records-generation"

T = TypeVar("T")


def records_changed() -> None:
    """Make every cached total stale. Call it after a change commits (``transaction.on_commit``)."""
    try:
        try:
            cache.incr(GENERATION_KEY)
        except ValueError:  # no counter yet (a new or flushed cache): start one
            cache.add(GENERATION_KEY, 1, timeout=None)
            cache.incr(GENERATION_KEY)
    except Exception:  # noqa: BLE001 - any cache failure; totals then live out their max_age
        logger.warning("Could not mark cached totals stale.", exc_info=True)


def cached_total(key: str, compute: Callable[[], T], *, max_age: int) -> tuple[T, datetime]:
    """``compute()``, or its cached value from at most ``max_age`` seconds ago with no change since.

    Returns the value and when it was computed, for the page to say how fresh it is.
    """
    try:
        generation = cache.get(GENERATION_KEY)
        if generation is None:  # a new or flushed cache: start the counter, so a kept page can depend on it
            cache.add(GENERATION_KEY, 0, timeout=None)
            generation = cache.get(GENERATION_KEY, 0)
        versioned = f"total:{key}:{generation}"
        hit: Any = cache.get(versioned)
    except Exception:  # noqa: BLE001 - any cache failure: count afresh
        logger.warning("Cache unavailable; counting afresh.", exc_info=True)
        return compute(), timezone.now()
    # The age is checked here too, not only by the cache's own expiry: the clock is the portal's.
    if hit is not None and (timezone.now() - hit[1]).total_seconds() <= max_age:
        note_dependency(GENERATION_KEY, generation, as_of=hit[1])
        return hit
    fresh = (compute(), timezone.now())
    note_dependency(GENERATION_KEY, generation, as_of=fresh[1])
    try:
        cache.set(versioned, fresh, timeout=max_age)
    except Exception:  # noqa: BLE001 - the count is right; only the next visit pays again
        logger.warning("Could not cache a total.", exc_info=True)
    return fresh
