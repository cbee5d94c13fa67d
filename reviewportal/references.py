"""Readable public references such as ``AGR-2026-0007``.

URLs and the API use these (or a UUID), never the integer primary key.
The number comes from the counter of the prefix and year (``core.references``):
one row bumped in the caller's transaction, so it costs the same at any size,
goes on past 9999, and two creations at once never get the same number. The
unique constraint on ``reference`` stays the last word: a number already held
by a row written past the counter is skipped, inside its own savepoint.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone

from core.references import reference_format, reference_number_next

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
