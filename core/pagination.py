"""Pagination of list pages, shared by every app.

``templates/partials/pagination.html`` expects ``page_obj`` and
``query_string`` (the list's filters without ``page``), so the page links keep
the filters the user chose.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator


def paginate(request, queryset, per_page: int) -> dict[str, Any]:
    """The requested page of ``queryset`` and the query string its page links carry.

    A missing, non-numeric or out-of-range ``?page=`` gives the nearest valid
    page (Paginator.get_page), never an error.
    """
    page_obj = Paginator(queryset, per_page).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return {"page_obj": page_obj, "query_string": params.urlencode()}
