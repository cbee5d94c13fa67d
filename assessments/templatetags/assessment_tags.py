"""``{% audit_history case.reference %}`` shows a case's own history on its page, a page at a time;
``{% status_tag status label %}`` a case's or a ticket's status."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from assessments.selectors import audit_history_for
from core.pagination import CappedPaginator

register = template.Library()

# The newest events on the case page; older ones a page at a time.
HISTORY_PAGE_SIZE = 10
# The history pages with its own parameter, so it never moves another list on the same page.
HISTORY_PAGE_PARAM = "history_page"


@register.simple_tag
def status_tag(status: str, label: str) -> str:
    """A status as a tag (lists print one on every row: written here, not an included template)."""
    return format_html('<span class="usa-tag portal-status portal-status--{}">{}</span>', status, label)


@register.inclusion_tag("audit/_history.html", takes_context=True)
def audit_history(context, case_ref: str, per_page: int = HISTORY_PAGE_SIZE) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    # A long case records thousands of events: the count stops at the lists' cap, as every list's does.
    paginator = CappedPaginator(audit_history_for(case_ref, user), per_page)
    page_obj = paginator.get_page(request.GET.get(HISTORY_PAGE_PARAM) if request is not None else None)
    params = request.GET.copy() if request is not None else {}
    if params:
        params.pop(HISTORY_PAGE_PARAM, None)
    return {
        "events": page_obj.object_list,
        "page_obj": page_obj,
        "page_param": HISTORY_PAGE_PARAM,
        "query_string": params.urlencode() if params else "",
        "case_ref": case_ref,
    }
