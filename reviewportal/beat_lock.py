"""Exactly one Celery beat: a lease in Redis that a beat must hold to schedule anything.

A beat takes the lease when it starts (``SET key value NX PX ttl``) and renews it
every third of its lifetime; a second beat — a rolling deploy, a mistaken
scale-up, a standby on another machine — waits until the lease is free, so it
takes over within one lifetime when the active beat dies. A beat that loses its
lease (Redis flushed, a long pause) stops at once rather than schedule alongside
another. Without Redis (the embedded filesystem broker of ``make run``) there is
only one machine and no lease is needed.

Even if two beats ever ran, reminders would still go out once (the database
decides); the lease keeps the scan and the expiry jobs from running twice as often.
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
import threading
import time
import uuid

logger = logging.getLogger(__name__)

LEASE_KEY = "reviewportal:celery-beat:lease"

# Renew only if we still hold it; one round trip, atomic in Redis.
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class BeatLease:
    """The lease itself; ``client`` is a redis-py client."""

    def __init__(self, client, *, ttl_seconds: float = 60.0, key: str = LEASE_KEY):
        self.client = client
        self.ttl_ms = int(ttl_seconds * 1000)
        self.key = key
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def try_acquire(self) -> bool:
        return bool(self.client.set(self.key, self.holder, nx=True, px=self.ttl_ms))

    def renew(self) -> bool:
        return bool(self.client.eval(_RENEW, 1, self.key, self.holder, self.ttl_ms))

    def release(self) -> None:
        self.client.eval(_RELEASE, 1, self.key, self.holder)

    def current_holder(self) -> str | None:
        value = self.client.get(self.key)
        return value.decode() if isinstance(value, bytes) else value

    def wait_and_acquire(self, *, poll_seconds: float = 5.0, stop: threading.Event | None = None) -> bool:
        """Block until this beat holds the lease (or ``stop`` is set)."""
        announced = False
        while not (stop and stop.is_set()):
            if self.try_acquire():
                logger.info("Celery beat lease taken by %s.", self.holder)
                return True
            if not announced:
                logger.warning(
                    "Another Celery beat holds the lease (%s); this one waits as a standby.", self.current_holder()
                )
                announced = True
            time.sleep(poll_seconds)
        return False

    def keep_renewing(self, *, on_lost, stop: threading.Event) -> threading.Thread:
        """Renew in a daemon thread every third of the lifetime; call ``on_lost`` if the lease is gone."""

        def run() -> None:
            while not stop.wait(self.ttl_ms / 3000):
                try:
                    held = self.renew()
                except Exception:  # noqa: BLE001 - a Redis hiccup: try again before the lease runs out
                    logger.exception("Could not renew the Celery beat lease; retrying.")
                    continue
                if not held:
                    logger.critical("The Celery beat lease was lost; stopping this beat so two never schedule.")
                    on_lost()
                    return

        thread = threading.Thread(target=run, name="beat-lease", daemon=True)
        thread.start()
        return thread


def hold_beat_lease(broker_url: str) -> None:
    """Called when beat starts (celery's ``beat_init`` signal): wait for the lease, then keep it.

    The lease lives ``BEAT_LEASE_SECONDS`` (default 60): a standby takes over at most that long
    after the active beat died without a clean stop, and checks six times per lifetime (at most
    every 5 seconds) whether it is free. A shorter lifetime means a quicker take-over but that a
    pause of the active beat (a stalled Redis, a frozen machine) longer than two thirds of it
    costs the lease.
    """
    if not broker_url.startswith(("redis://", "rediss://")):
        return
    import redis
    from django.conf import settings

    ttl = float(getattr(settings, "BEAT_LEASE_SECONDS", 60))
    lease = BeatLease(redis.Redis.from_url(broker_url, socket_connect_timeout=5, socket_timeout=5), ttl_seconds=ttl)
    lease.wait_and_acquire(poll_seconds=min(5.0, ttl / 6))
    stop = threading.Event()
    lease.keep_renewing(on_lost=lambda: os._exit(1), stop=stop)

    def hand_over() -> None:
        # A beat that stops cleanly frees the lease, so a standby takes over at once, not a minute later.
        stop.set()
        try:
            lease.release()
        except Exception:  # noqa: BLE001 - at exit; the lease then simply runs out
            logger.warning("Could not release the Celery beat lease; it expires by itself.")

    atexit.register(hand_over)
