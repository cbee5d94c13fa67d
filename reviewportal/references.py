"""Readable public references such as ``AGR-2026-0007``.

URLs and the API use these (or a UUID), never the integer primary key.
The number is the next free one for the prefix and year; the unique
constraint on ``reference`` settles a race, and the loser simply tries the
next number inside its own savepoint.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone

_ATTEMPTS = 5


def _next_number(model: type[Model], stem: str) -> int:
    last = (
        model._default_manager.filter(reference__startswith=stem)
        .order_by("-reference")
        .values_list("reference", flat=True)
        .first()
    )
    return int(last.rsplit("-", 1)[1]) + 1 if last else 1


def save_with_reference(obj: Model, prefix: str) -> Model:
    """Save a new ``obj`` with the next ``PREFIX-YYYY-NNNN`` reference."""
    stem = f"{prefix}-{timezone.now():%Y}-"
    for _ in range(_ATTEMPTS):
        obj.reference = f"{stem}{_next_number(type(obj), stem):04d}"
        try:
            with transaction.atomic():
                obj.save(force_insert=True)
            return obj
        except IntegrityError:
            if type(obj)._default_manager.filter(reference=obj.reference).exists():
                obj.pk = None
                continue
            raise
    raise IntegrityError(f"Could not allocate a {prefix} reference after {_ATTEMPTS} attempts.")
