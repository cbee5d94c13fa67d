"""The beat lease lives BEAT_LEASE_SECONDS, and a standby looks for it often enough to take over within that."""

from __future__ import annotations

import atexit

import pytest

from reviewportal import beat_lock


@pytest.mark.parametrize(("seconds", "poll"), [(60, 5.0), (12, 2.0)])
def test_the_lease_lifetime_comes_from_the_setting(settings, monkeypatch, seconds, poll):
    settings.BEAT_LEASE_SECONDS = seconds
    seen = {}

    def wait_and_acquire(self, *, poll_seconds, stop=None):
        seen.update(ttl_ms=self.ttl_ms, poll=poll_seconds)
        return True

    monkeypatch.setattr(beat_lock.BeatLease, "wait_and_acquire", wait_and_acquire)
    monkeypatch.setattr(beat_lock.BeatLease, "keep_renewing", lambda self, **kwargs: None)
    monkeypatch.setattr(atexit, "register", lambda function: function)
    beat_lock.hold_beat_lease("redis://127.0.0.1:6379/3")
    assert seen == {"ttl_ms": seconds * 1000, "poll": poll}


def test_without_redis_there_is_no_lease(monkeypatch):
    monkeypatch.setattr(beat_lock.BeatLease, "wait_and_acquire", lambda *a, **k: pytest.fail("no lease expected"))
    beat_lock.hold_beat_lease("filesystem://")
