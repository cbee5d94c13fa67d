"""Celery tasks of the assessments app (thin: each calls one service)."""

from __future__ import annotations

from celery import shared_task

from assessments.services import tickets_update_due


@shared_task(name="assessments.expire_access_tickets")
def expire_access_tickets() -> dict[str, int]:
    """End access that is over and start access whose period began (idempotent; safe to overlap)."""
    return tickets_update_due()
