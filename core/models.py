"""Tables of the shared kernel."""

from __future__ import annotations

from django.db import models


class ReferenceCounter(models.Model):
    """The last number given out for one reference prefix and year (``FND`` in 2026 → ``FND-2026-0042``).

    One row per prefix and year, bumped by one UPDATE (``core.references``), so the next
    number costs the same whatever the number of references, and never depends on how
    references sort as text.
    """

    prefix = models.CharField(max_length=8)
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField()

    class Meta:
        constraints = [
            # Also the conflict target of the allocating upsert.
            models.UniqueConstraint(fields=["prefix", "year"], name="reference_counter_one_per_prefix_year"),
            models.CheckConstraint(condition=models.Q(last_number__gte=1), name="reference_counter_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last_number}"


# The handling markings live in core.markings (with the abstract models that adopt them);
# imported here so Django finds the table.
from core.markings import HandlingMarking  # noqa: E402, F401
