"""Exactly one Celery beat: the lease in the real Redis (REDIS_URL; CI requires it)."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from reviewportal.beat_lock import BeatLease
from tests.waiting import wait_for


@pytest.fixture
def redis_client(redis_url):
    import redis

    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def key(redis_client):
    name = f"reviewportal:test-beat-lease:{uuid.uuid4().hex}"
    yield name
    redis_client.delete(name)


def test_a_second_beat_cannot_take_the_lease_while_the_first_holds_it(redis_client, key):
    first, second = BeatLease(redis_client, key=key), BeatLease(redis_client, key=key)
    assert first.try_acquire() is True
    assert second.try_acquire() is False
    assert second.renew() is False  # a stranger cannot extend someone else's lease
    assert first.current_holder() == first.holder
    second.release()  # nor release it
    assert first.current_holder() == first.holder
    first.release()
    assert second.try_acquire() is True


def test_a_standby_beat_takes_over_when_the_active_one_stops_renewing(redis_client, key):
    active = BeatLease(redis_client, key=key, ttl_seconds=0.5)
    standby = BeatLease(redis_client, key=key, ttl_seconds=0.5)
    assert active.try_acquire()
    started = time.monotonic()
    assert standby.wait_and_acquire(poll_seconds=0.05) is True
    assert 0.3 < time.monotonic() - started < 3
    assert standby.current_holder() == standby.holder


def test_renewal_keeps_the_lease_and_a_lost_lease_stops_the_beat(redis_client, key):
    lease = BeatLease(redis_client, key=key, ttl_seconds=0.6)
    renewals: list[bool] = []
    renew = lease.renew

    def counted_renew() -> bool:
        held = renew()
        renewals.append(held)
        return held

    lease.renew = counted_renew
    assert lease.try_acquire()
    acquired = time.monotonic()
    lost, stop = threading.Event(), threading.Event()
    lease.keep_renewing(on_lost=lost.set, stop=stop)
    # Renewed every third of a lifetime: six renewals take it two lifetimes on, well past the first.
    wait_for(lambda: len(renewals) >= 6, what="six renewals of the lease", timeout=10)
    assert time.monotonic() - acquired > 0.6
    assert all(renewals)  # still held thanks to renewal
    assert lease.current_holder() == lease.holder and not lost.is_set()
    redis_client.delete(key)  # e.g. Redis flushed, or another beat's lease took its place
    assert lost.wait(timeout=3)
    stop.set()
