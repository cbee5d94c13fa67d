"""Pagination of list pages, shared by every app.

``templates/partials/pagination.html`` expects ``page_obj`` and
``query_string`` (the list's filters without ``page``), so the page links keep
the filters the user chose.

A list's count is capped: counting every row a person may see costs as much as
reading them, and past a thousand nobody pages through a list; they narrow it.
So a count stops at ``COUNT_CAP`` + 1 rows (``SELECT COUNT(*) FROM (… LIMIT
1001)``), the list says "more than 1,000", and its pages reach the first
thousand rows in the chosen order (sorting the other way reaches the other end).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.core.paginator import Paginator

COUNT_CAP = 1000


def capped_count(queryset, cap: int | None = None) -> tuple[int, bool]:
    """How many rows ``queryset`` holds, up to ``cap`` (default ``COUNT_CAP``), and whether it holds more.

    One query that reads at most ``cap`` + 1 rows: which rows does not matter, so without the order
    and the per-row annotations the database stops at the first ``cap`` + 1 it finds.
    """
    cap = cap or COUNT_CAP
    found = queryset.order_by().values("pk")[: cap + 1].count()
    return min(found, cap), found > cap


def count_display(count: int, capped: bool) -> str:
    """A count as a person reads it: "1,234", or "more than 1,000" past the cap."""
    return f"more than {count:,}" if capped else f"{count:,}"


class CappedPaginator(Paginator):
    """A paginator whose count reads at most ``cap`` + 1 rows.

    ``count`` is the number of rows it pages through (at most ``cap``); ``is_capped`` says whether
    more exist, and ``count_display`` is the count as a person should read it.
    """

    def __init__(self, object_list, per_page, *, cap: int | None = None, bounded_count: int | None = None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap or COUNT_CAP
        if bounded_count is not None:
            # Counted by the caller together with something else (at most ``cap`` + 1, as below).
            self.__dict__["_bounded_count"] = bounded_count

    @cached_property
    def _bounded_count(self) -> int:
        object_list = self.object_list
        if hasattr(object_list, "count") and hasattr(object_list, "query"):
            count, capped = capped_count(object_list, self.cap)
            return count + capped
        return len(object_list[: self.cap + 1])

    @cached_property
    def count(self) -> int:
        return min(self._bounded_count, self.cap)

    @property
    def is_capped(self) -> bool:
        return self._bounded_count > self.cap

    @property
    def count_display(self) -> str:
        return count_display(self.count, self.is_capped)


def paginate(request, queryset, per_page: int, *, cap: int | None = None) -> dict[str, Any]:
    """The requested page of ``queryset`` and the query string its page links carry.

    A missing, non-numeric or out-of-range ``?page=`` gives the nearest valid
    page (Paginator.get_page), never an error.
    """
    page_obj = CappedPaginator(queryset, per_page, cap=cap).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return {"page_obj": page_obj, "query_string": params.urlencode()}
