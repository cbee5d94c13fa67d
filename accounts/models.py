"""Organisations, users and memberships.

A user belongs to exactly one organisation through exactly one membership,
and the membership carries the role. The centre itself is an organisation of
kind ``agency``; each frontier-model company is of kind ``developer``.
"""

from __future__ import annotations

import uuid
import zoneinfo

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.states import EngagementStage
from core.bounds import length_checks


class Organisation(models.Model):
    class Kind(models.TextChoices):
        AGENCY = "agency", "Agency (the centre)"
        DEVELOPER = "developer", "Developer company"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    email_domains = models.JSONField(
        default=list, blank=True, help_text="Email domains of this organisation's staff, e.g. alpha-ai.example."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # A company's engagement with the programme (accounts/states.py), centre-only; written only by
    # accounts.services.organisation_engagement_change, which keeps each change in EngagementChange.
    # The centre itself keeps the default and never moves.
    engagement_stage = models.CharField(
        max_length=20, choices=EngagementStage.choices, default=EngagementStage.PROSPECT, db_index=True
    )
    engagement_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    engagement_changed_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    disclosure_permitted = models.BooleanField(
        default=False,
        help_text="The company agrees that its participation in the programme may be disclosed publicly.",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["agency", "developer"]), name="organisation_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(engagement_stage__in=[s.value for s in EngagementStage]),
                name="organisation_engagement_stage_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_agency(self) -> bool:
        return self.kind == self.Kind.AGENCY


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


def _validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone.")


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in with an email address."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200)
    time_zone = models.CharField(max_length=64, default="America/New_York", validators=[_validate_time_zone])
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May log in to the Django admin.")
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name", "email"]
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email}>" if self.full_name else self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def membership_or_none(self) -> Membership | None:
        try:
            return self.membership
        except Membership.DoesNotExist:
            return None

    @property
    def organisation(self) -> Organisation | None:
        membership = self.membership_or_none
        return membership.organisation if membership else None

    @property
    def role(self) -> str | None:
        membership = self.membership_or_none
        return membership.role if membership else None


class Role(models.TextChoices):
    PROGRAMME_ADMIN = "programme_admin", "Programme admin"
    LEAD_EVALUATOR = "lead_evaluator", "Lead evaluator"
    EVALUATOR = "evaluator", "Evaluator"
    LIAISON = "liaison", "Company liaison"


AGENCY_ROLES = {Role.PROGRAMME_ADMIN, Role.LEAD_EVALUATOR, Role.EVALUATOR}


class Membership(models.Model):
    """The one organisation a user belongs to, and their role in it."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="membership")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=32, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation__name", "user__email"]
        constraints = [
            models.CheckConstraint(condition=models.Q(role__in=[r.value for r in Role]), name="membership_role_valid")
        ]

    def __str__(self) -> str:
        return f"{self.user.email} — {self.get_role_display()} at {self.organisation}"

    def clean(self) -> None:
        # Centre roles belong to the centre, the liaison role to a company.
        if self.organisation_id is None or not self.role:
            return
        is_agency = self.organisation.kind == Organisation.Kind.AGENCY
        if self.role in AGENCY_ROLES and not is_agency:
            raise ValidationError({"role": "Centre roles can only be held by members of the agency."})
        if self.role == Role.LIAISON and is_agency:
            raise ValidationError({"role": "Company liaisons must belong to a developer organisation."})


class ApiToken(models.Model):
    """A personal API token: ``rp_<prefix>_<secret>``, shown once, stored as a prefix and a SHA-256.

    The prefix finds the row with one indexed lookup; the secret is 32 random
    bytes, so a fast hash is enough (no dictionary to attack) and the
    comparison is constant-time. The plaintext exists only in the response
    that created it.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. 'nightly export script'.")
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False, help_text="SHA-256 of the secret part, hex.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")), name="apitoken_expiry_after_creation"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (rp_{self.prefix}_…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_expired(self, now=None) -> bool:
        return (now or timezone.now()) >= self.expires_at

    @property
    def status(self) -> str:
        if self.is_revoked:
            return "revoked"
        if self.is_expired():
            return "expired"
        return "active"


class EngagementChange(models.Model):
    """One change of a company's engagement stage or disclosure flag: the history, never edited.

    Written with the organisation by ``organisation_engagement_change``; a row holds the stage and
    the flag before and after, so the record reads on its own. The first row of a company whose
    stage was never changed starts from the default (prospect, not disclosed).
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="engagement_changes")
    stage_from = models.CharField(max_length=20, choices=EngagementStage.choices)
    stage_to = models.CharField(max_length=20, choices=EngagementStage.choices)
    disclosure_from = models.BooleanField()
    disclosure_to = models.BooleanField()
    note = models.TextField(blank=True, max_length=2000, validators=[MaxLengthValidator(2000)])
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-changed_at", "-pk"]
        indexes = [models.Index(fields=["organisation", "-changed_at"], name="engagement_change_org_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(stage_from__in=[s.value for s in EngagementStage])
                & models.Q(stage_to__in=[s.value for s in EngagementStage]),
                name="engagement_change_stages_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(stage_from=models.F("stage_to"))
                | ~models.Q(disclosure_from=models.F("disclosure_to")),
                name="engagement_change_changes_something",
            ),
            *length_checks("engagementchange", {"note": 2000}),
        ]

    def __str__(self) -> str:
        return f"{self.organisation}: {self.get_stage_from_display()} → {self.get_stage_to_display()}"
