"""Trigram indexes for the lists' text search, made by migrations on PostgreSQL only.

Django writes ``field__icontains`` as ``UPPER(column::text) LIKE UPPER('%word%')`` on PostgreSQL;
a GIN index over exactly that expression with ``gin_trgm_ops`` lets the planner find the matching
rows without reading the table. SQLite has no GIN, so there the operation does nothing. The
indexes need the pg_trgm extension, which ships with PostgreSQL and is trusted (a database owner
may create it). Without it the search still works by reading every row, so a database where the
extension cannot be created gets a warning rather than a failed deploy.
"""

from __future__ import annotations

import sys

from django.db import DatabaseError, migrations, transaction


def upper_text(column: str) -> str:
    """The expression Django's ``icontains`` compares on PostgreSQL, for ``column``."""
    return f'UPPER(("{column}")::text)'


def trigram_indexes(table: str, indexes: dict[str, str]) -> migrations.RunPython:
    """A migration operation that creates (and, reversed, drops) ``indexes`` (name → expression) on ``table``."""

    def create(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        try:
            with transaction.atomic(using=schema_editor.connection.alias):
                schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except DatabaseError as exc:  # any refusal leaves the search working, only slower
            sys.stderr.write(f"\n{table}: no trigram indexes for the search (pg_trgm unavailable: {exc})\n")
            return
        for name, expression in indexes.items():
            schema_editor.execute(
                f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin ({expression} gin_trgm_ops)'
            )

    def drop(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for name in indexes:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')

    return migrations.RunPython(create, drop, elidable=False)
