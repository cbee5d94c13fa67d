"""API shapes of agreements and their negotiation record. Serializers parse and present; services decide."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from accounts.models import Organisation, User
from accounts.permissions import scope
from agreements.models import (
    TERM_FIELDS,
    Agreement,
    AgreementDocument,
    AgreementKind,
    AgreementVersion,
    Clause,
    DocumentKind,
    EntryKind,
    Meeting,
    NegotiationEntry,
    OpenPoint,
    RiskConsequence,
    Signature,
)
from agreements.services import TRANSITIONS
from agreements.terms import terms_hash, terms_snapshot
from core import bounds
from core.api_markings import MarkingSerializer, attestation_field
from core.choices import MAX_WINDOW_DAYS, AccessKind, RiskDomain


class ScopedSlugField(serializers.SlugRelatedField):
    """A related object named by its public id, looked up only among those the caller may see."""

    def get_queryset(self):
        request = self.context.get("request")
        return scope(super().get_queryset(), request.user if request else None)


class SignatureSerializer(serializers.ModelSerializer):
    class Meta:
        model = Signature
        fields = ["side", "signer_name", "capacity", "signed_at", "version_number", "terms_hash", "voided_at"]


class AgreementSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    organisation = serializers.UUIDField(source="organisation.public_id", read_only=True)
    organisation_name = serializers.CharField(source="organisation.name", read_only=True)
    current_version = serializers.IntegerField(read_only=True, allow_null=True)
    open_point_count = serializers.IntegerField(read_only=True)
    signatures = SignatureSerializer(many=True, read_only=True)
    terms_hash = serializers.SerializerMethodField(help_text="SHA-256 of the current terms: what a signature binds.")
    parent_reference = serializers.CharField(source="parent.reference", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Agreement
        fields = [
            "id",
            "reference",
            "title",
            "organisation",
            "organisation_name",
            "status",
            "status_reason",
            "max_window_days",
            "risk_domains",
            "access_modalities",
            "trade_secret_terms",
            "default_marking",
            "release_notice_days",
            "risk_consequence",
            "effective_date",
            "expiry_date",
            "kind",
            "parent_reference",
            "amended_clauses",
            "covered_releases",
            "covered_model_family",
            "termination_notice_days",
            "ends_on",
            "signature_due",
            "current_version",
            "terms_hash",
            "open_point_count",
            "signatures",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_terms_hash(self, obj: Agreement) -> str:
        return terms_hash(terms_snapshot(obj))


class TermsInputSerializer(serializers.Serializer):
    """The structured terms as written by a client."""

    max_window_days = serializers.IntegerField(min_value=1, max_value=MAX_WINDOW_DAYS)
    risk_domains = serializers.ListField(child=serializers.ChoiceField(RiskDomain.choices), allow_empty=True)
    access_modalities = serializers.ListField(child=serializers.ChoiceField(AccessKind.choices), allow_empty=True)
    trade_secret_terms = serializers.CharField(allow_blank=True, required=False, default="", max_length=bounds.BODY)
    # The code of a handling marking (checked against the list by the service); blank: the programme default.
    default_marking = serializers.CharField(allow_blank=True, required=False, default="", max_length=16)
    release_notice_days = serializers.IntegerField(min_value=0, max_value=bounds.RELEASE_NOTICE_MAX_DAYS)
    risk_consequence = serializers.ChoiceField(RiskConsequence.choices)
    effective_date = serializers.DateField(allow_null=True, required=False, default=None)
    expiry_date = serializers.DateField(allow_null=True, required=False, default=None)
    covered_releases = serializers.CharField(allow_blank=True, required=False, max_length=bounds.NOTE)
    covered_model_family = serializers.CharField(allow_blank=True, required=False, max_length=bounds.TITLE)
    termination_notice_days = serializers.IntegerField(
        min_value=0, max_value=bounds.RELEASE_NOTICE_MAX_DAYS, required=False
    )


class AgreementCreateSerializer(TermsInputSerializer):
    organisation = ScopedSlugField(
        slug_field="public_id", queryset=Organisation.objects.filter(kind=Organisation.Kind.DEVELOPER)
    )
    title = serializers.CharField(max_length=bounds.TITLE)
    kind = serializers.ChoiceField(AgreementKind.choices, required=False, default=AgreementKind.STANDARD)
    parent = ScopedSlugField(
        slug_field="reference",
        queryset=Agreement.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="The agreement an amendment or addendum changes (its reference).",
    )
    amended_clauses = serializers.ListField(
        child=serializers.ChoiceField([(name, Clause(name).label) for name in TERM_FIELDS]),
        required=False,
        default=list,
        help_text="The terms an amendment or addendum changes; the others are the parent's.",
    )


class TermsUpdateSerializer(TermsInputSerializer):
    """A PATCH of the terms: fields left out keep their current value."""

    title = serializers.CharField(max_length=bounds.TITLE, required=False)
    note = serializers.CharField(max_length=bounds.SHORT_NOTE, required=False, allow_blank=True, default="")
    decision = serializers.CharField(
        max_length=bounds.NOTE,
        required=False,
        allow_blank=True,
        default="",
        help_text="Why the new terms go ahead although running cases would fall outside them.",
    )


class VersionSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.full_name", read_only=True, allow_null=True)

    class Meta:
        model = AgreementVersion
        fields = ["number", "terms", "changed_clauses", "note", "created_by", "created_at"]


class ClauseDiffSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    old = serializers.CharField()
    new = serializers.CharField()
    changed = serializers.BooleanField()


class EntrySerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    responds_to = serializers.SlugRelatedField(slug_field="public_id", read_only=True, allow_null=True)
    author = serializers.CharField(source="author.full_name", read_only=True, allow_null=True)

    class Meta:
        model = NegotiationEntry
        fields = ["id", "kind", "clause", "text", "responds_to", "author", "author_side", "created_at"]


class EntryInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(EntryKind.choices, default=EntryKind.PROPOSAL)
    clause = serializers.ChoiceField(Clause.choices, default=Clause.GENERAL)
    text = serializers.CharField(max_length=bounds.BODY)
    responds_to = ScopedSlugField(
        slug_field="public_id", queryset=NegotiationEntry.objects.all(), required=False, allow_null=True
    )


class MeetingSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    attendees = serializers.ListField(child=serializers.CharField(), source="attendee_list", read_only=True)
    recorded_by = serializers.CharField(source="recorded_by.full_name", read_only=True, allow_null=True)

    class Meta:
        model = Meeting
        fields = ["id", "held_at", "attendees", "minutes", "recorded_by", "created_at"]


class MeetingInputSerializer(serializers.Serializer):
    held_at = serializers.DateTimeField(help_text="When the meeting took place (not a planned meeting).")
    attendees = serializers.ListField(
        child=serializers.CharField(max_length=bounds.SHORT_NOTE),
        allow_empty=False,
        help_text=f"Who attended, one entry per person, with their organisation ({bounds.NOTE:,} characters in all).",
    )
    minutes = serializers.CharField(max_length=bounds.BODY)


class DocumentSerializer(serializers.ModelSerializer):
    """A document as its reader sees it: never a storage path, only where to download it."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    uploaded_by = serializers.CharField(source="uploaded_by.full_name", read_only=True, allow_null=True)
    download_url = serializers.SerializerMethodField()
    marking = MarkingSerializer(read_only=True)
    attested_by = serializers.CharField(source="attested_by.full_name", read_only=True, allow_null=True)

    class Meta:
        model = AgreementDocument
        fields = [
            "id",
            "kind",
            "description",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "uploaded_by",
            "uploaded_at",
            "marking",
            "attested_by",
            "attested_at",
            "attestation",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, document: AgreementDocument) -> str:
        path = reverse(
            "agreement-document", kwargs={"reference": document.agreement.reference, "document_id": document.public_id}
        )
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class DocumentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="PDF or Word (DOC, DOCX, ODT), checked by content; size limited.")
    kind = serializers.ChoiceField(DocumentKind.choices, default=DocumentKind.DRAFT)
    description = serializers.CharField(max_length=bounds.SHORT_NOTE, required=False, allow_blank=True, default="")
    no_classified_information = attestation_field()


class OpenPointSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    owner = serializers.UUIDField(source="owner.public_id", read_only=True)
    owner_name = serializers.CharField(source="owner.full_name", read_only=True)

    class Meta:
        model = OpenPoint
        fields = [
            "id",
            "title",
            "description",
            "owner",
            "owner_name",
            "due_date",
            "status",
            "resolution",
            "resolved_at",
            "created_at",
        ]


class OpenPointInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=bounds.TITLE)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=bounds.NOTE)
    owner = ScopedSlugField(slug_field="public_id", queryset=User.objects.filter(is_active=True))
    due_date = serializers.DateField()


class ResolveInputSerializer(serializers.Serializer):
    resolution = serializers.CharField(max_length=bounds.NOTE)


class TransitionInputSerializer(serializers.Serializer):
    transition = serializers.ChoiceField(list(TRANSITIONS.items()))
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=bounds.NOTE, help_text="For withdraw and terminate."
    )
    signature_due = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="For submit_for_signature."
    )


class SignatureDueInputSerializer(serializers.Serializer):
    signature_due = serializers.DateField(help_text="Both sides should have signed by this date (today or later).")


class SignInputSerializer(serializers.Serializer):
    signer_name = serializers.CharField(max_length=bounds.TITLE)
    capacity = serializers.CharField(max_length=bounds.TITLE)
    terms_hash_read = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text="The SHA-256 of the terms you read (GET the agreement's terms_hash); refused if they changed since.",
    )


class NoticeToEndSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=bounds.NOTE, help_text="Why the agreement is to end.")
