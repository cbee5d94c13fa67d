"""Serializers of the findings API. They parse and shape data; findings.services decides."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.permissions import can
from core import bounds
from core.api_markings import MarkingSerializer, attestation_field
from core.choices import RiskDomain
from findings.models import (
    Confidence,
    EvaluationRun,
    Finding,
    FindingComment,
    FindingEvidence,
    Recommendation,
    Severity,
)
from findings.selectors import finding_files
from findings.services.evaluation import MAX_CITED_SAMPLES
from findings.states import COMPANY_DISPOSITION_CHOICES, FindingDisposition, RecommendationKind


class FindingFileSerializer(serializers.ModelSerializer):
    """A file of a finding as its reader sees it: never a storage path, only where to download it."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    name = serializers.CharField(source="original_name", read_only=True)
    download_url = serializers.SerializerMethodField()

    marking = MarkingSerializer(read_only=True)
    attested_by = serializers.CharField(source="attested_by.full_name", read_only=True, default=None, allow_null=True)

    class Meta:
        model = FindingEvidence
        fields = [
            "id",
            "name",
            "side",
            "content_type",
            "size",
            "sha256",
            "uploaded_at",
            "marking",
            "attested_by",
            "attested_at",
            "attestation",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, evidence: FindingEvidence) -> str:
        path = reverse("finding-file", kwargs={"reference": evidence.finding.reference, "file_id": evidence.public_id})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class EvaluationRunSummarySerializer(serializers.ModelSerializer):
    """What a finding shows of the run it cites, to the company too: never the note, the log or the samples."""

    id = serializers.UUIDField(source="public_id", read_only=True)

    class Meta:
        model = EvaluationRun
        fields = [
            "id",
            "task_name",
            "task_version",
            "model",
            "run_status",
            "started_at",
            "completed_at",
            "sample_count",
            "scores",
            "inspect_version",
            "sha256",
        ]
        read_only_fields = fields


class EvaluationRunSerializer(EvaluationRunSummarySerializer):
    """An imported Inspect log as the centre team sees it: the import's state and, once imported, the summary."""

    assessment = serializers.SlugRelatedField(slug_field="reference", read_only=True)
    name = serializers.CharField(source="original_name", read_only=True)
    imported_by = serializers.CharField(source="uploaded_by.full_name", read_only=True, default=None)
    download_url = serializers.SerializerMethodField()
    marking = MarkingSerializer(read_only=True)
    attested_by = serializers.CharField(source="attested_by.full_name", read_only=True, default=None, allow_null=True)

    class Meta(EvaluationRunSummarySerializer.Meta):
        fields = [
            *EvaluationRunSummarySerializer.Meta.fields,
            "assessment",
            "name",
            "size",
            "import_status",
            "import_error",
            "model_note",
            "sample_ids",
            "imported_by",
            "uploaded_at",
            "imported_at",
            "marking",
            "attested_by",
            "attested_at",
            "attestation",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, run: EvaluationRun) -> str | None:
        if not run.is_imported:
            return None
        path = reverse("evaluation-run-file", kwargs={"public_id": run.public_id})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class EvaluationLogUploadSerializer(serializers.Serializer):
    """A multipart upload of one Inspect log to import on an assessment."""

    assessment = serializers.CharField(max_length=20, help_text="Reference of the assessment, e.g. ASM-2026-0001.")
    file = serializers.FileField(allow_empty_file=False, help_text="An Inspect evaluation log: .eval or .json.")
    model_note = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=bounds.NOTE,
        help_text="Why the log's model may carry another name than the submission's (a provider alias, say).",
    )
    no_classified_information = attestation_field()


class FindingSerializer(serializers.ModelSerializer):
    """A finding as the caller may see it. The cited run's summary is shown to the company too; the
    cited sample ids are the centre's."""

    assessment = serializers.SlugRelatedField(slug_field="reference", read_only=True)
    author = serializers.CharField(source="author.full_name", read_only=True)
    released_by = serializers.CharField(source="released_by.full_name", read_only=True, default=None, allow_null=True)
    marking = MarkingSerializer(read_only=True)
    evaluation_run = EvaluationRunSummarySerializer(read_only=True, allow_null=True)
    rubric_version = serializers.IntegerField(source="rubric.version", read_only=True, default=None, allow_null=True)
    # "" until the evaluators say how sure they are.
    confidence = serializers.ChoiceField(choices=Confidence.choices, allow_blank=True, read_only=True)
    disposition = serializers.ChoiceField(
        choices=FindingDisposition.choices,
        allow_blank=True,
        read_only=True,
        help_text="The company's disposition; empty while it has not answered this round.",
    )

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        run = instance.evaluation_run
        if request is not None and (run is None or not can(request.user, "evaluation_run.read", run)):
            data["cited_samples"] = []  # the samples are the centre's; the company gets the run's summary
        return data

    class Meta:
        model = Finding
        fields = [
            "reference",
            "assessment",
            "marking",
            "title",
            "risk_domain",
            "severity",
            "summary",
            "details",
            "reproduction_steps",
            "recommended_action",
            "status",
            "author",
            "released_by",
            "released_at",
            "response_due_at",
            "disposition",
            "company_response",
            "planned_mitigation",
            "mitigation_target",
            "responded_at",
            "not_answered_at",
            "resolved_at",
            "resolution_note",
            "withdrawn_reason",
            "confidence",
            "not_tested",
            "rubric_version",
            "evaluation_run",
            "cited_samples",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class FindingDetailSerializer(FindingSerializer):
    """One finding, with the files the caller may download (the company never gets a draft's)."""

    files = serializers.SerializerMethodField()

    class Meta(FindingSerializer.Meta):
        fields = [*FindingSerializer.Meta.fields, "files"]
        read_only_fields = fields

    @extend_schema_field(FindingFileSerializer(many=True))
    def get_files(self, finding: Finding) -> list[dict]:
        request = self.context["request"]
        files = finding_files(user=request.user, finding=finding)
        for file in files:
            file.finding = finding  # each download link names the finding: spare a query per file
        return FindingFileSerializer(files, many=True, context=self.context).data


class FileUploadSerializer(serializers.Serializer):
    """A multipart upload of one or more files under the field name ``files``."""

    files = serializers.ListField(
        child=serializers.FileField(allow_empty_file=False),
        allow_empty=False,
        help_text="One or more files (repeat the field). Checked by content: PDF, Office, images, text, CSV, "
        "JSON, Markdown, logs or ZIP, each within the size limit.",
    )
    no_classified_information = attestation_field()


class FindingCreateSerializer(serializers.Serializer):
    """What an evaluator sends to record a draft finding."""

    assessment = serializers.CharField(max_length=20, help_text="Reference of the assessment, e.g. ASM-2026-0001.")
    title = serializers.CharField(max_length=bounds.TITLE)
    risk_domain = serializers.ChoiceField(choices=RiskDomain.choices)
    severity = serializers.ChoiceField(choices=Severity.choices)
    summary = serializers.CharField(max_length=bounds.SUMMARY)
    details = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=bounds.BODY, help_text="Markdown."
    )
    reproduction_steps = serializers.CharField(required=False, allow_blank=True, default="", max_length=bounds.BODY)
    recommended_action = serializers.CharField(required=False, allow_blank=True, default="", max_length=bounds.BODY)
    confidence = serializers.ChoiceField(choices=Confidence.choices, required=False, allow_blank=True)
    not_tested = serializers.CharField(required=False, allow_blank=True, max_length=bounds.NOTE)
    evaluation_run = serializers.UUIDField(
        required=False, allow_null=True, help_text="The id of an imported evaluation run of the same assessment."
    )
    cited_samples = serializers.ListField(
        child=serializers.CharField(max_length=200),
        required=False,
        max_length=MAX_CITED_SAMPLES,
        help_text="Sample ids of the run's log; checked against it.",
    )


class FindingUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=bounds.TITLE, required=False)
    risk_domain = serializers.ChoiceField(choices=RiskDomain.choices, required=False)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    summary = serializers.CharField(required=False, max_length=bounds.SUMMARY)
    details = serializers.CharField(required=False, allow_blank=True, max_length=bounds.BODY)
    reproduction_steps = serializers.CharField(required=False, allow_blank=True, max_length=bounds.BODY)
    recommended_action = serializers.CharField(required=False, allow_blank=True, max_length=bounds.BODY)
    confidence = serializers.ChoiceField(choices=Confidence.choices, required=False, allow_blank=True)
    not_tested = serializers.CharField(required=False, allow_blank=True, max_length=bounds.NOTE)
    evaluation_run = serializers.UUIDField(
        required=False, allow_null=True, help_text="The id of an imported evaluation run of the same assessment."
    )
    cited_samples = serializers.ListField(
        child=serializers.CharField(max_length=200),
        required=False,
        max_length=MAX_CITED_SAMPLES,
        help_text="Sample ids of the run's log; checked against it.",
    )


class ReleaseSerializer(serializers.Serializer):
    response_due_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Default: FINDING_RESPONSE_DAYS days from now."
    )


class ReopenSerializer(ReleaseSerializer):
    note = serializers.CharField(
        max_length=bounds.NOTE, help_text="What the company should answer; shown to the company."
    )


class ResolveSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=bounds.NOTE)


class WithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=bounds.NOTE)


class RespondSerializer(serializers.Serializer):
    disposition = serializers.ChoiceField(
        choices=COMPANY_DISPOSITION_CHOICES,
        help_text="will_mitigate needs planned_mitigation and mitigation_target; the others the response text "
        "(justification, reasons, or the question).",
    )
    company_response = serializers.CharField(max_length=bounds.BODY)
    planned_mitigation = serializers.CharField(required=False, allow_blank=True, default="", max_length=bounds.BODY)
    mitigation_target = serializers.DateField(required=False, allow_null=True, default=None)


class EscalateSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=bounds.NOTE, help_text="Why; read by the programme, not the company.")


class RespondWithFilesSerializer(RespondSerializer):
    """The company's answer sent as multipart, with files attached to it."""

    files = serializers.ListField(
        child=serializers.FileField(allow_empty_file=False),
        required=False,
        default=list,
        help_text="Files that go with the answer (repeat the field); checked like evidence.",
    )
    no_classified_information = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Must be true when files are attached: the files hold no classified information.",
    )


class CommentSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    author = serializers.CharField(source="author.full_name", read_only=True)
    marking = MarkingSerializer(read_only=True)
    internal = serializers.BooleanField(
        required=False, default=False, help_text="Centre only: internal comments are never shown to the company."
    )

    class Meta:
        model = FindingComment
        fields = ["id", "author", "body", "internal", "marking", "created_at"]
        read_only_fields = ["id", "author", "marking", "created_at"]


class RecommendationSerializer(serializers.ModelSerializer):
    """A recommendation as the caller may see it, with the stage it is in and whose turn it is."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    finding = serializers.CharField(source="finding.reference", read_only=True)
    stage = serializers.SerializerMethodField()
    turn = serializers.SerializerMethodField()

    class Meta:
        model = Recommendation
        fields = [
            "id",
            "reference",
            "finding",
            "kind",
            "text",
            "status",
            "stage",
            "turn",
            "due_at",
            "acknowledged_at",
            "decided_at",
            "decline_reason",
            "implemented_at",
            "implementation_note",
            "verified_at",
            "verification_note",
            "created_at",
        ]
        read_only_fields = fields

    def get_stage(self, recommendation: Recommendation) -> str | None:
        """What is to be done now (None once it has ended)."""
        return recommendation.stage[1] if recommendation.stage else None

    def get_turn(self, recommendation: Recommendation) -> str | None:
        """Whose turn it is: "company" or "centre" (None once it has ended)."""
        return recommendation.stage[0] if recommendation.stage else None


class RecommendationCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=RecommendationKind.choices)
    text = serializers.CharField(max_length=bounds.NOTE)


class RecommendationAcceptSerializer(serializers.Serializer):
    implement_by = serializers.DateField(required=False, allow_null=True, default=None, help_text="Default: 60 days.")


class RecommendationDeclineSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=bounds.NOTE)


class RecommendationNoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=bounds.NOTE)


class RecommendationVerifySerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=bounds.NOTE)


class RecommendationImplementSerializer(RecommendationNoteSerializer):
    files = serializers.ListField(
        child=serializers.FileField(allow_empty_file=False),
        required=False,
        default=list,
        help_text="The company's evidence (repeat the field); checked like evidence.",
    )
    no_classified_information = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Must be true when files are attached: the files hold no classified information.",
    )
