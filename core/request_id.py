"""The id of the request (or task) being served, readable from any layer.

The web middleware sets it for each request (reviewportal/middleware.py), the Celery
signal hooks carry it in the headers of the tasks that request enqueues and set it again
in the worker (reviewportal/observability/tasks.py). Log lines and audit events read it
from here, so no function has to pass it along. A context variable, so each thread and
each asyncio task sees its own.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar, Token

_current: ContextVar[str] = ContextVar("request_id", default="")

# What an incoming X-Request-ID (or a task header) must look like to be used as is: a short
# token of letters, digits and - _ . : nothing that could break a log line or a header.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{7,63}")


def new_request_id() -> str:
    """A fresh id: 32 hexadecimal characters."""
    return uuid.uuid4().hex


def safe_request_id(value: object) -> str | None:
    """``value`` when it is a safe request id (8 to 64 characters of A-Z a-z 0-9 . _ -), else None."""
    if isinstance(value, str) and SAFE_REQUEST_ID.fullmatch(value):
        return value
    return None


def current_request_id() -> str:
    """The id of the request or task being served; "" outside one (a management command, beat)."""
    return _current.get()


def set_request_id(value: str) -> Token:
    """Make ``value`` the current id; give the returned token to ``reset_request_id`` when done."""
    return _current.set(value)


def reset_request_id(token: Token) -> None:
    _current.reset(token)
