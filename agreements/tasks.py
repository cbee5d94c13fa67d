"""Celery tasks of the agreements app (thin: each calls one service)."""

from __future__ import annotations

from celery import shared_task

from agreements.services import agreements_expire_due
from agreements.services.ending import agreements_end_on_notice_due


@shared_task(name="agreements.expire_due")
def expire_due_agreements() -> list[str]:
    """Expire active agreements whose expiry date has passed, and end those whose notice to end has run
    (idempotent; safe to overlap or repeat): one daily scan covers both dates."""
    return agreements_expire_due() + agreements_end_on_notice_due()
