"""Waiting in tests for something another thread or process does: poll for the state, never sleep a guess.

A fixed sleep is either too short on a busy machine (a flaky failure) or longer than needed
everywhere else (a slow suite). ``wait_for`` returns as soon as the state is reached and, when
it never is, fails the test saying what it waited for.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest


def wait_for(
    predicate: Callable[[], Any],
    *,
    what: str,
    timeout: float = 30.0,
    interval: float = 0.05,
    details: Callable[[], Any] | None = None,
) -> Any:
    """Call ``predicate`` every ``interval`` seconds until it returns something true, and return that.

    After ``timeout`` seconds it is asked once more; if it is still false the test fails with
    "Timed out after …s waiting for <what>", followed by ``details()`` when given (for example
    the rows that were there instead).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    result = predicate()
    if result:
        return result
    message = f"Timed out after {timeout:g}s waiting for {what}."
    if details is not None:
        message += f"\n{details()}"
    pytest.fail(message)
