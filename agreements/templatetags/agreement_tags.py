"""Small display helpers for agreement pages."""

from django import template

register = template.Library()

_STATUS_CLASSES = {
    "draft": "portal-tag--neutral",
    "negotiating": "portal-tag--info",
    "awaiting_signature": "portal-tag--warning",
    "active": "portal-tag--success",
    "expired": "portal-tag--neutral",
    "terminated": "portal-tag--error",
    "withdrawn": "portal-tag--neutral",
    "open": "portal-tag--warning",
    "resolved": "portal-tag--success",
}


@register.filter
def status_tag_class(status: str) -> str:
    """The colour class of a status tag (usa-tag plus one of the portal tag colours)."""
    return _STATUS_CLASSES.get(status, "portal-tag--neutral")
