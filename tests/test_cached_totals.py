"""Cached totals: read from the cache until a record changes or they reach their age, never stale past either."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.cache import cache

from audit.services import audit_record
from core.freshness import cached_total, records_changed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


class Counter:
    def __init__(self):
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return self.calls


def test_a_total_is_counted_once_and_read_from_the_cache_with_when_it_was_counted():
    count = Counter()
    first, counted_at = cached_total("x", count, max_age=60)
    again, again_at = cached_total("x", count, max_age=60)
    assert (first, again, count.calls, again_at) == (1, 1, 1, counted_at)


def test_a_committed_change_makes_every_cached_total_stale(django_capture_on_commit_callbacks, evaluator):
    count = Counter()
    cached_total("x", count, max_age=60)
    with django_capture_on_commit_callbacks(execute=True):
        audit_record(actor=evaluator, action="change", summary="Renamed a finding")
    assert cached_total("x", count, max_age=60)[0] == 2


def test_reads_and_sign_ins_leave_cached_totals_alone(django_capture_on_commit_callbacks, evaluator):
    count = Counter()
    cached_total("x", count, max_age=60)
    with django_capture_on_commit_callbacks(execute=True):
        audit_record(actor=evaluator, action="download", summary="Downloaded a file")
        audit_record(actor=evaluator, action="login", summary="Signed in")
    assert cached_total("x", count, max_age=60)[0] == 1


def test_a_total_counted_while_a_change_commits_is_not_kept(django_capture_on_commit_callbacks, evaluator):
    count = Counter()
    with django_capture_on_commit_callbacks(execute=True):
        audit_record(actor=evaluator, action="change", summary="Renamed a finding")
        # Another request counts before the change is committed, so without it...
        assert cached_total("x", count, max_age=60)[0] == 1
    # ...and the commit makes that count stale.
    assert cached_total("x", count, max_age=60)[0] == 2


def test_a_total_is_counted_again_once_it_is_older_than_its_max_age(settings):
    # The process's own cache, whose clock the test can move (a Redis server keeps its own time).
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    count = Counter()
    with time_machine.travel(dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC), tick=False) as clock:
        cached_total("x", count, max_age=60)
        clock.shift(dt.timedelta(seconds=61))
        assert cached_total("x", count, max_age=60)[0] == 2


def test_marking_stale_works_on_an_empty_cache():
    count = Counter()
    records_changed()
    cached_total("x", count, max_age=60)
    records_changed()
    assert cached_total("x", count, max_age=60)[0] == 2


def test_a_broken_cache_means_counting_afresh_not_an_error(monkeypatch):
    def refuse(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "get", refuse)
    monkeypatch.setattr(cache, "incr", refuse)
    count = Counter()
    records_changed()
    assert [cached_total("x", count, max_age=60)[0] for _ in range(2)] == [1, 2]


def test_the_badge_is_counted_once_then_read_from_the_cache_until_something_changes(
    case, evaluator, lead, liaison_a, client
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from findings import services as finding_services
    from findings.tests.factories import released_finding

    finding = released_finding(assessment=case, author=evaluator, released_by=lead)
    client.force_login(liaison_a)

    def badge_queries() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as queries:
            body = client.get(reverse("findings:list")).content.decode()
        return sum("_queue_rows" in q["sql"] for q in queries.captured_queries), body

    counted, body = badge_queries()
    assert counted == 1 and 'portal-queue-count">1<' in body
    counted, body = badge_queries()
    assert counted == 0 and 'portal-queue-count">1<' in body  # from the cache
    finding_services.finding_respond(actor=liaison_a, finding=finding, disposition="risk_accepted", response="Fixed.")
    counted, body = badge_queries()
    assert counted == 1 and "portal-queue-count" not in body
