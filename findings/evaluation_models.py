"""Imported Inspect evaluation logs and the per-domain severity rubrics a finding is rated against.

Loaded with ``findings.models`` (which imports these classes), so the app's models stay one set.
An ``EvaluationRun`` is a stored file like any other evidence (private, SHA-256, permission-checked
downloads, a handling marking and the uploader's unclassified attestation) plus what the import
read from the log's header; only ``findings.services.evaluation`` writes one, and only
``imported`` runs can be cited by a finding. A ``SeverityRubric`` row is one version of one
domain's rubric: revising it adds a version and never changes an older one, so a finding's
``rubric`` still shows the words it was rated against.
"""

from __future__ import annotations

import uuid
from pathlib import PurePath

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models

from core.bounds import NOTE, length_checks
from core.choices import RiskDomain
from core.files import StoredFile, private_storage
from core.markings import Marked, UnclassifiedAttestation
from findings.states import EVALUATION_IMPORT_PENDING, EvaluationImportStatus

# The extensions Inspect's reader tells the formats apart by: a zip of JSON parts, or one JSON document.
EVAL_LOG_SUFFIXES = (".eval", ".json")


def eval_log_upload_path(instance: models.Model, filename: str) -> str:
    """A random name that keeps the log's extension, which Inspect's reader needs to pick the format."""
    suffix = PurePath(filename).suffix.lower()
    return f"{instance._meta.app_label}/logs/{uuid.uuid4().hex}{suffix if suffix in EVAL_LOG_SUFFIXES else ''}"


class EvaluationRunQuerySet(models.QuerySet):
    def imported(self) -> EvaluationRunQuerySet:
        return self.filter(import_status=EvaluationImportStatus.IMPORTED)


class EvaluationRun(Marked, UnclassifiedAttestation, StoredFile):
    """One Inspect evaluation log imported on an assessment, and the summary its header gives.

    Made ``queued`` by the upload; the worker reads the header and fills the summary (``imported``)
    or refuses it (``failed``, with ``import_error``), in which case the file leaves storage and no
    summary is kept. ``model_note`` is the evaluator's reason why the log's model may differ from
    the submission's name (a provider alias, say). Like a finding's evidence file it carries a
    handling marking (the agreement's default at upload) and the uploader's unclassified attestation.
    """

    file = models.FileField(storage=private_storage, upload_to=eval_log_upload_path, max_length=200, blank=True)
    assessment = models.ForeignKey("assessments.Assessment", on_delete=models.PROTECT, related_name="evaluation_runs")
    import_status = models.CharField(
        max_length=10, choices=EvaluationImportStatus.choices, default=EvaluationImportStatus.QUEUED
    )
    import_error = models.CharField(max_length=500, blank=True)
    model_note = models.TextField(
        blank=True,
        max_length=NOTE,
        validators=[MaxLengthValidator(NOTE)],
        help_text="Why the log's model may differ from the submission's name, e.g. a provider alias.",
    )
    task_name = models.CharField(max_length=200, blank=True)
    task_version = models.CharField(max_length=40, blank=True)
    model = models.CharField(max_length=200, blank=True)
    run_status = models.CharField(max_length=16, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    sample_count = models.PositiveIntegerField(null=True, blank=True)
    # [{"name": scorer, "scorer": its function, "metrics": {metric: value}}], as the log's results give them.
    scores = models.JSONField(default=list, blank=True)
    # The ids of the log's samples (as text): what a finding's citation is checked against, with no file read.
    sample_ids = models.JSONField(default=list, blank=True)
    inspect_version = models.CharField(max_length=40, blank=True)
    imported_at = models.DateTimeField(null=True, blank=True)
    # Moves with every step: a pending import whose row has not moved for a while is stuck.
    updated_at = models.DateTimeField(auto_now=True)

    objects = EvaluationRunQuerySet.as_manager()

    class Meta(StoredFile.Meta):
        constraints = [
            models.CheckConstraint(
                condition=models.Q(import_status__in=[s.value for s in EvaluationImportStatus]),
                name="evaluationrun_import_status_valid",
            ),
            *length_checks("evaluationrun", {"model_note": NOTE}),
        ]
        # An assessment's runs, newest first, and its imported ones for the citation choices.
        indexes = [models.Index(fields=["assessment", "import_status", "-uploaded_at"], name="evalrun_case_status_idx")]

    def __str__(self) -> str:
        if self.task_name:
            return f"{self.task_name} on {self.model} ({self.original_name})"
        return self.original_name

    @property
    def is_pending(self) -> bool:
        return self.import_status in EVALUATION_IMPORT_PENDING

    @property
    def is_imported(self) -> bool:
        return self.import_status == EvaluationImportStatus.IMPORTED

    @property
    def is_failed(self) -> bool:
        return self.import_status == EvaluationImportStatus.FAILED

    @property
    def score_lines(self) -> list[str]:
        """Each scorer's metrics as one line of text, e.g. "includes: accuracy 0.5, stderr 0.5".

        Metrics by name: PostgreSQL's jsonb keeps no key order, so the log's own order cannot be shown
        the same on every database.
        """
        lines = []
        for score in self.scores or []:
            metrics = ", ".join(
                f"{name} {_number(value)}" for name, value in sorted((score.get("metrics") or {}).items())
            )
            lines.append(f"{score.get('name', '')}: {metrics or 'no metrics'}")
        return lines


def _number(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


class Confidence(models.TextChoices):
    HIGH = "high", "High: reproduced reliably, in several ways"
    MEDIUM = "medium", "Medium: reproduced, with limited variation"
    LOW = "low", "Low: seen once or under narrow conditions"


# The domains a rubric is written for; "other" is rated by the general rubric alone.
RUBRIC_DOMAINS = [d for d in RiskDomain if d != RiskDomain.OTHER]


class SeverityRubric(models.Model):
    """One version of a risk domain's severity rubric: what each severity means in that domain."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    risk_domain = models.CharField(max_length=32, choices=[(d.value, d.label) for d in RUBRIC_DOMAINS])
    version = models.PositiveIntegerField(editable=False)
    critical = models.TextField(max_length=NOTE, validators=[MaxLengthValidator(NOTE)])
    high = models.TextField(max_length=NOTE, validators=[MaxLengthValidator(NOTE)])
    medium = models.TextField(max_length=NOTE, validators=[MaxLengthValidator(NOTE)])
    low = models.TextField(max_length=NOTE, validators=[MaxLengthValidator(NOTE)])
    informational = models.TextField(max_length=NOTE, validators=[MaxLengthValidator(NOTE)])
    change_note = models.CharField(max_length=300, blank=True, help_text="What changed from the previous version.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["risk_domain", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["risk_domain", "version"], name="rubric_domain_version_unique"),
            models.CheckConstraint(
                condition=models.Q(risk_domain__in=[d.value for d in RUBRIC_DOMAINS]), name="rubric_domain_valid"
            ),
            *length_checks(
                "severityrubric",
                {"critical": NOTE, "high": NOTE, "medium": NOTE, "low": NOTE, "informational": NOTE},
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_risk_domain_display()} rubric, version {self.version}"

    def text_for(self, severity: str) -> str:
        return getattr(self, severity, "") if severity in RUBRIC_SEVERITIES else ""

    @property
    def rows(self) -> list[tuple[str, str]]:
        """(severity label, text), most severe first (the order of ``findings.models.Severity``)."""
        return [(severity.capitalize(), getattr(self, severity)) for severity in RUBRIC_SEVERITIES]


RUBRIC_SEVERITIES = ("critical", "high", "medium", "low", "informational")
