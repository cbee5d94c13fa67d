"""Log records carry the request id; with LOG_FORMAT=json each line is one JSON object.

Both are wired in settings.LOGGING: ``RequestIdFilter`` sits on the console handler (so records
of every logger, Django's and Celery's included, get ``request_id``), and ``JsonFormatter`` is
the handler's formatter when LOG_FORMAT=json. The code keeps logging through the standard
library (``logging.getLogger(__name__)``); python-json-logger only formats.
"""

from __future__ import annotations

import logging

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _LibraryJsonFormatter

from core.request_id import current_request_id


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id``: the id of the request or task being served, "-" outside one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = current_request_id() or "-"
        return True


class JsonFormatter(_LibraryJsonFormatter):
    """One JSON object per line: time (ISO 8601, UTC), level, logger, message, request_id and any
    ``extra`` fields.

    Django attaches the HttpRequest to some records (``django.request``); its text holds the full
    address with the query string, so it is left out: the request id finds the request.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("fmt", ["levelname", "name", "message", "request_id"])
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", "time")
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "request"])
        super().__init__(*args, **kwargs)
