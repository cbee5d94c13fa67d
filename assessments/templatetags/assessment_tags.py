"""``{% audit_history case.reference %}`` shows a case's own history on its page."""

from __future__ import annotations

from django import template

from assessments.selectors import audit_history_for

register = template.Library()

HISTORY_LIMIT = 50


@register.inclusion_tag("audit/_history.html", takes_context=True)
def audit_history(context, case_ref: str, limit: int = HISTORY_LIMIT) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    events = list(audit_history_for(case_ref, user, limit=limit + 1))
    return {"events": events[:limit], "truncated": len(events) > limit, "case_ref": case_ref}
