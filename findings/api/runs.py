"""The evaluation runs API: ``/api/v1/evaluation-runs/``, imported Inspect logs, by id, scoped by the policy.

The case team and programme admins see an assessment's runs; a company never does (404). An
upload (multipart) answers 202 with the queued run: the worker reads it, and the run's
``import_status`` says when it is ``imported`` or ``failed`` (with ``import_error``). The upload
must confirm the log holds no classified information (``no_classified_information``); the run
takes the agreement's default handling marking, changed by ``POST …/marking/``.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from accounts.permissions import ScopedObjectMixin, scope
from assessments.models import Assessment
from audit.downloads import file_response
from core.api_defaults import FileDownloadNegotiation, PortalCursorPagination, PortalJSONParser, PortalMultiPartParser
from core.api_markings import MarkingInputSerializer
from findings.api import serializers as s
from findings.evaluation_models import EvaluationRun
from findings.services import evaluation
from findings.services.markings import evaluation_run_set_marking


class EvaluationRunViewSet(
    ScopedObjectMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Inspect logs imported on the assessments the caller works on; ``?assessment=REF`` narrows the list."""

    serializer_class = s.EvaluationRunSerializer
    lookup_field = "public_id"
    filterset_fields = {"import_status": ["exact"], "run_status": ["exact"]}
    ordering_fields = ["uploaded_at"]
    ordering = ["-uploaded_at"]
    pagination_class = PortalCursorPagination
    # Reads are scoped (a run the caller may not see answers 404); the upload and the log need the rules.
    # The marking service then asks evaluation_run.mark / .mark_lower of the run itself.
    policy_actions = {
        "create": "evaluation_run.import",
        "file": "evaluation_run.read",
        "marking": "evaluation_run.read",
    }
    parser_classes = [PortalMultiPartParser, PortalJSONParser]

    def get_queryset(self):
        qs = scope(
            EvaluationRun.objects.select_related("assessment", "uploaded_by", "marking", "attested_by"),
            self.request.user,
        )
        assessment = self.request.query_params.get("assessment")
        if assessment:
            qs = qs.filter(assessment__reference=assessment)
        return qs

    @extend_schema(
        request={"multipart/form-data": s.EvaluationLogUploadSerializer}, responses={202: s.EvaluationRunSerializer}
    )
    def create(self, request, *args, **kwargs):
        serializer = s.EvaluationLogUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        assessment = (
            scope(Assessment.objects.select_related("submission"), request.user)
            .filter(reference=data["assessment"])
            .first()
        )
        if assessment is None:
            raise ValidationError({"assessment": [f"No assessment {data['assessment']} that you work on."]})
        run = evaluation.evaluation_run_upload(
            actor=request.user,
            assessment=assessment,
            file=data["file"],
            model_note=data["model_note"],
            attested=data["no_classified_information"],
            request=request,
        )
        run.refresh_from_db()  # the import may already have run (a worker that ran it at once)
        context = self.get_serializer_context()
        return Response(s.EvaluationRunSerializer(run, context=context).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=None,
        responses={(200, "*/*"): OpenApiResponse(OpenApiTypes.BINARY, description="The log, as uploaded.")},
        description="Download the imported log. Every download is audited.",
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="file",
        url_name="file",
        pagination_class=None,
        filter_backends=[],
        content_negotiation_class=FileDownloadNegotiation,
    )
    def file(self, request, public_id=None):
        run = self.get_object()
        if not run.is_imported:
            raise NotFound("Only an imported log can be downloaded.")
        return file_response(request, run, case_ref=run.assessment.reference)

    @extend_schema(
        request=MarkingInputSerializer,
        responses=s.EvaluationRunSerializer,
        description="Change the run's handling marking. Raising it is for the case team; lowering it needs a lead "
        "evaluator on the case or an admin, and a `reason`. Audited.",
    )
    @action(detail=True, methods=["post"])
    def marking(self, request, public_id=None):
        run = self.get_object()
        serializer = MarkingInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        run = evaluation_run_set_marking(
            actor=request.user,
            run=run,
            marking=serializer.validated_data["marking"],
            reason=serializer.validated_data["reason"],
            request=request,
        )
        run = self.get_queryset().get(pk=run.pk)
        return Response(s.EvaluationRunSerializer(run, context=self.get_serializer_context()).data)
