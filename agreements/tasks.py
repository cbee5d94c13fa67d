"""Celery tasks of the agreements app (thin: each calls one service)."""

from __future__ import annotations

from celery import shared_task

from agreements.services import agreements_expire_due


@shared_task(name="agreements.expire_due")
def expire_due_agreements() -> list[str]:
    """Expire active agreements whose expiry date has passed (idempotent; safe to overlap or repeat)."""
    return agreements_expire_due()
