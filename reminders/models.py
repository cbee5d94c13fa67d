"""Deadlines, their reminders, in-app notifications and personal preferences.

Deadlines are never typed: services of the owning apps describe them with
``DeadlineSpec`` and call ``reminders.services.deadline_sync`` in the same
transaction as the change that moved them.

A ``Reminder`` is one delivery of one deadline (at one revision) to one
person at one offset. The unique constraint on (deadline, revision,
offset_days, recipient) is what makes delivery happen exactly once: a scan
that runs twice, or two scans at once, cannot create a second row, and a
worker only sends after claiming the row with a conditional UPDATE.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxLengthValidator
from django.db import models

from core.bounds import NOTE, length_checks


class DeadlineKind(models.TextChoices):
    WINDOW_END = "window_end", "Assessment window ends"
    TICKET_EXPIRY = "ticket_expiry", "Model access expires"
    OPEN_POINT_DUE = "open_point_due", "Open point due"
    SIGNATURE_DUE = "signature_due", "Signature due"
    FINDING_RESPONSE_DUE = "finding_response_due", "Finding response due"
    PLANNED_RELEASE = "planned_release", "Planned model release"


class Deadline(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    owner_id = models.PositiveBigIntegerField()
    owner = GenericForeignKey("owner_type", "owner_id")
    kind = models.CharField(max_length=32, choices=DeadlineKind.choices)
    title = models.CharField(max_length=300)
    url = models.CharField(max_length=300, blank=True, help_text="Portal path of the object to act on.")
    due_at = models.DateTimeField()
    organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.CASCADE, related_name="deadlines"
    )
    # The people who must act, and those told when it is overdue.
    recipients = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="deadlines", blank=True)
    escalate_to = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="escalated_deadlines", blank=True)
    # Bumped whenever due_at moves, so reminders of the old date do not block those of the new one.
    revision = models.PositiveIntegerField(default=1)
    # When the scan next has reminders to create for this deadline (null: nothing left to remind).
    # Kept by deadline_sync and the scan, so the scan reads only what is due, not every deadline.
    next_reminder_at = models.DateTimeField(null=True, blank=True)
    is_open = models.BooleanField(default=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(fields=["owner_type", "owner_id", "kind"], name="deadline_one_per_owner_kind"),
            models.CheckConstraint(
                condition=models.Q(is_open=True) | models.Q(next_reminder_at__isnull=True),
                name="deadline_closed_has_no_next_reminder",
            ),
        ]
        indexes = [
            # Open deadlines by due date, with the key: a person's deadlines are those whose key is
            # among theirs, so My deadlines, its counts and the dashboard's week are read from this
            # index alone (the key checked against the person's, hashed), never from the table.
            models.Index(fields=["due_at", "id"], condition=models.Q(is_open=True), name="deadline_open_due_id_idx"),
            # The API's deadline list is cursor-paged by due date or kind, with the public id to break
            # ties: each page seeks in one of these and reads one page, whatever the filters on is_open.
            models.Index(fields=["due_at", "public_id"], name="deadline_due_idx"),
            models.Index(fields=["kind", "public_id"], name="deadline_kind_idx"),
            # My deadlines sorted by what is due or by kind (reminders.selectors.DEADLINE_SORTS): open
            # deadlines only, as the page shows, so the page walks the index and stops.
            models.Index(fields=["title", "due_at"], condition=models.Q(is_open=True), name="deadline_open_title_idx"),
            models.Index(fields=["kind", "due_at"], condition=models.Q(is_open=True), name="deadline_open_kind_idx"),
            # The scan asks "open deadlines whose next reminder is due": this partial index holds only
            # deadlines with something left to send, so the scan's cost follows what is due.
            models.Index(
                fields=["next_reminder_at"],
                condition=models.Q(is_open=True, next_reminder_at__isnull=False),
                name="deadline_next_reminder_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title} ({self.due_at:%Y-%m-%d})"


def deadline_involves(user_id: int) -> models.Q:
    """Deadlines that remind ``user_id`` or escalate to them, as a filter.

    One correlated ``EXISTS`` per through table rather than JOINs: a join yields one row per
    matching person and needs a DISTINCT (a hash over every selected column) to fold them back, and
    keeps the planner from walking an index on the sort key and stopping after one page.
    """
    this_deadline = models.OuterRef("pk")
    reminds = Deadline.recipients.through.objects.filter(user_id=user_id, deadline_id=this_deadline)
    escalates = Deadline.escalate_to.through.objects.filter(user_id=user_id, deadline_id=this_deadline)
    return models.Q(models.Exists(reminds)) | models.Q(models.Exists(escalates))


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    CLAIMED = "claimed", "Being delivered"
    SENT = "sent", "Sent"
    CANCELLED = "cancelled", "Cancelled (deadline moved, closed or person removed)"
    FAILED = "failed", "Failed (gave up after repeated errors)"


class EmailStatus(models.TextChoices):
    NOT_YET = "not_yet", "Not yet"
    SENT = "sent", "Emailed"
    AWAITING_DIGEST = "awaiting_digest", "Waiting for the daily digest"
    IN_DIGEST = "in_digest", "Sent in a daily digest"
    OFF = "off", "Email turned off by the person"


class Reminder(models.Model):
    """One delivery of one deadline revision to one person at one offset.

    ``offset_days`` > 0 means "that many days before"; 0 means "overdue".
    """

    OVERDUE = 0

    deadline = models.ForeignKey(Deadline, on_delete=models.CASCADE, related_name="reminders")
    revision = models.PositiveIntegerField()
    offset_days = models.PositiveSmallIntegerField()
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders")
    send_at = models.DateTimeField(help_text="When this reminder became due.")
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    email_status = models.CharField(max_length=16, choices=EmailStatus.choices, default=EmailStatus.NOT_YET)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    digest = models.ForeignKey("Digest", null=True, blank=True, on_delete=models.SET_NULL, related_name="reminders")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-send_at"]
        constraints = [
            # The database, not luck, decides that a reminder exists (and so is sent) once.
            models.UniqueConstraint(
                fields=["deadline", "revision", "offset_days", "recipient"], name="reminder_once_per_offset_person"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in DeliveryStatus]), name="reminder_status_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="claimed") | models.Q(claimed_at__isnull=False),
                name="reminder_claim_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["send_at"], condition=models.Q(status="pending"), name="reminder_pending_idx"),
            models.Index(fields=["claimed_at"], condition=models.Q(status="claimed"), name="reminder_claimed_idx"),
            # Failed deliveries: the admin's action queue and the metrics count them on every visit.
            models.Index(fields=["id"], condition=models.Q(status="failed"), name="reminder_failed_idx"),
            models.Index(
                fields=["recipient"], condition=models.Q(email_status="awaiting_digest"), name="reminder_digest_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stage_label} · {self.deadline.title} → {self.recipient}"

    @property
    def stage_label(self) -> str:
        if self.offset_days == self.OVERDUE:
            return "Overdue"
        return f"{self.offset_days} day{'s' if self.offset_days != 1 else ''} before"


class Digest(models.Model):
    """One daily email to one person: the overdue escalation, or the reminders they chose to get daily."""

    class Kind(models.TextChoices):
        OVERDUE = "overdue", "Daily overdue digest (lead and programme admin)"
        REMINDERS = "reminders", "Daily digest of reminders"

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digests")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    day = models.DateField(help_text="The UTC day this digest covers.")
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    item_count = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day", "recipient"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "kind", "day"], name="digest_once_per_person_kind_day"),
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in DeliveryStatus]), name="digest_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["day"], condition=models.Q(status="pending"), name="digest_pending_idx"),
            models.Index(fields=["claimed_at"], condition=models.Q(status="claimed"), name="digest_claimed_idx"),
            # Failed deliveries: the admin's action queue and the metrics count them on every visit.
            models.Index(fields=["id"], condition=models.Q(status="failed"), name="digest_failed_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.day} → {self.recipient}"


class Handoff(models.Model):
    """One person told of one hand-off: a step in a record's life that makes it someone else's turn.

    The owning app's service calls ``reminders.services.handoff_notify`` in its own transaction with
    an ``event_key`` that names the event (``finding:12:released:<time>``). The unique constraint on
    (event_key, recipient) is what makes the message exist, and so be delivered, once: a service that
    runs again, a retried request or a replayed event cannot add a second row. Delivery claims the
    row with a conditional UPDATE, as for reminders.
    """

    event_key = models.CharField(max_length=200, help_text="Names the event; one row per event and person.")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="handoffs")
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True, max_length=NOTE, validators=[MaxLengthValidator(NOTE)])
    url = models.CharField(max_length=300, help_text="Portal path of the record the event concerns.")
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    email_status = models.CharField(max_length=16, choices=EmailStatus.choices, default=EmailStatus.NOT_YET)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    digest = models.ForeignKey("Digest", null=True, blank=True, on_delete=models.SET_NULL, related_name="handoffs")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # The database, not luck, decides that a person is told of an event (and so emailed) once.
            models.UniqueConstraint(fields=["event_key", "recipient"], name="handoff_once_per_event_person"),
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in DeliveryStatus]), name="handoff_status_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="claimed") | models.Q(claimed_at__isnull=False),
                name="handoff_claim_has_time",
            ),
            *length_checks("handoff", {"body": NOTE}),
        ]
        indexes = [
            models.Index(fields=["created_at"], condition=models.Q(status="pending"), name="handoff_pending_idx"),
            models.Index(fields=["claimed_at"], condition=models.Q(status="claimed"), name="handoff_claimed_idx"),
            # Failed deliveries: the admin's action queue and the metrics count them on every visit.
            models.Index(fields=["id"], condition=models.Q(status="failed"), name="handoff_failed_idx"),
            models.Index(
                fields=["recipient"], condition=models.Q(email_status="awaiting_digest"), name="handoff_digest_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} → {self.recipient}"


class Notification(models.Model):
    """An in-app message. At most one per reminder, per digest and per hand-off (enforced by the database).

    ``url`` is the page of the record it concerns: opening that page, or acting on the record, marks
    the person's notifications about it read (``notifications_mark_read_for``).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    reminder = models.OneToOneField(
        Reminder, null=True, blank=True, on_delete=models.CASCADE, related_name="notification"
    )
    digest = models.OneToOneField(Digest, null=True, blank=True, on_delete=models.CASCADE, related_name="notification")
    handoff = models.OneToOneField(
        Handoff, null=True, blank=True, on_delete=models.CASCADE, related_name="notification"
    )
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True, max_length=NOTE, validators=[MaxLengthValidator(NOTE)])
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The header's unread count: one index-only lookup per page.
            models.Index(
                fields=["recipient"], condition=models.Q(read_at__isnull=True), name="notification_unread_idx"
            ),
            models.Index(fields=["recipient", "-created_at"], name="notification_list_idx"),
        ]
        constraints = length_checks("notification", {"body": NOTE})

    def __str__(self) -> str:
        return self.title

    @property
    def is_unread(self) -> bool:
        return self.read_at is None


class EmailPreference(models.TextChoices):
    IMMEDIATE = "immediate", "Email me each reminder and update as it comes"
    DIGEST = "digest", "One email a day with all my reminders and updates"
    OFF = "off", "No reminder or update emails (in-app notifications only)"


class ReminderPreference(models.Model):
    """How one person wants reminders, and their calendar feed token (stored hashed)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminder_preference")
    email = models.CharField(max_length=16, choices=EmailPreference.choices, default=EmailPreference.IMMEDIATE)
    # SHA-256 of the calendar feed token; the token itself is shown once and never stored.
    calendar_token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    calendar_token_created_at = models.DateTimeField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(email__in=[p.value for p in EmailPreference]), name="reminder_preference_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.get_email_display()}"

    @property
    def has_calendar_feed(self) -> bool:
        return bool(self.calendar_token_hash)
