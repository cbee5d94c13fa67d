"""Readiness: can this process serve requests now? Each check is cheap and bounded in time.

Liveness (``/healthz``) only says the process answers; readiness (``/readyz``) says whether
what a request needs answers too: the database, the broker, the private file storage, and a
schema with every migration of this code applied. A check reports "ok" or what went wrong by
exception type only, never a message (it could name a host, a user or a bucket).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

from django.db import DatabaseError, connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

# A name no upload can have (uploads get random hexadecimal names, core.files.random_upload_path):
# asking whether it exists costs one metadata look-up (a stat, or an S3 HEAD) and writes nothing.
STORAGE_PROBE_NAME = "readiness-probe/never-written"


@dataclass(frozen=True)
class Check:
    ok: bool
    state: str


def _failed(exc: BaseException) -> Check:
    return Check(False, f"unavailable ({type(exc).__name__})")


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "down"; the type is reported
        return _failed(exc)
    return Check(True, "ok")


def check_broker() -> Check:
    from celery import current_app as celery_app  # the project's app (reviewportal/celery.py)

    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
    except Exception as exc:  # noqa: BLE001 - any failure means "down"; the type is reported
        return _failed(exc)
    return Check(True, "ok")


def check_storage() -> Check:
    """Ask the private storage (a local folder or an S3 bucket, core.files) about a probe name.

    ``exists`` reaches S3 (credentials, network, bucket) but, on a local folder, succeeds even when
    the folder cannot be written; so a local folder is made if it is missing (as the first upload
    would make it: a fresh install is ready) and must be writable.
    """
    from core.files import private_storage

    try:
        storage = private_storage()
        storage.exists(STORAGE_PROBE_NAME)
        location = getattr(storage, "location", None)
        if isinstance(location, (str, os.PathLike)):
            os.makedirs(location, exist_ok=True)  # raises when it cannot be: a file in the way, no rights
            if not os.access(location, os.W_OK | os.X_OK):
                return Check(False, "unavailable (folder not writable)")
    except Exception as exc:  # noqa: BLE001 - any failure means "down"; the type is reported
        return _failed(exc)
    return Check(True, "ok")


@functools.cache
def _migrations_in_code() -> frozenset[tuple[str, str]]:
    """The newest migration of each app in this code (the graph's leaves): read from disk once per process."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return frozenset(loader.graph.leaf_nodes())


def check_migrations() -> Check:
    """Not ready while a migration of this code is not recorded as applied: one query of the
    ``django_migrations`` table (its leaves only; migrations are applied in order)."""
    try:
        applied = MigrationRecorder(connection).applied_migrations()
    except DatabaseError as exc:
        return _failed(exc)
    missing = sorted(f"{app}.{name}" for app, name in _migrations_in_code() - applied.keys())
    if missing:
        return Check(False, f"pending: {', '.join(missing)}")
    return Check(True, "ok")


def readiness() -> dict[str, Check]:
    """Every check, in order; the migrations are not asked about when the database is down."""
    checks = {"database": check_database()}
    checks["broker"] = check_broker()
    checks["storage"] = check_storage()
    checks["migrations"] = (
        check_migrations() if checks["database"].ok else Check(False, "unknown (database unavailable)")
    )
    return checks
