"""Serializers of the findings API. They parse and shape data; findings.services decides."""

from __future__ import annotations

from rest_framework import serializers

from findings.models import Finding, FindingComment, FindingEvidence, Severity
from reviewportal.choices import RiskDomain


class EvidenceSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)

    class Meta:
        model = FindingEvidence
        fields = ["id", "original_name", "side", "content_type", "size", "sha256", "uploaded_at"]


class FindingSerializer(serializers.ModelSerializer):
    """A finding as the caller may see it."""

    assessment = serializers.SlugRelatedField(slug_field="reference", read_only=True)
    author = serializers.CharField(source="author.full_name", read_only=True)
    released_by = serializers.CharField(source="released_by.full_name", read_only=True, default=None, allow_null=True)

    class Meta:
        model = Finding
        fields = [
            "reference",
            "assessment",
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
            "company_response",
            "planned_mitigation",
            "responded_at",
            "resolved_at",
            "resolution_note",
            "withdrawn_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class FindingCreateSerializer(serializers.Serializer):
    """What an evaluator sends to record a draft finding."""

    assessment = serializers.CharField(max_length=20, help_text="Reference of the assessment, e.g. ASM-2026-0001.")
    title = serializers.CharField(max_length=200)
    risk_domain = serializers.ChoiceField(choices=RiskDomain.choices)
    severity = serializers.ChoiceField(choices=Severity.choices)
    summary = serializers.CharField()
    details = serializers.CharField(required=False, allow_blank=True, default="", help_text="Markdown.")
    reproduction_steps = serializers.CharField(required=False, allow_blank=True, default="")
    recommended_action = serializers.CharField(required=False, allow_blank=True, default="")


class FindingUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    risk_domain = serializers.ChoiceField(choices=RiskDomain.choices, required=False)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    summary = serializers.CharField(required=False)
    details = serializers.CharField(required=False, allow_blank=True)
    reproduction_steps = serializers.CharField(required=False, allow_blank=True)
    recommended_action = serializers.CharField(required=False, allow_blank=True)


class ReleaseSerializer(serializers.Serializer):
    response_due_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Default: FINDING_RESPONSE_DAYS days from now."
    )


class ReopenSerializer(ReleaseSerializer):
    note = serializers.CharField(help_text="What the company should answer; shown to the company.")


class ResolveSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class WithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField()


class RespondSerializer(serializers.Serializer):
    company_response = serializers.CharField()
    planned_mitigation = serializers.CharField(required=False, allow_blank=True, default="")


class CommentSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    author = serializers.CharField(source="author.full_name", read_only=True)
    internal = serializers.BooleanField(
        required=False, default=False, help_text="Centre only: internal comments are never shown to the company."
    )

    class Meta:
        model = FindingComment
        fields = ["id", "author", "body", "internal", "created_at"]
        read_only_fields = ["id", "author", "created_at"]
