"""The voluntary agreement between a developer company and the centre.

This module holds the agreement and its structured terms; the negotiation
record (proposals, meetings, open points, versions, documents, signatures)
lives beside it. Its statuses and moves are defined in ``agreements/states.py``
(and may be imported from here); the services in ``agreements/services/`` make
every change, after asking the policy.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse

from agreements.states import OPEN_AGREEMENT_STATUSES, SIGNING_STATUSES, AgreementStatus
from core import bounds
from core.bounds import BODY, NOTE, length_checks
from core.choices import MAX_WINDOW_DAYS
from core.files import StoredFile
from core.markings import Marked, UnclassifiedAttestation


class RiskConsequence(models.TextChoices):
    CONSULTATION = "consultation", "Consultation only"
    ACCESS_RESTRICTION = "access_restriction", "Access restriction"
    RELEASE_HOLD = "release_hold", "Release hold"


class AgreementKind(models.TextChoices):
    """What an agreement is: a one-off, a framework covering future releases, or a change to one."""

    STANDARD = "standard", "Agreement"
    FRAMEWORK = "framework", "Framework agreement"
    # Changes the parent's terms for every case under it once active.
    AMENDMENT = "amendment", "Amendment"
    # Changes the parent's terms for the models submitted under the addendum itself.
    ADDENDUM = "addendum", "Per-model addendum"


# Kinds that amend a parent agreement (and must name one); the others stand alone.
AMENDING_KINDS = (AgreementKind.AMENDMENT, AgreementKind.ADDENDUM)


class Agreement(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(max_length=20, unique=True, editable=False)
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="agreements",
        limit_choices_to={"kind": "developer"},
    )
    title = models.CharField(max_length=bounds.TITLE)
    status = models.CharField(
        max_length=24, choices=AgreementStatus.choices, default=AgreementStatus.DRAFT, db_index=True
    )
    kind = models.CharField(max_length=12, choices=AgreementKind.choices, default=AgreementKind.STANDARD)
    # The framework (or agreement) an amendment or addendum changes; set when it is opened, never moved.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="amendments", editable=False
    )
    # The terms an amendment or addendum changes (names from TERM_FIELDS); the others are the parent's.
    amended_clauses = models.JSONField(default=list, blank=True)

    # Structured terms. Every change of these makes a new version (see agreements.services).
    max_window_days = models.PositiveSmallIntegerField(
        "maximum assessment window (days)",
        default=MAX_WINDOW_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_WINDOW_DAYS)],
    )
    risk_domains = models.JSONField("risk domains in scope", default=list, blank=True)
    access_modalities = models.JSONField("access modalities offered", default=list, blank=True)
    trade_secret_terms = models.TextField(
        "trade-secret handling", blank=True, max_length=BODY, validators=[MaxLengthValidator(BODY)]
    )
    # The code of a core.markings.HandlingMarking (kept by value, like every term, so a version
    # reads as it was agreed); blank: the programme's default marking.
    default_marking = models.CharField(
        "default handling marking",
        max_length=16,
        blank=True,
        help_text="The handling marking the company's material (findings, files, comments, reports) gets by default.",
    )
    release_notice_days = models.PositiveSmallIntegerField(
        "release-notice period (days)", default=14, validators=[MaxValueValidator(bounds.RELEASE_NOTICE_MAX_DAYS)]
    )
    risk_consequence = models.CharField(
        "when a risk is found", max_length=24, choices=RiskConsequence.choices, default=RiskConsequence.CONSULTATION
    )
    effective_date = models.DateField(null=True, blank=True)
    expiry_date = models.DateField(null=True, blank=True)
    # A framework's cover: which future releases come under it, in words and by model family.
    covered_releases = models.TextField(
        "covered releases", blank=True, max_length=NOTE, validators=[MaxLengthValidator(NOTE)]
    )
    covered_model_family = models.CharField("covered model family", max_length=bounds.TITLE, blank=True)
    termination_notice_days = models.PositiveSmallIntegerField(
        "notice to end (days)", default=30, validators=[MaxValueValidator(bounds.RELEASE_NOTICE_MAX_DAYS)]
    )
    # Notice to end the agreement, given by either side: it ends on ``ends_on`` (notice date plus
    # the agreed notice period), when the scheduled job terminates it.
    end_notice_given_on = models.DateField(null=True, blank=True, editable=False)
    end_notice_side = models.CharField(max_length=10, blank=True, editable=False)
    end_notice_reason = models.TextField(blank=True, max_length=NOTE, validators=[MaxLengthValidator(NOTE)])
    ends_on = models.DateField(null=True, blank=True, editable=False)
    signature_due = models.DateField(null=True, blank=True, help_text="Date by which both sides should have signed.")
    # Why it was withdrawn or terminated, as told by the person who did it.
    status_reason = models.TextField(blank=True, max_length=NOTE, validators=[MaxLengthValidator(NOTE)])
    status_changed_at = models.DateTimeField(null=True, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_window_days__gte=1, max_window_days__lte=MAX_WINDOW_DAYS),
                name="agreement_window_days_1_to_30",
            ),
            models.CheckConstraint(
                condition=models.Q(expiry_date__isnull=True)
                | models.Q(effective_date__isnull=True)
                | models.Q(expiry_date__gt=models.F("effective_date")),
                name="agreement_expiry_after_effective",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in AgreementStatus]), name="agreement_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=[k.value for k in AgreementKind]), name="agreement_kind_valid"
            ),
            # An amendment or addendum always names what it amends; nothing else has a parent.
            models.CheckConstraint(
                condition=models.Q(kind__in=[k.value for k in AMENDING_KINDS], parent__isnull=False)
                | (~models.Q(kind__in=[k.value for k in AMENDING_KINDS]) & models.Q(parent__isnull=True)),
                name="agreement_parent_iff_amending",
            ),
            *length_checks(
                "agreement",
                {
                    "trade_secret_terms": BODY,
                    "status_reason": NOTE,
                    "covered_releases": NOTE,
                    "end_notice_reason": NOTE,
                },
            ),
        ]
        indexes = [
            # The list's sorts (agreements.selectors.LIST_SORTS), each read off its index either way.
            models.Index(fields=["-created_at"], name="agreement_created_sort_idx"),
            models.Index(fields=["title", "-created_at"], name="agreement_title_sort_idx"),
            models.Index(fields=["status", "-created_at"], name="agreement_status_sort_idx"),
            models.Index(fields=["max_window_days", "-created_at"], name="agreement_window_sort_idx"),
            models.Index(fields=["effective_date", "-created_at"], name="agreement_effective_sort_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} — {self.title}"

    @property
    def is_active(self) -> bool:
        return self.status == AgreementStatus.ACTIVE

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_AGREEMENT_STATUSES

    @property
    def awaits_signature(self) -> bool:
        return self.status in SIGNING_STATUSES

    @property
    def is_framework(self) -> bool:
        return self.kind == AgreementKind.FRAMEWORK

    @property
    def is_amending(self) -> bool:
        return self.kind in AMENDING_KINDS

    @property
    def end_notice_given(self) -> bool:
        return self.ends_on is not None


# The structured terms, in the order they are shown and compared. A change of any
# of these makes a new AgreementVersion.
TERM_FIELDS = (
    "max_window_days",
    "risk_domains",
    "access_modalities",
    "trade_secret_terms",
    "default_marking",
    "release_notice_days",
    "risk_consequence",
    "effective_date",
    "expiry_date",
    "covered_releases",
    "covered_model_family",
    "termination_notice_days",
)


class Clause(models.TextChoices):
    """What a proposal or comment is about: one of the terms, or the agreement in general."""

    MAX_WINDOW_DAYS = "max_window_days", "Maximum assessment window"
    RISK_DOMAINS = "risk_domains", "Risk domains in scope"
    ACCESS_MODALITIES = "access_modalities", "Access modalities offered"
    TRADE_SECRET_TERMS = "trade_secret_terms", "Trade-secret handling"
    DEFAULT_MARKING = "default_marking", "Default handling marking"
    RELEASE_NOTICE_DAYS = "release_notice_days", "Release-notice period"
    RISK_CONSEQUENCE = "risk_consequence", "When a risk is found"
    EFFECTIVE_DATE = "effective_date", "Effective date"
    EXPIRY_DATE = "expiry_date", "Expiry date"
    COVERED_RELEASES = "covered_releases", "Covered releases"
    COVERED_MODEL_FAMILY = "covered_model_family", "Covered model family"
    TERMINATION_NOTICE_DAYS = "termination_notice_days", "Notice to end"
    GENERAL = "general", "General"


class AgreementVersion(models.Model):
    """A snapshot of the agreed terms. Version 1 is the first draft; each change of terms adds one."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    terms = models.JSONField(help_text="The terms as agreed in this version (dates as ISO strings).")
    changed_clauses = models.JSONField(default=list, blank=True)
    note = models.CharField(max_length=bounds.SHORT_NOTE, blank=True, help_text="Why the terms changed.")
    # The running cases this version left outside the terms, and the decision recorded to go ahead anyway.
    affected_cases = models.JSONField(default=list, blank=True)
    decision = models.TextField(blank=True, max_length=NOTE, validators=[MaxLengthValidator(NOTE)])
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["agreement", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "number"], name="agreement_version_number_unique"),
            models.CheckConstraint(condition=models.Q(number__gte=1), name="agreement_version_number_positive"),
            *length_checks("agreementversion", {"decision": NOTE}),
        ]

    def __str__(self) -> str:
        return f"{self.agreement.reference} v{self.number}"


class EntryKind(models.TextChoices):
    PROPOSAL = "proposal", "Proposal"
    COUNTER_PROPOSAL = "counter_proposal", "Counter-proposal"
    COMMENT = "comment", "Comment"


class NegotiationEntry(models.Model):
    """One proposal, counter-proposal or comment on a clause, by either side."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(max_length=20, choices=EntryKind.choices, default=EntryKind.PROPOSAL)
    clause = models.CharField(max_length=24, choices=Clause.choices, default=Clause.GENERAL)
    text = models.TextField("proposed text or value", max_length=BODY, validators=[MaxLengthValidator(BODY)])
    responds_to = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="responses")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    # The side the author spoke for, kept even if their membership later changes.
    author_side = models.CharField(max_length=10, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name_plural = "negotiation entries"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=[k.value for k in EntryKind]), name="negotiation_entry_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(author_side__in=["centre", "company"]), name="negotiation_entry_side_valid"
            ),
            *length_checks("negotiationentry", {"text": BODY}),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.get_clause_display()}"


class Meeting(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="meetings")
    held_at = models.DateTimeField()
    attendees = models.TextField(
        help_text="One attendee per line, with their organisation.",
        max_length=NOTE,
        validators=[MaxLengthValidator(NOTE)],
    )
    minutes = models.TextField(max_length=BODY, validators=[MaxLengthValidator(BODY)])
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-held_at"]
        constraints = length_checks("meeting", {"attendees": NOTE, "minutes": BODY})

    def __str__(self) -> str:
        return f"Meeting on {self.held_at:%Y-%m-%d}"

    @property
    def attendee_list(self) -> list[str]:
        return [line.strip() for line in self.attendees.splitlines() if line.strip()]


class OpenPointStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class OpenPoint(models.Model):
    """A question still to settle, with an owner and a due date (a deadline while open)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="open_points")
    title = models.CharField(max_length=bounds.TITLE)
    description = models.TextField(blank=True, max_length=NOTE, validators=[MaxLengthValidator(NOTE)])
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="agreement_open_points")
    due_date = models.DateField()
    status = models.CharField(max_length=10, choices=OpenPointStatus.choices, default=OpenPointStatus.OPEN)
    resolution = models.TextField(blank=True, max_length=NOTE, validators=[MaxLengthValidator(NOTE)])
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["status", "due_date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in OpenPointStatus]), name="open_point_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status=OpenPointStatus.OPEN)
                | (models.Q(resolved_at__isnull=False) & ~models.Q(resolution="")),
                name="open_point_resolved_has_resolution",
            ),
            *length_checks("openpoint", {"description": NOTE, "resolution": NOTE}),
        ]
        indexes = [models.Index(fields=["status", "due_date"], name="open_point_status_due_idx")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == OpenPointStatus.OPEN


class DocumentKind(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed copy"
    ANNEX = "annex", "Annex or supporting document"


class AgreementDocument(Marked, UnclassifiedAttestation, StoredFile):
    """A draft, signed copy or annex; marked (``core.markings``) and attested unclassified by its uploader."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=10, choices=DocumentKind.choices, default=DocumentKind.DRAFT)
    description = models.CharField(max_length=bounds.SHORT_NOTE, blank=True)

    class Meta(StoredFile.Meta):
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=[k.value for k in DocumentKind]), name="agreement_document_kind_valid"
            )
        ]


class SignatureSide(models.TextChoices):
    CENTRE = "centre", "The centre"
    COMPANY = "company", "The company"


class Signature(models.Model):
    """Who signed for one side, in what capacity, and when. One per side per agreement."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="signatures")
    side = models.CharField(max_length=10, choices=SignatureSide.choices)
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signer_name = models.CharField(max_length=bounds.TITLE, help_text="The name as signed.")
    capacity = models.CharField(
        max_length=bounds.TITLE, help_text="The signer's title or capacity, e.g. Chief Legal Officer."
    )
    signed_at = models.DateTimeField()
    # The exact version signed: its number and the SHA-256 of its terms (agreements.services.terms_hash).
    version_number = models.PositiveIntegerField(null=True, blank=True)
    terms_hash = models.CharField(max_length=64, blank=True)
    # A signature of terms that changed afterwards no longer binds: both sides sign again.
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_reason = models.CharField(max_length=bounds.SHORT_NOTE, blank=True)

    class Meta:
        ordering = ["signed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "side"], condition=models.Q(voided_at__isnull=True), name="signature_one_per_side"
            ),
            models.CheckConstraint(
                condition=models.Q(side__in=[s.value for s in SignatureSide]), name="signature_side_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.signer_name} for {self.get_side_display().lower()}"


class ReleaseNoticeStatus(models.TextChoices):
    EXPECTED = "expected", "Expected"
    SUBMITTED = "submitted", "Submitted"
    CANCELLED = "cancelled", "Cancelled"


class ReleaseNotice(models.Model):
    """An upcoming covered release, recorded by the centre before the company submits the model.

    ``is_late`` is kept by the services (``agreements.services.release_notices``) whenever a date
    moves: notice is late when fewer days than the agreement's release-notice period
    (``notice_days_required``, taken from the effective terms when recorded) lie between the
    day notice was given and the planned public release.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(max_length=20, unique=True, editable=False)
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="release_notices")
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="release_notices", editable=False
    )
    model_name = models.CharField(max_length=bounds.TITLE)
    model_version = models.CharField(max_length=bounds.VERSION, blank=True)
    planned_release_date = models.DateField("planned public release")
    notice_given_on = models.DateField("notice given on")
    notice_days_required = models.PositiveSmallIntegerField(editable=False)
    is_late = models.BooleanField(default=False, editable=False)
    status = models.CharField(
        max_length=10, choices=ReleaseNoticeStatus.choices, default=ReleaseNoticeStatus.EXPECTED, editable=False
    )
    # The lead evaluator who will run the case, told when notice is late.
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="release_notices"
    )
    notes = models.TextField(blank=True, max_length=NOTE, validators=[MaxLengthValidator(NOTE)])
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["planned_release_date", "reference"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in ReleaseNoticeStatus]),
                name="release_notice_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(planned_release_date__gte=models.F("notice_given_on")),
                name="release_notice_release_after_notice",
            ),
            *length_checks("releasenotice", {"notes": NOTE}),
        ]
        indexes = [
            models.Index(fields=["status", "planned_release_date"], name="release_notice_upcoming_idx"),
            models.Index(fields=["is_late", "planned_release_date"], name="release_notice_late_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} — {self.model_name} {self.model_version}".strip()

    def get_absolute_url(self) -> str:
        return reverse("agreements:release_notice", kwargs={"reference": self.reference})

    @property
    def notice_days_given(self) -> int:
        """Whole days between the notice and the planned public release."""
        return (self.planned_release_date - self.notice_given_on).days
