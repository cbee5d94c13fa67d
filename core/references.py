"""Numbers for readable references (``AGR-2026-0007``): one counter row per prefix and year.

``reference_number_next`` bumps the counter with a single UPDATE ... RETURNING, so the
cost is one indexed row whatever the number of references, and numbers keep going past
any width (9999 is followed by 10000). The UPDATE runs on the caller's connection, inside
the caller's transaction, and holds the counter row until that transaction ends: two
transactions creating references of the same prefix at once queue on the row for a
moment and get different numbers. A number is never handed out twice. A rollback gives
the number back with the rest of the transaction, so numbers run without gaps; the one
exception is a number already held by a row written past the counter (an import, a row
made by hand), which ``save_with_reference`` skips.

The first number of a prefix and year seeds the counter from the highest number already
stored, compared as an integer (never as text).
"""

from __future__ import annotations

from django.db import connection
from django.db.models import BigIntegerField, Max, Model
from django.db.models.functions import Cast, Substr

# One statement each, the same on PostgreSQL and SQLite (3.35+): the counter row is read and
# written at once, so no second transaction can read it in between. Values are parameters.
_BUMP = (
    "UPDATE core_referencecounter SET last_number = last_number + 1"
    " WHERE prefix = %s AND year = %s RETURNING last_number"
)
_SEED = (
    "INSERT INTO core_referencecounter (prefix, year, last_number) VALUES (%s, %s, %s)"
    " ON CONFLICT (prefix, year) DO UPDATE SET last_number = core_referencecounter.last_number + 1"
    " RETURNING last_number"
)


def reference_format(prefix: str, year: int, number: int) -> str:
    """``PREFIX-YYYY-NNNN``: at least four digits, more when the number needs them."""
    return f"{prefix}-{year}-{number:04d}"


def reference_highest_number(*, model: type[Model], prefix: str, year: int) -> int:
    """The highest number among ``model``'s references for the prefix and year (0 when there is none)."""
    stem = f"{prefix}-{year}-"
    number = Cast(Substr("reference", len(stem) + 1), BigIntegerField())
    return model._default_manager.filter(reference__startswith=stem).aggregate(n=Max(number))["n"] or 0


def reference_number_next(*, model: type[Model], prefix: str, year: int) -> int:
    """Take the next number for ``prefix`` and ``year``, in the caller's transaction.

    ``model`` (whose ``reference`` field holds these references) is read only once per
    prefix and year, to seed a counter that does not exist yet. Two first uses at once
    both seed; the upsert makes the second one count on from the first.
    """
    with connection.cursor() as cursor:
        cursor.execute(_BUMP, [prefix, year])
        row = cursor.fetchone()
        if row is None:
            first = reference_highest_number(model=model, prefix=prefix, year=year) + 1
            cursor.execute(_SEED, [prefix, year, first])
            row = cursor.fetchone()
    return row[0]
