"""Small display helpers for agreement pages."""

from django import template

from agreements.models import OpenPointStatus
from agreements.states import AgreementStatus

register = template.Library()

_STATUS_CLASSES = {
    AgreementStatus.DRAFT: "portal-tag--neutral",
    AgreementStatus.NEGOTIATING: "portal-tag--info",
    AgreementStatus.AWAITING_SIGNATURE: "portal-tag--warning",
    AgreementStatus.ACTIVE: "portal-tag--success",
    AgreementStatus.EXPIRED: "portal-tag--neutral",
    AgreementStatus.TERMINATED: "portal-tag--error",
    AgreementStatus.WITHDRAWN: "portal-tag--neutral",
    OpenPointStatus.OPEN: "portal-tag--warning",
    OpenPointStatus.RESOLVED: "portal-tag--success",
}


@register.filter
def status_tag_class(status: str) -> str:
    """The colour class of a status tag (usa-tag plus one of the portal tag colours)."""
    return _STATUS_CLASSES.get(status, "portal-tag--neutral")
