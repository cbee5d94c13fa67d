"""A list page's rows as a CSV download: streamed, formulas neutralised, and recorded in the audit trail.

Callers build the rows from the same selector as the page (the policy's scope, the filters, the
search and the sort the person chose), so the file holds exactly what the list shows, every
page of it. Rows are read with ``QuerySet.iterator()`` and written as they come, so a
programme-sized export never sits in memory.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from django.db import transaction
from django.http import StreamingHttpResponse
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_record
from core.lists import csv_cell

# (header, the cell of one row)
CsvColumn = tuple[str, Callable[[Any], Any]]

# Rows fetched from the database at a time (PostgreSQL: a server-side cursor).
CHUNK_SIZE = 1000


class _Line:
    """A file-like object whose ``write`` hands back what csv.writer wrote, one line at a time."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Any], columns: Sequence[CsvColumn], banner: str = "") -> Iterator[str]:
    """The header, then each row, as CSV lines; every text cell neutralised against formulas.

    A ``banner`` (the handling marking of the rows, ``core.markings``) is the first and the last line.
    """
    writer = csv.writer(_Line())
    if banner:
        yield writer.writerow([csv_cell(banner)])
    yield writer.writerow([header for header, _ in columns])
    for row in rows:
        yield writer.writerow([csv_cell(cell(row)) for _, cell in columns])
    if banner:
        yield writer.writerow([csv_cell(banner)])


def _described(params) -> str:
    shown = [f"{key}={value}" for key, value in params.items() if key != "page" and value]
    return "; ".join(shown)[:300]


def csv_export_response(
    request, queryset, columns: Sequence[CsvColumn], *, what: str, filename: str, marking: Any = None
) -> StreamingHttpResponse:
    """Stream ``queryset`` (already scoped, filtered and sorted) as ``<filename>-<date>.csv``.

    With a ``marking`` (the most restrictive handling marking of the rows), its banner is the first
    and the last line, its code the ``X-Handling-Marking`` header, and the audit event names it.

    The export is recorded first, as an ``export`` event naming the list, how many rows it held and
    the filters, search and sort behind it, so an export cut short is in the trail too.
    """
    count = queryset.count()
    filters = _described(request.GET)
    with transaction.atomic():
        audit_record(
            actor=request.user,
            action=AuditEvent.Action.EXPORT,
            request=request,
            object_type="list",
            object_id=filename,
            object_repr=what,
            summary=f"Exported {count} row{'s' if count != 1 else ''} of {what} as CSV"
            + (f" ({filters})" if filters else "")
            + (f", marked {marking.code}" if marking is not None else ""),
        )
    rows = queryset.iterator(chunk_size=CHUNK_SIZE)
    banner = f"[{marking.banner_text}]" if marking is not None else ""
    response = StreamingHttpResponse(csv_lines(rows, columns, banner), content_type="text/csv; charset=utf-8")
    if marking is not None:
        response["X-Handling-Marking"] = marking.code
    day = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="{filename}-{day}.csv"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response
