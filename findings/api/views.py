"""The findings API: ``/api/v1/findings/``, looked up by reference, scoped by the policy.

Writes call the same services as the web forms; the policy decides through
``PolicyPermission`` and ``policy_actions``; illegal transitions answer 409.
"""

from __future__ import annotations

import uuid

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from accounts.permissions import ScopedObjectMixin, get_object_for, scope
from assessments.models import Assessment
from audit.downloads import file_response
from core.api_defaults import (
    FileDownloadNegotiation,
    PortalCursorPagination,
    PortalJSONParser,
    PortalMultiPartParser,
)
from core.api_markings import MarkingInputSerializer
from findings import services
from findings.api import serializers as s
from findings.models import EvaluationRun, Finding, FindingComment, FindingEvidence, Recommendation
from findings.selectors import AWAITING, SEVERITY_RANK, disposition_q
from findings.states import ESCALATE, FINDING_MOVES, RECOMMENDATION_MOVES, FindingDisposition


def _cited_run(user, public_id) -> EvaluationRun:
    """The run a finding is to cite, among those the caller sees; the service checks it is of the same case."""
    run = scope(EvaluationRun.objects.all(), user).filter(public_id=public_id).first()
    if run is None:
        raise ValidationError({"evaluation_run": ["No evaluation run with this id that you can see."]})
    return run


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "disposition",
                OpenApiTypes.STR,
                enum=[AWAITING, *FindingDisposition.values],
                description="The company's disposition; `awaiting`: released and not answered this round.",
            ),
        ]
    )
)
class FindingViewSet(
    ScopedObjectMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Findings on the assessments the caller works on; a company liaison sees only released ones."""

    serializer_class = s.FindingSerializer
    lookup_field = "reference"
    filterset_fields = {"severity": ["exact"], "risk_domain": ["exact"], "status": ["exact"]}
    search_fields = ["title", "summary"]
    ordering_fields = ["created_at", "response_due_at", "severity_rank", "reference"]
    ordering = ["severity_rank", "-created_at"]
    pagination_class = PortalCursorPagination
    policy_actions = {
        "create": "finding.create",
        "update": "finding.edit",
        "partial_update": "finding.edit",
        "submit": FINDING_MOVES["submit_for_review"].action,
        "release": FINDING_MOVES["release"].action,
        "resolve": FINDING_MOVES["resolve"].action,
        "reopen": FINDING_MOVES["reopen"].action,
        "withdraw": FINDING_MOVES["withdraw"].action,
        "escalate": ESCALATE.action,
        "respond": FINDING_MOVES["respond"].action,
        "add_comment": "finding.comment",
        "add_recommendation": "finding.edit",
        "evidence": "finding.edit",
        # The services ask finding.mark / .mark_lower (and those of the file or comment) of the item itself.
        "marking": "finding.markings",
        "file_marking": "finding.markings",
        "comment_marking": "finding.markings",
        # "file" (download) is checked against the file itself, with "finding.evidence_download".
    }

    def get_serializer_class(self):
        return s.FindingDetailSerializer if self.action == "retrieve" else s.FindingSerializer

    def get_queryset(self):
        qs = scope(
            Finding.objects.with_related().prefetch_related("evaluation_run", "rubric"), self.request.user
        ).annotate(severity_rank=SEVERITY_RANK)
        assessment = self.request.query_params.get("assessment")
        if assessment:
            qs = qs.filter(assessment__reference=assessment)
        disposition = self.request.query_params.get("disposition")
        if disposition:
            by_disposition = disposition_q(disposition)
            if by_disposition is None:
                choices = ", ".join([AWAITING, *FindingDisposition.values])
                raise ValidationError({"disposition": [f"Choose one of: {choices}."]})
            qs = qs.filter(by_disposition)
        return qs

    def _reply(self, finding: Finding, code: int = status.HTTP_200_OK) -> Response:
        return Response(s.FindingDetailSerializer(finding, context=self.get_serializer_context()).data, status=code)

    def _valid(self, serializer_class, partial: bool = False) -> dict:
        serializer = serializer_class(data=self.request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(request=s.FindingCreateSerializer, responses={201: s.FindingDetailSerializer})
    def create(self, request, *args, **kwargs):
        data = dict(self._valid(s.FindingCreateSerializer))
        reference = data.pop("assessment")
        assessment = (
            scope(Assessment.objects.select_related("submission"), request.user).filter(reference=reference).first()
        )
        if assessment is None:
            raise ValidationError({"assessment": [f"No assessment {reference} that you work on."]})
        if data.get("evaluation_run"):
            data["evaluation_run"] = _cited_run(request.user, data["evaluation_run"])
        finding = services.finding_create(actor=request.user, assessment=assessment, request=request, **data)
        return self._reply(finding, status.HTTP_201_CREATED)

    @extend_schema(request=s.FindingUpdateSerializer, responses=s.FindingDetailSerializer)
    def update(self, request, *args, **kwargs):
        finding = self.get_object()
        data = dict(self._valid(s.FindingUpdateSerializer, partial=kwargs.get("partial", False)))
        if data.get("evaluation_run"):
            data["evaluation_run"] = _cited_run(request.user, data["evaluation_run"])
        finding = services.finding_update(actor=request.user, finding=finding, data=data, request=request)
        return self._reply(finding)

    @extend_schema(request=s.FindingUpdateSerializer, responses=s.FindingDetailSerializer)
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(request=None, responses=s.FindingDetailSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, reference=None):
        finding = services.finding_submit_for_review(actor=request.user, finding=self.get_object(), request=request)
        return self._reply(finding)

    @extend_schema(request=s.ReleaseSerializer, responses=s.FindingDetailSerializer)
    @action(detail=True, methods=["post"])
    def release(self, request, reference=None):
        finding = self.get_object()
        data = self._valid(s.ReleaseSerializer)
        finding = services.finding_release(
            actor=request.user, finding=finding, response_due_at=data.get("response_due_at"), request=request
        )
        return self._reply(finding)

    @extend_schema(request=s.ResolveSerializer, responses=s.FindingDetailSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, reference=None):
        finding = self.get_object()
        data = self._valid(s.ResolveSerializer)
        finding = services.finding_resolve(actor=request.user, finding=finding, note=data["note"], request=request)
        return self._reply(finding)

    @extend_schema(request=s.ReopenSerializer, responses=s.FindingDetailSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, reference=None):
        finding = self.get_object()
        data = self._valid(s.ReopenSerializer)
        finding = services.finding_reopen(
            actor=request.user,
            finding=finding,
            note=data["note"],
            response_due_at=data.get("response_due_at"),
            request=request,
        )
        return self._reply(finding)

    @extend_schema(request=s.WithdrawSerializer, responses=s.FindingDetailSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, reference=None):
        finding = self.get_object()
        data = self._valid(s.WithdrawSerializer)
        finding = services.finding_withdraw(actor=request.user, finding=finding, reason=data["reason"], request=request)
        return self._reply(finding)

    @extend_schema(request=s.EscalateSerializer, responses=s.FindingDetailSerializer)
    @action(detail=True, methods=["post"])
    def escalate(self, request, reference=None):
        finding = self.get_object()
        data = self._valid(s.EscalateSerializer)
        finding = services.finding_escalate(actor=request.user, finding=finding, note=data["note"], request=request)
        return self._reply(finding)

    @extend_schema(
        request={"application/json": s.RespondSerializer, "multipart/form-data": s.RespondWithFilesSerializer},
        responses=s.FindingDetailSerializer,
        description="The company's answer with its disposition. Send multipart/form-data to attach files "
        "(field `files`, repeated), e.g. evidence for a dispute.",
    )
    @action(detail=True, methods=["post"], parser_classes=[PortalJSONParser, PortalMultiPartParser])
    def respond(self, request, reference=None):
        finding = self.get_object()
        data = self._valid(s.RespondWithFilesSerializer)
        finding = services.finding_respond(
            actor=request.user,
            finding=finding,
            disposition=data["disposition"],
            response=data["company_response"],
            planned_mitigation=data["planned_mitigation"],
            mitigation_target=data["mitigation_target"],
            files=data["files"],
            attested=data["no_classified_information"],
            request=request,
        )
        return self._reply(finding)

    @extend_schema(
        request={"multipart/form-data": s.FileUploadSerializer},
        responses={201: s.FindingFileSerializer(many=True)},
        description="Add centre evidence to a draft or in-review finding (the assessment's team).",
    )
    @action(
        detail=True, methods=["post"], parser_classes=[PortalMultiPartParser], pagination_class=None, filter_backends=[]
    )
    def evidence(self, request, reference=None):
        finding = self.get_object()
        data = self._valid(s.FileUploadSerializer)
        files = services.finding_evidence_add(
            actor=request.user,
            finding=finding,
            files=data["files"],
            attested=data["no_classified_information"],
            request=request,
        )
        context = self.get_serializer_context()
        return Response(s.FindingFileSerializer(files, many=True, context=context).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        parameters=[OpenApiParameter("file_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        responses={
            (200, "*/*"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The file, as an attachment of its checked content type."
            )
        },
        description="Download one file of the finding (its `download_url`). Every download is audited.",
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"files/(?P<file_id>[^/.]+)",
        url_name="file",
        pagination_class=None,
        filter_backends=[],
        content_negotiation_class=FileDownloadNegotiation,
    )
    def file(self, request, reference=None, file_id=None):
        finding = self.get_object()
        try:
            public_id = uuid.UUID(str(file_id))
        except ValueError as exc:
            raise Http404("Not found.") from exc
        evidence = get_object_for(
            request.user,
            FindingEvidence.objects.filter(finding=finding).select_related("finding__assessment__submission"),
            "finding.evidence_download",
            public_id=public_id,
        )
        return file_response(request, evidence, case_ref=finding.assessment.reference)

    @extend_schema(request=None, responses=s.CommentSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def comments(self, request, reference=None):
        finding = self.get_object()
        comments = scope(FindingComment.objects.filter(finding=finding), request.user).select_related(
            "author", "marking"
        )
        return Response(s.CommentSerializer(comments, many=True).data)

    @extend_schema(request=s.CommentSerializer, responses={201: s.CommentSerializer})
    @comments.mapping.post
    def add_comment(self, request, reference=None):
        finding = self.get_object()
        data = self._valid(s.CommentSerializer)
        comment = services.finding_comment_add(
            actor=request.user, finding=finding, body=data["body"], internal=data["internal"], request=request
        )
        return Response(s.CommentSerializer(comment).data, status=status.HTTP_201_CREATED)

    # --- Handling markings: each POST calls the item's <entity>_set_marking service -----------------

    def _marking_input(self) -> dict:
        return self._valid(MarkingInputSerializer)

    @extend_schema(
        request=MarkingInputSerializer,
        responses=s.FindingDetailSerializer,
        description="Change the finding's handling marking. Raising it is for its case team; lowering it needs "
        "a lead evaluator on the case or an admin, and a `reason`. Audited.",
    )
    @action(detail=True, methods=["post"])
    def marking(self, request, reference=None):
        data = self._marking_input()
        finding = services.finding_set_marking(
            actor=request.user,
            finding=self.get_object(),
            marking=data["marking"],
            reason=data["reason"],
            request=request,
        )
        return self._reply(Finding.objects.with_related().get(pk=finding.pk))

    @extend_schema(
        request=MarkingInputSerializer,
        parameters=[OpenApiParameter("file_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        responses=s.FindingFileSerializer,
        description="Change a file's handling marking: raising it is for the case team (and the company, for the "
        "files of its own answer); lowering it needs a lead evaluator on the case or an admin, and a `reason`.",
    )
    @action(detail=True, methods=["post"], url_path=r"files/(?P<file_id>[0-9a-fA-F-]{36})/marking")
    def file_marking(self, request, reference=None, file_id=None):
        finding = self.get_object()
        evidence = get_object_for(
            request.user,
            FindingEvidence.objects.filter(finding=finding).select_related("marking", "attested_by"),
            public_id=file_id,
        )
        evidence.finding = finding
        data = self._marking_input()
        evidence = services.evidence_set_marking(
            actor=request.user, evidence=evidence, marking=data["marking"], reason=data["reason"], request=request
        )
        evidence.finding = finding
        return Response(s.FindingFileSerializer(evidence, context=self.get_serializer_context()).data)

    @extend_schema(
        request=MarkingInputSerializer,
        parameters=[OpenApiParameter("comment_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        responses=s.CommentSerializer,
        description="Change a comment's handling marking: raising it is for the case team or its author; "
        "lowering it needs a lead evaluator on the case or an admin, and a `reason`.",
    )
    @action(detail=True, methods=["post"], url_path=r"comments/(?P<comment_id>[0-9a-fA-F-]{36})/marking")
    def comment_marking(self, request, reference=None, comment_id=None):
        finding = self.get_object()
        comment = get_object_for(
            request.user,
            FindingComment.objects.filter(finding=finding).select_related("author", "marking"),
            public_id=comment_id,
        )
        comment.finding = finding
        data = self._marking_input()
        comment = services.comment_set_marking(
            actor=request.user, comment=comment, marking=data["marking"], reason=data["reason"], request=request
        )
        return Response(s.CommentSerializer(comment).data)

    @extend_schema(request=None, responses=s.RecommendationSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def recommendations(self, request, reference=None):
        finding = self.get_object()
        rows = scope(Recommendation.objects.filter(finding=finding), request.user).order_by("created_at", "pk")
        for row in rows:
            row.finding = finding
        return Response(s.RecommendationSerializer(rows, many=True).data)

    @extend_schema(request=s.RecommendationCreateSerializer, responses={201: s.RecommendationSerializer})
    @recommendations.mapping.post
    def add_recommendation(self, request, reference=None):
        finding = self.get_object()
        data = self._valid(s.RecommendationCreateSerializer)
        recommendation = services.recommendation_add(
            actor=request.user, finding=finding, kind=data["kind"], text=data["text"], request=request
        )
        return Response(s.RecommendationSerializer(recommendation).data, status=status.HTTP_201_CREATED)


class RecommendationViewSet(
    ScopedObjectMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Recommendations on the findings the caller may see (the company: issued ones of its own findings),
    and their steps: the company acknowledges, accepts or declines, and implements; the centre verifies."""

    serializer_class = s.RecommendationSerializer
    lookup_field = "public_id"
    filterset_fields = {"status": ["exact"], "kind": ["exact"]}
    ordering_fields = ["due_at", "created_at"]
    ordering = ["due_at", "created_at"]
    pagination_class = PortalCursorPagination
    policy_actions = {name: move.action for name, move in RECOMMENDATION_MOVES.items() if move.action}

    def get_queryset(self):
        return scope(Recommendation.objects.select_related("finding__assessment__submission"), self.request.user)

    def _step(self, call, serializer_class=None) -> Response:
        recommendation = self.get_object()
        data = {}
        if serializer_class is not None:
            serializer = serializer_class(data=self.request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
        recommendation = call(recommendation, data)
        return Response(s.RecommendationSerializer(recommendation).data)

    @extend_schema(request=None, responses=s.RecommendationSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, public_id=None):
        return self._step(
            lambda rec, data: services.recommendation_acknowledge(
                actor=request.user, recommendation=rec, request=request
            )
        )

    @extend_schema(request=s.RecommendationAcceptSerializer, responses=s.RecommendationSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, public_id=None):
        return self._step(
            lambda rec, data: services.recommendation_accept(
                actor=request.user, recommendation=rec, implement_by=data["implement_by"], request=request
            ),
            s.RecommendationAcceptSerializer,
        )

    @extend_schema(request=s.RecommendationDeclineSerializer, responses=s.RecommendationSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request, public_id=None):
        return self._step(
            lambda rec, data: services.recommendation_decline(
                actor=request.user, recommendation=rec, reason=data["reason"], request=request
            ),
            s.RecommendationDeclineSerializer,
        )

    @extend_schema(
        request={
            "application/json": s.RecommendationNoteSerializer,
            "multipart/form-data": s.RecommendationImplementSerializer,
        },
        responses=s.RecommendationSerializer,
        description="Send multipart/form-data to attach the company's evidence (field `files`, repeated).",
    )
    @action(detail=True, methods=["post"], parser_classes=[PortalJSONParser, PortalMultiPartParser])
    def implement(self, request, public_id=None):
        return self._step(
            lambda rec, data: services.recommendation_implement(
                actor=request.user,
                recommendation=rec,
                note=data["note"],
                files=data["files"],
                attested=data["no_classified_information"],
                request=request,
            ),
            s.RecommendationImplementSerializer,
        )

    @extend_schema(request=s.RecommendationVerifySerializer, responses=s.RecommendationSerializer)
    @action(detail=True, methods=["post"])
    def verify(self, request, public_id=None):
        return self._step(
            lambda rec, data: services.recommendation_verify(
                actor=request.user, recommendation=rec, note=data["note"], request=request
            ),
            s.RecommendationVerifySerializer,
        )

    @extend_schema(request=s.RecommendationNoteSerializer, responses=s.RecommendationSerializer)
    @action(detail=True, methods=["post"], url_path="not-verify", url_name="not-verify")
    def not_verify(self, request, public_id=None):
        return self._step(
            lambda rec, data: services.recommendation_not_verify(
                actor=request.user, recommendation=rec, note=data["note"], request=request
            ),
            s.RecommendationNoteSerializer,
        )
