"""The findings API: ``/api/v1/findings/``, looked up by reference, scoped by the policy.

Writes call the same services as the web forms; the policy decides through
``PolicyPermission`` and ``policy_actions``; illegal transitions answer 409.
"""

from __future__ import annotations

import uuid

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
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
from findings import services
from findings.api import serializers as s
from findings.models import EvaluationRun, Finding, FindingComment, FindingEvidence
from findings.selectors import SEVERITY_RANK
from findings.states import FINDING_MOVES


def _cited_run(user, public_id) -> EvaluationRun:
    """The run a finding is to cite, among those the caller sees; the service checks it is of the same case."""
    run = scope(EvaluationRun.objects.all(), user).filter(public_id=public_id).first()
    if run is None:
        raise ValidationError({"evaluation_run": ["No evaluation run with this id that you can see."]})
    return run


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
        "respond": FINDING_MOVES["respond"].action,
        "add_comment": "finding.comment",
        "evidence": "finding.edit",
        # "file" (download) is checked against the file itself, with "finding.evidence_download".
    }

    def get_serializer_class(self):
        return s.FindingDetailSerializer if self.action == "retrieve" else s.FindingSerializer

    def get_queryset(self):
        qs = scope(
            Finding.objects.with_related().select_related("evaluation_run", "rubric"), self.request.user
        ).annotate(severity_rank=SEVERITY_RANK)
        assessment = self.request.query_params.get("assessment")
        if assessment:
            qs = qs.filter(assessment__reference=assessment)
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

    @extend_schema(
        request={"application/json": s.RespondSerializer, "multipart/form-data": s.RespondWithFilesSerializer},
        responses=s.FindingDetailSerializer,
        description="The company's answer. Send multipart/form-data to attach files (field `files`, repeated).",
    )
    @action(detail=True, methods=["post"], parser_classes=[PortalJSONParser, PortalMultiPartParser])
    def respond(self, request, reference=None):
        finding = self.get_object()
        data = self._valid(s.RespondWithFilesSerializer)
        finding = services.finding_respond(
            actor=request.user,
            finding=finding,
            response=data["company_response"],
            planned_mitigation=data["planned_mitigation"],
            files=data["files"],
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
        files = services.finding_evidence_add(actor=request.user, finding=finding, files=data["files"], request=request)
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
        comments = scope(FindingComment.objects.filter(finding=finding), request.user).select_related("author")
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
