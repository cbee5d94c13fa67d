"""Hand-offs: telling the people whose turn it now is, once per event, in the app and by email.

How a hand-off travels:

1. The owning app's service (a finding released, a ticket approved, an agreement
   signed...) calls ``handoff_notify`` inside its own transaction, with the people
   it computed from the case team, the company's liaisons or the negotiators. One
   ``Handoff`` row per person is written there, so a refused or rolled-back change
   tells nobody; the unique (event_key, recipient) constraint drops a second row
   for the same event, so running the service or the request again tells nobody
   twice.
2. After commit, one ``reminders.deliver_handoff`` task per row is published (by
   name, through ``reminders.queue``). The scan publishes any row still pending
   later, so a broker that was down delays the message but does not lose it.
3. ``handoff_deliver`` (a worker) claims the row with ``UPDATE ... WHERE
   status='pending'`` and goes on only when exactly one row changed; it writes the
   in-app notification and emails as the person prefers (each one, in the daily
   digest, or not at all).

The notification carries the record's page (``url``): opening that page, or acting
on the record, marks the person's notifications about it read.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from accounts.models import Role
from core.bounds import NOTE
from core.markings import marking_for_path
from reminders.emails import delivery_message_id, send_templated_email
from reminders.models import DeliveryStatus, EmailPreference, EmailStatus, Handoff, Notification
from reminders.queue import DELIVER_HANDOFF, enqueue_on_commit
from reminders.services.delivery import _claim, _release, email_preference_for

logger = logging.getLogger(__name__)


def _page(url: str) -> str:
    """The page part of a portal address (no fragment, no query): what ``request.path`` is on that page."""
    return url.split("#", 1)[0].split("?", 1)[0]


# Which notifications are about a page: their address is the page or a part of it after "#" or "?"
# (``/agreements/AGR-1/#open-points``). Written out once, for the header's count on every page and
# for the mark-read UPDATE: the ORM took twice as long to build the count as the database to answer.
_ABOUT_SQL = "(url = %s OR url LIKE %s ESCAPE '\\' OR url LIKE %s ESCAPE '\\')"


def _like_prefix(text: str) -> str:
    """``text`` as the start of a LIKE pattern: its wildcards and the escape character match themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _about_params(url: str) -> list[str]:
    """The parameters of ``_ABOUT_SQL`` for the page whose address is ``url``."""
    page = _page(url)
    prefix = _like_prefix(page)
    return [page, f"{prefix}#%", f"{prefix}?%"]


def notifications_mark_read_for(*, user: Any, url: str) -> int:
    """Mark read every unread notification of ``user`` about the record whose page is ``url``.

    Called when the person opens the record's page and when they act on it (``handoff_notify``
    with ``actor``): a "Due in 4 days" reminder or a "finding released" message is done with once
    the person is on it. One UPDATE read from the unread index. Returns how many changed.
    """
    if not getattr(user, "is_authenticated", False) or not url:
        return 0
    # A constant condition; the address travels as parameters.
    about = RawSQL(_ABOUT_SQL, _about_params(url), output_field=BooleanField())  # noqa: S611  # nosec B611
    return Notification.objects.filter(about, recipient_id=user.pk, read_at__isnull=True).update(read_at=timezone.now())


def notifications_open_page(*, user: Any, path: str) -> int:
    """The header's unread count for ``user`` on the page ``path``, after marking read their
    notifications about the record shown there (opening it is reading them).

    One query reads both the unread count and how many of those are about this page (from the
    unread index); the UPDATE runs only when some are, so a person with notifications unread about
    other records pays no write on every page they open.
    """
    if not path:
        return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).count()
    unread, here = _unread_counts(recipient_id=user.pk, page=path)
    if here:
        unread -= notifications_mark_read_for(user=user, url=path)
    return unread


# Constants only (the table's name is filled in from the model); the values travel as parameters.
_UNREAD_COUNTS_SQL = (
    f"SELECT COUNT(*), COUNT(*) FILTER (WHERE {_ABOUT_SQL}) "  # noqa: S608  # nosec B608
    "FROM {table} WHERE recipient_id = %s AND read_at IS NULL"
)


def _unread_counts(*, recipient_id: int, page: str) -> tuple[int, int]:
    """How many notifications ``recipient_id`` has unread, and how many of those are about ``page``."""
    sql = _UNREAD_COUNTS_SQL.format(table=connection.ops.quote_name(Notification._meta.db_table))
    with connection.cursor() as cursor:
        cursor.execute(sql, [*_about_params(page), recipient_id])
        unread, here = cursor.fetchone()
    return unread, here


def _allowed_recipients(recipients: Iterable[Any], *, organisation: Any, actor: Any) -> list[int]:
    """The ids of the active members among ``recipients`` (users or ids), without the actor and
    without any liaison of a company other than ``organisation`` (none at all when it is None):
    whatever the caller computed, a liaison is never told about another company's record."""
    wanted = {getattr(person, "pk", person) for person in recipients if person is not None}
    wanted.discard(getattr(actor, "pk", None))
    if not wanted:
        return []
    company_id = getattr(organisation, "pk", organisation)
    same_company = Q(membership__organisation_id=company_id) if company_id is not None else Q(pk__in=[])
    allowed = set(
        get_user_model()
        .objects.filter(pk__in=wanted, is_active=True, membership__isnull=False)
        .filter(~Q(membership__role=Role.LIAISON) | same_company)
        .values_list("pk", flat=True)
    )
    if wanted - allowed:
        logger.info("Hand-off: not telling %s (inactive, no membership, or another company).", sorted(wanted - allowed))
    return sorted(allowed)


def handoff_notify(
    *,
    event_key: str,
    recipients: Iterable[Any],
    title: str,
    url: str,
    body: str = "",
    organisation: Any = None,
    actor: Any = None,
) -> list[int]:
    """Tell ``recipients`` that ``event_key`` happened to the record at ``url``, once each.

    Call it inside the service's ``transaction.atomic()``, after the change is written: the rows
    are written in that transaction and delivery is published after it commits. ``event_key``
    must name the event so that the same event always gives the same key (the record, what
    happened and when, e.g. ``finding:12:released:2026-11-29T03:00:00+00:00``). ``organisation``
    is the company the record belongs to: only its liaisons may be told. The ``actor`` is never
    told of their own step, and their notifications about the record are marked read (acting on
    it is having seen it). Returns the ids of the rows still waiting for delivery.
    """
    if actor is not None:
        notifications_mark_read_for(user=actor, url=url)
    ids = _allowed_recipients(recipients, organisation=organisation, actor=actor)
    if not ids:
        return []
    key = event_key[:200]
    rows = [Handoff(event_key=key, recipient_id=pk, title=title[:300], body=body[:NOTE], url=url[:300]) for pk in ids]
    with transaction.atomic():
        Handoff.objects.bulk_create(rows, ignore_conflicts=True)
        pending = list(
            Handoff.objects.filter(event_key=key, recipient_id__in=ids, status=DeliveryStatus.PENDING).values_list(
                "pk", flat=True
            )
        )
        for handoff_id in pending:
            enqueue_on_commit(DELIVER_HANDOFF, handoff_id)
    return pending


def handoff_deliver(*, handoff_id: int, connection: Any = None) -> str:
    """Deliver one hand-off at most once: the in-app notification, and email as the person prefers.

    Returns ``sent``, ``cancelled`` (the person left) or ``not_claimed`` (another worker has it,
    or it is done). A transport error releases the claim and is raised again for the task to retry.
    """
    claimed_at = _claim(Handoff, handoff_id)
    if claimed_at is None:
        return "not_claimed"
    handoff = Handoff.objects.select_related("recipient").get(pk=handoff_id)
    person = handoff.recipient
    mine = Handoff.objects.filter(pk=handoff_id, status=DeliveryStatus.CLAIMED, claimed_at=claimed_at)
    if not person.is_active:
        mine.update(status=DeliveryStatus.CANCELLED, last_error="The person's account was closed.")
        return "cancelled"
    now = timezone.now()
    preference = email_preference_for(person)
    email_status, emailed_at = {
        EmailPreference.IMMEDIATE: (EmailStatus.SENT, now),
        EmailPreference.DIGEST: (EmailStatus.AWAITING_DIGEST, None),
        EmailPreference.OFF: (EmailStatus.OFF, None),
    }[preference]
    if preference == EmailPreference.IMMEDIATE:
        try:
            send_templated_email(
                name="handoff",
                to=person.email,
                context={"person": person, "handoff": handoff, "marking": marking_for_path(handoff.url)},
                connection=connection,
                message_id=delivery_message_id("handoff", handoff.pk),
            )
        except Exception as exc:
            _release(Handoff, handoff_id, claimed_at, exc)
            raise
    with transaction.atomic():
        if mine.update(status=DeliveryStatus.SENT, sent_at=now, email_status=email_status, emailed_at=emailed_at):
            Notification.objects.get_or_create(
                handoff=handoff,
                defaults={"recipient": person, "title": handoff.title, "body": handoff.body, "url": handoff.url},
            )
    return "sent"
