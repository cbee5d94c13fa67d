"""Serializers of the assessments API: they shape input and output; the services decide.

No serializer here has a credential field: the only response that carries a
credential is the ``reveal`` action (``CredentialRevealSerializer``).
"""

from __future__ import annotations

from rest_framework import serializers

from accounts.models import User
from agreements.models import Agreement, ReleaseNotice
from assessments.models import AccessTicket, Assessment, AssessmentOutcome, Modality, ModelSubmission
from core import bounds
from core.choices import AccessKind, RiskDomain


class PersonSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)

    class Meta:
        model = User
        fields = ["id", "email", "full_name"]


class SubmissionSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    organisation = serializers.CharField(source="organisation.name", read_only=True)
    agreement = serializers.SlugRelatedField(slug_field="reference", read_only=True)
    release_notice = serializers.SlugRelatedField(slug_field="reference", read_only=True, allow_null=True)
    release_notice_late = serializers.BooleanField(source="release_notice.is_late", read_only=True, default=False)

    class Meta:
        model = ModelSubmission
        fields = [
            "id",
            "reference",
            "organisation",
            "agreement",
            "model_name",
            "model_version",
            "modalities",
            "intended_release_date",
            "notes",
            "release_notice",
            "release_notice_late",
            "withdrawn_at",
            "withdrawal_reason",
            "created_at",
        ]


class SubmissionCreateSerializer(serializers.Serializer):
    agreement = serializers.SlugRelatedField(slug_field="reference", queryset=Agreement.objects.none())
    release_notice = serializers.SlugRelatedField(
        slug_field="reference",
        queryset=ReleaseNotice.objects.none(),
        required=False,
        allow_null=True,
        help_text="The centre's release notice of this model (its reference), when there is one.",
    )
    model_name = serializers.CharField(max_length=bounds.TITLE)
    model_version = serializers.CharField(max_length=bounds.VERSION)
    modalities = serializers.ListField(child=serializers.ChoiceField(choices=Modality.choices), allow_empty=False)
    intended_release_date = serializers.DateField(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=bounds.NOTE)


class AssessmentSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    submission = serializers.SlugRelatedField(slug_field="reference", read_only=True)
    lead = PersonSerializer(read_only=True)
    team = PersonSerializer(many=True, read_only=True)

    class Meta:
        model = Assessment
        fields = [
            "id",
            "reference",
            "submission",
            "lead",
            "team",
            "risk_domains",
            "window_start",
            "window_end",
            "status",
            "outcome",
            "outcome_rationale",
            "outcome_company_summary",
            "outcome_acknowledged_at",
            "outcome_company_comment",
            "closed_at",
            "created_at",
            "internal_notes",
            "window_after_release_reason",
        ]
        extra_kwargs = {"internal_notes": {"required": False, "help_text": "Centre staff on the case only."}}

    def to_representation(self, instance):
        data = super().to_representation(instance)
        # Internal notes never reach the company: the view says per request whether they may be shown.
        if not self.context.get("show_internal", False):
            data.pop("internal_notes", None)
        return data


class AssessmentWriteSerializer(serializers.Serializer):
    team = serializers.SlugRelatedField(slug_field="email", queryset=User.objects.all(), many=True, required=False)
    risk_domains = serializers.ListField(child=serializers.ChoiceField(choices=RiskDomain.choices), allow_empty=False)
    window_start = serializers.DateTimeField()
    window_end = serializers.DateTimeField()
    internal_notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=bounds.BODY)
    window_after_release_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=bounds.BODY,
        help_text="Why the window must end after the company's planned public release (required only then).",
    )


class AssessmentCreateSerializer(AssessmentWriteSerializer):
    submission = serializers.SlugRelatedField(slug_field="reference", queryset=ModelSubmission.objects.none())
    lead = serializers.SlugRelatedField(slug_field="email", queryset=User.objects.all(), required=False)


class AdvanceSerializer(serializers.Serializer):
    to_status = serializers.CharField()


class CloseSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=AssessmentOutcome.choices)
    rationale = serializers.CharField(max_length=bounds.BODY)
    company_summary = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=bounds.NOTE,
        help_text="What the company is told with the outcome; the rationale stays the centre's record.",
    )


class OutcomeAcknowledgeSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=bounds.NOTE)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=bounds.NOTE)


class TicketSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    assessment = serializers.SlugRelatedField(slug_field="reference", read_only=True)
    requested_by = PersonSerializer(read_only=True)
    access_ends_at = serializers.DateTimeField(read_only=True, allow_null=True)
    has_credential = serializers.BooleanField(read_only=True)

    class Meta:
        model = AccessTicket
        fields = [
            "id",
            "reference",
            "assessment",
            "kind",
            "status",
            "justification",
            "requested_by",
            "requested_at",
            "wanted_from",
            "wanted_to",
            "starts_at",
            "ends_at",
            "access_ends_at",
            "decision_note",
            "endpoint",
            "instructions",
            "has_credential",
            "provisioned_at",
            "extension_requested_to",
            "extension_reason",
            "ended_at",
            "end_reason",
        ]


class TicketCreateSerializer(serializers.Serializer):
    assessment = serializers.SlugRelatedField(slug_field="reference", queryset=Assessment.objects.none())
    kind = serializers.ChoiceField(choices=AccessKind.choices)
    justification = serializers.CharField(max_length=bounds.NOTE)
    wanted_from = serializers.DateTimeField()
    wanted_to = serializers.DateTimeField()


class TicketApproveSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField(required=False)
    ends_at = serializers.DateTimeField(required=False)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=bounds.NOTE)


class TicketProvisionSerializer(serializers.Serializer):
    endpoint = serializers.CharField(max_length=bounds.ENDPOINT)
    # Limited in bytes by the service (bounds.CREDENTIAL_BYTES), with the same message as the form.
    credential = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        write_only=True,
        trim_whitespace=False,
        help_text="API key or token, at most 8 KiB (UTF-8).",
    )
    instructions = serializers.CharField(required=False, allow_blank=True, default="", max_length=bounds.NOTE)


class ExtensionRequestSerializer(serializers.Serializer):
    until = serializers.DateTimeField()
    reason = serializers.CharField(max_length=bounds.NOTE)


class ExtensionDecisionSerializer(serializers.Serializer):
    consent = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=bounds.NOTE)


class CredentialRevealSerializer(serializers.Serializer):
    """The one response that carries a credential (audited, sent with Cache-Control: no-store)."""

    reference = serializers.CharField()
    endpoint = serializers.CharField()
    credential = serializers.CharField()
    instructions = serializers.CharField()
    access_ends_at = serializers.DateTimeField()
