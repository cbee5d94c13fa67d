"""/api/v1/agreements/: agreements, their terms, versions, negotiation entries and open points.

Every write calls the same service as the web form, so the rules and messages
are the same: RuleViolation answers 400 with field errors, TransitionNotAllowed 409.
"""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.permissions import ScopedObjectMixin, get_object_for, scope
from agreements import selectors, services
from agreements.api.serializers import (
    AgreementCreateSerializer,
    AgreementSerializer,
    ClauseDiffSerializer,
    DocumentSerializer,
    DocumentUploadSerializer,
    EntryInputSerializer,
    EntrySerializer,
    MeetingInputSerializer,
    MeetingSerializer,
    NoticeToEndSerializer,
    OpenPointInputSerializer,
    OpenPointSerializer,
    ResolveInputSerializer,
    SignatureDueInputSerializer,
    SignInputSerializer,
    TermsUpdateSerializer,
    TransitionInputSerializer,
    VersionSerializer,
)
from agreements.models import TERM_FIELDS, Agreement, AgreementDocument, OpenPoint
from agreements.services.ending import agreement_give_notice
from agreements.states import AGREEMENT_MOVES
from audit.downloads import file_response
from core.api import ErrorSerializer
from core.api_defaults import FileDownloadNegotiation, PortalMultiPartParser
from core.api_markings import MarkingInputSerializer
from core.errors import RuleViolation
from core.files import AGREEMENT_DOCUMENT_KINDS, BINARY_KINDS

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input; `errors` names the fields."),
    403: OpenApiResponse(ErrorSerializer, description="You may see the agreement but not do this."),
    404: OpenApiResponse(ErrorSerializer, description="No such agreement among those you may see."),
    409: OpenApiResponse(ErrorSerializer, description="Not allowed in the agreement's current state."),
}

# The content types a stored agreement document can have (checked by content on upload).
DOCUMENT_CONTENT_TYPES = sorted(BINARY_KINDS[kind][0] for kind in AGREEMENT_DOCUMENT_KINDS)


def _version_numbers(params, *names: str) -> tuple[int, ...]:
    """The version numbers named in the query, or a 400 naming each one that is not a version number.

    Bounded like the column (a positive 32-bit integer): a number beyond it matches no version,
    and the database could not even compare it.
    """
    numbers, errors = [], {}
    for name in names:
        try:
            number = int(params.get(name, ""))
        except ValueError:
            number = 0
        if not 1 <= number <= 2**31 - 1:
            errors[name] = ["A version number (1, 2, …)."]
        numbers.append(number)
    if errors:
        raise RuleViolation("Give two version numbers.", errors=errors)
    return tuple(numbers)


@extend_schema_view(
    list=extend_schema(summary="Agreements you may see"),
    retrieve=extend_schema(
        summary="One agreement with its current terms and signatures",
        responses={200: AgreementSerializer, 404: ERRORS[404]},
    ),
    create=extend_schema(
        summary="Open a draft agreement (programme admins and lead evaluators)",
        request=AgreementCreateSerializer,
        responses={201: AgreementSerializer, 400: ERRORS[400], 403: ERRORS[403]},
    ),
    partial_update=extend_schema(
        summary="Change the terms (a real change makes a new version)",
        request=TermsUpdateSerializer,
        responses={200: AgreementSerializer, 400: ERRORS[400], 403: ERRORS[403], 404: ERRORS[404], 409: ERRORS[409]},
    ),
)
class AgreementViewSet(
    ScopedObjectMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = AgreementSerializer
    lookup_field = "reference"
    lookup_value_regex = r"[A-Z]+-\d{4}-\d{4,}"
    http_method_names = ["get", "post", "patch", "head", "options"]
    filterset_fields = ["status"]
    search_fields = ["reference", "title", "organisation__name"]
    ordering_fields = ["created_at", "reference", "status"]
    ordering = ["-created_at"]
    policy_actions = {
        "create": "agreement.create",
        "partial_update": "agreement.edit_terms",
        "transition": "agreement.transition",
        "sign": AGREEMENT_MOVES["sign"].action,
        "signature_due": "agreement.signature_due",
        "give_notice": "agreement.give_notice",
        "add_entry": "agreement.propose",
        "add_open_point": "agreement.open_point",
        "add_meeting": "agreement.meeting",
        "upload_document": "agreement.document_upload",
        "document": "agreement.document_download",
        "resolve_open_point": "agreement.view",  # the service asks open_point.resolve of the point itself
        # The service asks agreement_document.mark (raise) or .mark_lower (lower) of the document itself.
        "document_marking": "agreement.view",
    }

    def get_queryset(self):
        return (
            scope(Agreement.objects.all(), self.request.user)
            .select_related("organisation", "parent")
            .prefetch_related("signatures")
            # Subqueries, counted for the rows of the page only: joins with GROUP BY counted the
            # points and versions of every agreement before the page was cut.
            .annotate(current_version=selectors.current_version_number(), open_point_count=selectors.open_point_count())
        )

    def _fresh(self, agreement: Agreement) -> dict:
        return AgreementSerializer(self.get_queryset().get(pk=agreement.pk), context=self.get_serializer_context()).data

    def create(self, request, *args, **kwargs):
        data = AgreementCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        values = data.validated_data
        agreement = services.agreement_create(
            actor=request.user,
            organisation=values["organisation"],
            title=values["title"],
            terms={name: values.get(name) for name in TERM_FIELDS},
            kind=values["kind"],
            parent=values["parent"],
            amended_clauses=values["amended_clauses"],
            request=request,
        )
        return Response(self._fresh(agreement), status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        agreement = self.get_object()
        data = TermsUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        terms = {name: values.get(name, getattr(agreement, name)) for name in TERM_FIELDS}
        services.agreement_update_terms(
            actor=request.user,
            agreement=agreement,
            terms=terms,
            title=values.get("title"),
            note=values.get("note", ""),
            decision=values.get("decision", ""),
            request=request,
        )
        return Response(self._fresh(agreement))

    @extend_schema(
        summary="Move the agreement to another state",
        request=TransitionInputSerializer,
        responses={200: AgreementSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def transition(self, request, reference=None):
        agreement = self.get_object()
        data = TransitionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.agreement_apply_transition(
            actor=request.user, agreement=agreement, request=request, **data.validated_data
        )
        return Response(self._fresh(agreement))

    @extend_schema(
        summary="Sign for your side; the second signature makes the agreement active",
        request=SignInputSerializer,
        responses={200: AgreementSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def sign(self, request, reference=None):
        agreement = self.get_object()
        data = SignInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.agreement_sign(actor=request.user, agreement=agreement, request=request, **data.validated_data)
        return Response(self._fresh(agreement))

    @extend_schema(
        summary="Give notice to end an active agreement (either side); it ends after the agreed notice",
        request=NoticeToEndSerializer,
        responses={200: AgreementSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="notice-to-end")
    def give_notice(self, request, reference=None):
        agreement = self.get_object()
        data = NoticeToEndSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        agreement_give_notice(actor=request.user, agreement=agreement, request=request, **data.validated_data)
        return Response(self._fresh(agreement))

    @extend_schema(
        summary="Move the signature due date while the agreement awaits signature (centre negotiators)",
        request=SignatureDueInputSerializer,
        responses={200: AgreementSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="signature-due")
    def signature_due(self, request, reference=None):
        agreement = self.get_object()
        data = SignatureDueInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.agreement_change_signature_due(
            actor=request.user, agreement=agreement, request=request, **data.validated_data
        )
        return Response(self._fresh(agreement))

    @extend_schema(summary="Every version of the terms, newest first", responses={200: VersionSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)
    def versions(self, request, reference=None):
        agreement = self.get_object()
        versions = agreement.versions.select_related("created_by").order_by("-number")
        return Response(VersionSerializer(versions, many=True).data)

    @extend_schema(
        summary="Clause-by-clause comparison of two versions",
        parameters=[
            OpenApiParameter("from", int, required=True, description="Older version number"),
            OpenApiParameter("to", int, required=True, description="Newer version number"),
        ],
        responses={200: ClauseDiffSerializer(many=True), 400: ERRORS[400], 404: ERRORS[404]},
    )
    @action(detail=True, methods=["get"], url_path="versions/compare", pagination_class=None)
    def compare(self, request, reference=None):
        agreement = self.get_object()
        numbers = _version_numbers(request.query_params, "from", "to")
        found = {v.number: v for v in agreement.versions.filter(number__in=numbers)}
        if len(found) != len(set(numbers)):
            raise Http404("No such version.")
        rows = selectors.version_compare(found[numbers[0]], found[numbers[1]])
        return Response(ClauseDiffSerializer(rows, many=True).data)

    @extend_schema(
        summary="The negotiation log: proposals, counter-proposals and comments", responses=EntrySerializer(many=True)
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def entries(self, request, reference=None):
        agreement = self.get_object()
        return Response(EntrySerializer(agreement.entries.select_related("author", "responds_to"), many=True).data)

    @extend_schema(
        summary="Add a proposal, counter-proposal or comment",
        request=EntryInputSerializer,
        responses={201: EntrySerializer, **ERRORS},
    )
    @entries.mapping.post
    def add_entry(self, request, reference=None):
        agreement = self.get_object()
        data = EntryInputSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        entry = services.negotiation_entry_add(
            actor=request.user, agreement=agreement, request=request, **data.validated_data
        )
        return Response(EntrySerializer(entry).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Open points, open first", responses=OpenPointSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="open-points", pagination_class=None)
    def open_points(self, request, reference=None):
        agreement = self.get_object()
        return Response(OpenPointSerializer(agreement.open_points.select_related("owner"), many=True).data)

    @extend_schema(
        summary="Raise an open point with an owner and due date",
        request=OpenPointInputSerializer,
        responses={201: OpenPointSerializer, **ERRORS},
    )
    @open_points.mapping.post
    def add_open_point(self, request, reference=None):
        agreement = self.get_object()
        data = OpenPointInputSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        point = services.open_point_add(actor=request.user, agreement=agreement, request=request, **data.validated_data)
        return Response(OpenPointSerializer(point).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Resolve an open point (its owner or a centre negotiator)",
        request=ResolveInputSerializer,
        responses={200: OpenPointSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"], url_path=r"open-points/(?P<point_id>[0-9a-fA-F-]{36})/resolve")
    def resolve_open_point(self, request, reference=None, point_id=None):
        agreement = self.get_object()
        point = get_object_for(request.user, OpenPoint.objects.filter(agreement=agreement), public_id=point_id)
        data = ResolveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        point = services.open_point_resolve(
            actor=request.user, point=point, resolution=data.validated_data["resolution"], request=request
        )
        return Response(OpenPointSerializer(point).data)

    @extend_schema(
        summary="Negotiation meetings with their attendees and minutes, newest first",
        responses=MeetingSerializer(many=True),
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def meetings(self, request, reference=None):
        agreement = self.get_object()
        return Response(MeetingSerializer(agreement.meetings.select_related("recorded_by"), many=True).data)

    @extend_schema(
        summary="Record a meeting that took place (centre negotiators)",
        request=MeetingInputSerializer,
        responses={201: MeetingSerializer, **ERRORS},
    )
    @meetings.mapping.post
    def add_meeting(self, request, reference=None):
        agreement = self.get_object()
        data = MeetingInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        meeting = services.meeting_record(
            actor=request.user,
            agreement=agreement,
            held_at=values["held_at"],
            attendees="\n".join(values["attendees"]),
            minutes=values["minutes"],
            request=request,
        )
        return Response(MeetingSerializer(meeting).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Draft and signed documents, newest first", responses=DocumentSerializer(many=True))
    @action(
        detail=True, methods=["get"], pagination_class=None, filter_backends=[], parser_classes=[PortalMultiPartParser]
    )
    def documents(self, request, reference=None):
        agreement = self.get_object()
        documents = agreement.documents.select_related("uploaded_by", "agreement", "marking", "attested_by")
        return Response(DocumentSerializer(documents, many=True, context=self.get_serializer_context()).data)

    @extend_schema(
        summary="Upload a draft, signed copy or annex (multipart/form-data)",
        description="The file is checked by size and by content (PDF, DOC, DOCX, ODT); "
        "a refused file answers 400 naming the `file` field, and nothing is stored.",
        request={"multipart/form-data": DocumentUploadSerializer},
        responses={201: DocumentSerializer, **ERRORS},
    )
    @documents.mapping.post
    def upload_document(self, request, reference=None):
        agreement = self.get_object()
        data = DocumentUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        document = services.document_upload(
            actor=request.user,
            agreement=agreement,
            uploaded=values["file"],
            kind=values["kind"],
            description=values["description"],
            attested=values["no_classified_information"],
            request=request,
        )
        return Response(
            DocumentSerializer(document, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="Download one document (its `download_url`); every download is audited",
        parameters=[OpenApiParameter("document_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        responses={
            **{
                (200, content_type): OpenApiResponse(OpenApiTypes.BINARY, description="The file, as an attachment.")
                for content_type in DOCUMENT_CONTENT_TYPES
            },
            403: ERRORS[403],
            404: OpenApiResponse(ErrorSerializer, description="No such agreement or document among those you may see."),
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"documents/(?P<document_id>[0-9a-fA-F-]{36})",
        pagination_class=None,
        filter_backends=[],
        content_negotiation_class=FileDownloadNegotiation,
    )
    def document(self, request, reference=None, document_id=None):
        agreement = self.get_object()
        document = get_object_for(
            request.user, AgreementDocument.objects.filter(agreement=agreement), public_id=document_id
        )
        return file_response(request, document, case_ref=agreement.reference)

    @extend_schema(
        summary="Change a document's handling marking",
        description="Raising it is for whoever may upload documents to the agreement; lowering it needs a "
        "lead evaluator or an admin and a `reason`. Audited.",
        parameters=[OpenApiParameter("document_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        request=MarkingInputSerializer,
        responses={200: DocumentSerializer, **ERRORS},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"documents/(?P<document_id>[0-9a-fA-F-]{36})/marking",
        pagination_class=None,
        filter_backends=[],
    )
    def document_marking(self, request, reference=None, document_id=None):
        agreement = self.get_object()
        document = get_object_for(
            request.user,
            AgreementDocument.objects.filter(agreement=agreement).select_related("agreement", "marking"),
            public_id=document_id,
        )
        data = MarkingInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        document = services.agreement_document_set_marking(
            actor=request.user,
            document=document,
            marking=data.validated_data["marking"],
            reason=data.validated_data["reason"],
            request=request,
        )
        return Response(DocumentSerializer(document, context=self.get_serializer_context()).data)
