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

from django.db import IntegrityError, connection, transaction
from django.db.models import BigIntegerField, Max, Model
from django.db.models.functions import Cast, Substr
from django.utils import timezone

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


# A number already held by a row written past the counter is skipped; this many in a row is a fault.
_ATTEMPTS = 5


def save_with_reference(obj: Model, prefix: str) -> Model:
    """Save a new ``obj`` with the next ``PREFIX-YYYY-NNNN`` reference (more digits after 9999).

    Call it inside the transaction that creates ``obj``: the counter row stays locked until
    that transaction ends, and a rollback gives the number back.
    """
    year = timezone.now().year
    # One transaction for the number and the row (a savepoint inside the caller's), so a failed
    # save gives the number back even when the caller runs in autocommit.
    with transaction.atomic():
        for _ in range(_ATTEMPTS):
            number = reference_number_next(model=type(obj), prefix=prefix, year=year)
            obj.reference = reference_format(prefix, year, number)
            try:
                with transaction.atomic():
                    obj.save(force_insert=True)
                return obj
            except IntegrityError:
                # A row written past the counter (an import, a hand-made row) holds this number: take the next.
                if type(obj)._default_manager.filter(reference=obj.reference).exists():
                    obj.pk = None
                    continue
                raise
        raise IntegrityError(f"Could not allocate a {prefix} reference after {_ATTEMPTS} attempts.")
