"""REST API for submissions, assessments and model-access tickets.

Same policy and same services as the pages: querysets are scoped, objects
are looked up by reference, writes go through one service each
(RuleViolation → 400 with field messages, TransitionNotAllowed → 409).
Credentials never appear in list or detail responses; only the ``reveal``
action returns one, audited, with ``Cache-Control: no-store``.
"""

from __future__ import annotations

from django.utils.cache import add_never_cache_headers
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.permissions import ScopedObjectMixin, actor_for, can, scope
from agreements.models import Agreement, ReleaseNotice
from assessments import services
from assessments.api import serializers as s
from assessments.models import AccessTicket, Assessment, ModelSubmission
from assessments.states import ACKNOWLEDGE_OUTCOME, ASSESSMENT_MOVES, TICKET_MOVES
from core.api_defaults import PortalCursorPagination

_ERRORS = {
    400: OpenApiResponse(description="Invalid input: {detail, errors: {field: [messages]}}"),
    403: OpenApiResponse(description="Not allowed"),
    404: OpenApiResponse(description="Not found (or not visible to you)"),
}
_TRANSITION_ERRORS = {**_ERRORS, 409: OpenApiResponse(description="Not allowed from the current state")}


@extend_schema_view(
    list=extend_schema(summary="Model submissions you may see"),
    retrieve=extend_schema(summary="One model submission", responses={200: s.SubmissionSerializer, **_ERRORS}),
    create=extend_schema(
        summary="Submit a model (company liaison, under an active agreement)",
        request=s.SubmissionCreateSerializer,
        responses={201: s.SubmissionSerializer, **_ERRORS},
    ),
)
class SubmissionViewSet(ScopedObjectMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = s.SubmissionSerializer
    lookup_field = "reference"
    policy_actions = {"create": "submission.create", "withdraw": "submission.withdraw"}
    filterset_fields = ["intended_release_date"]
    search_fields = ["model_name", "model_version", "reference"]
    ordering_fields = ["created_at", "intended_release_date"]
    ordering = ["-created_at"]

    def get_queryset(self):
        return scope(
            ModelSubmission.objects.select_related("organisation", "agreement", "release_notice"), self.request.user
        )

    @extend_schema(
        summary="Withdraw your submission before its assessment starts (company liaison), with the reason",
        request=s.ReasonSerializer,
        responses={200: s.SubmissionSerializer, **_TRANSITION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, reference=None):
        submission = self.get_object()
        data = s.ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        submission = services.submission_withdraw(
            actor=request.user, submission=submission, request=request, **data.validated_data
        )
        return Response(s.SubmissionSerializer(submission).data)

    def create(self, request, *args, **kwargs):
        data = s.SubmissionCreateSerializer(data=request.data)
        data.fields["agreement"].queryset = scope(Agreement.objects.all(), request.user)
        data.fields["release_notice"].queryset = scope(ReleaseNotice.objects.all(), request.user)
        data.is_valid(raise_exception=True)
        submission = services.submission_create(actor=request.user, request=request, **data.validated_data)
        return Response(s.SubmissionSerializer(submission).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="Assessments you may see (internal notes only for centre staff on the case)"),
    retrieve=extend_schema(summary="One assessment", responses={200: s.AssessmentSerializer, **_ERRORS}),
    create=extend_schema(
        summary="Open an assessment (lead evaluator)",
        request=s.AssessmentCreateSerializer,
        responses={201: s.AssessmentSerializer, **_ERRORS},
    ),
    partial_update=extend_schema(
        summary="Change the team, risk domains, window or notes (case lead)",
        request=s.AssessmentWriteSerializer,
        responses={200: s.AssessmentSerializer, **_TRANSITION_ERRORS},
    ),
)
class AssessmentViewSet(
    ScopedObjectMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet
):
    serializer_class = s.AssessmentSerializer
    lookup_field = "reference"
    http_method_names = ["get", "post", "patch", "head", "options"]
    policy_actions = {
        "create": "assessment.create",
        "partial_update": "assessment.manage",
        # The action every step forward of ASSESSMENT_MOVES asks; which step, the service checks.
        "advance": "assessment.transition",
        "close": ASSESSMENT_MOVES["complete"].action,
        "withdraw": ASSESSMENT_MOVES["withdraw"].action,
        "acknowledge_outcome": ACKNOWLEDGE_OUTCOME,
    }
    filterset_fields = ["status", "outcome"]
    search_fields = ["reference", "submission__model_name"]
    ordering_fields = ["window_start", "window_end", "created_at"]
    ordering = ["-window_start"]

    def get_queryset(self):
        qs = Assessment.objects.select_related("submission", "lead").prefetch_related("team")
        return scope(qs, self.request.user)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        actor = actor_for(self.request.user)
        # The scope shows centre staff only the cases they are on, so they may read internal notes of the list.
        context["show_internal"] = bool(actor and actor.is_centre_staff)
        return context

    def _out(self, assessment: Assessment, code: int = status.HTTP_200_OK) -> Response:
        assessment = self.get_queryset().get(pk=assessment.pk)
        context = self.get_serializer_context()
        context["show_internal"] = can(self.request.user, "assessment.view_internal", assessment)
        return Response(s.AssessmentSerializer(assessment, context=context).data, status=code)

    def retrieve(self, request, *args, **kwargs):
        return self._out(self.get_object())

    def create(self, request, *args, **kwargs):
        data = s.AssessmentCreateSerializer(data=request.data)
        data.fields["submission"].queryset = scope(ModelSubmission.objects.all(), request.user)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        assessment = services.assessment_create(
            actor=request.user,
            request=request,
            submission=v["submission"],
            lead=v.get("lead"),
            team=v.get("team", []),
            risk_domains=v["risk_domains"],
            window_start=v["window_start"],
            window_end=v["window_end"],
            internal_notes=v["internal_notes"],
            window_after_release_reason=v["window_after_release_reason"],
        )
        return self._out(assessment, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        assessment = self.get_object()
        current = {
            "team": [u.email for u in assessment.team.all()],
            "risk_domains": assessment.risk_domains,
            "window_start": assessment.window_start,
            "window_end": assessment.window_end,
            "internal_notes": assessment.internal_notes,
            "window_after_release_reason": assessment.window_after_release_reason,
        }
        data = s.AssessmentWriteSerializer(data={**current, **request.data})
        data.is_valid(raise_exception=True)
        v = data.validated_data
        assessment = services.assessment_update(
            actor=request.user,
            assessment=assessment,
            request=request,
            team=v.get("team", []),
            risk_domains=v["risk_domains"],
            window_start=v["window_start"],
            window_end=v["window_end"],
            internal_notes=v["internal_notes"],
            window_after_release_reason=v["window_after_release_reason"],
        )
        return self._out(assessment)

    def update(self, request, *args, **kwargs):  # only PATCH is offered
        return self.partial_update(request, *args, **kwargs)

    @extend_schema(
        summary="Move the case one step forward (scheduled → access_pending → in_progress → reporting)",
        request=s.AdvanceSerializer,
        responses={200: s.AssessmentSerializer, **_TRANSITION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def advance(self, request, reference=None):
        assessment = self.get_object()
        data = s.AdvanceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        assessment = services.assessment_advance(
            actor=request.user, assessment=assessment, request=request, **data.validated_data
        )
        return self._out(assessment)

    @extend_schema(
        summary="Complete the case with an outcome and rationale (from reporting)",
        request=s.CloseSerializer,
        responses={200: s.AssessmentSerializer, **_TRANSITION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def close(self, request, reference=None):
        assessment = self.get_object()
        data = s.CloseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        assessment = services.assessment_close(
            actor=request.user, assessment=assessment, request=request, **data.validated_data
        )
        return self._out(assessment)

    @extend_schema(
        summary="The company acknowledges the outcome of its completed case (with a comment if any)",
        request=s.OutcomeAcknowledgeSerializer,
        responses={200: s.AssessmentSerializer, **_TRANSITION_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="acknowledge-outcome", url_name="acknowledge-outcome")
    def acknowledge_outcome(self, request, reference=None):
        assessment = self.get_object()
        data = s.OutcomeAcknowledgeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        assessment = services.assessment_outcome_acknowledge(
            actor=request.user, assessment=assessment, request=request, **data.validated_data
        )
        return self._out(assessment)

    @extend_schema(
        summary="Withdraw the case (ends every open ticket)",
        request=s.ReasonSerializer,
        responses={200: s.AssessmentSerializer, **_TRANSITION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, reference=None):
        assessment = self.get_object()
        data = s.ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        assessment = services.assessment_withdraw(
            actor=request.user, assessment=assessment, request=request, **data.validated_data
        )
        return self._out(assessment)


@extend_schema_view(
    list=extend_schema(summary="Model-access tickets you may see (never with credentials)"),
    retrieve=extend_schema(
        summary="One ticket (never with its credential)", responses={200: s.TicketSerializer, **_ERRORS}
    ),
    create=extend_schema(
        summary="Request model access (evaluator on the case)",
        request=s.TicketCreateSerializer,
        responses={201: s.TicketSerializer, **_TRANSITION_ERRORS},
    ),
)
class AccessTicketViewSet(ScopedObjectMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = s.TicketSerializer
    lookup_field = "reference"
    policy_actions = {
        "create": "ticket.request",
        "approve": TICKET_MOVES["approve"].action,
        "reject": TICKET_MOVES["reject"].action,
        "provision": TICKET_MOVES["provision"].action,
        "reveal": "ticket.reveal",
        "revoke": TICKET_MOVES["revoke"].action,
        "extend": "ticket.extend",
        "extension": "ticket.consent_extension",
    }
    filterset_fields = ["status", "kind"]
    search_fields = ["reference", "assessment__reference"]
    ordering_fields = ["requested_at", "ends_at"]
    ordering = ["-requested_at"]
    # A programme holds hundreds of thousands of tickets: counting them cost more than a page of them.
    pagination_class = PortalCursorPagination

    def get_queryset(self):
        qs = AccessTicket.objects.select_related("assessment", "requested_by")
        return scope(qs, self.request.user)

    def _out(self, ticket: AccessTicket, code: int = status.HTTP_200_OK) -> Response:
        return Response(s.TicketSerializer(self.get_queryset().get(pk=ticket.pk)).data, status=code)

    def create(self, request, *args, **kwargs):
        data = s.TicketCreateSerializer(data=request.data)
        data.fields["assessment"].queryset = scope(Assessment.objects.all(), request.user)
        data.is_valid(raise_exception=True)
        ticket = services.ticket_request(actor=request.user, request=request, **data.validated_data)
        return self._out(ticket, status.HTTP_201_CREATED)

    def _act(self, request, serializer_class, service, **extra):
        ticket = self.get_object()
        kwargs = {}
        if serializer_class is not None:
            data = serializer_class(data=request.data)
            data.is_valid(raise_exception=True)
            kwargs = dict(data.validated_data)
        return self._out(service(actor=request.user, ticket=ticket, request=request, **kwargs, **extra))

    @extend_schema(
        summary="Approve a request, optionally shortening the period (case lead, not the requester)",
        request=s.TicketApproveSerializer,
        responses={200: s.TicketSerializer, **_TRANSITION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, reference=None):
        return self._act(request, s.TicketApproveSerializer, services.ticket_approve)

    @extend_schema(
        summary="Reject a request (case lead)",
        request=s.ReasonSerializer,
        responses={200: s.TicketSerializer, **_TRANSITION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, reference=None):
        return self._act(request, s.ReasonSerializer, services.ticket_reject)

    @extend_schema(
        summary="Provide the endpoint, credential and instructions (the company's liaison)",
        request=s.TicketProvisionSerializer,
        responses={200: s.TicketSerializer, **_TRANSITION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def provision(self, request, reference=None):
        return self._act(request, s.TicketProvisionSerializer, services.ticket_provision)

    @extend_schema(
        summary="Reveal the credential (team member; recorded; Cache-Control: no-store)",
        request=None,
        responses={200: s.CredentialRevealSerializer, **_TRANSITION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def reveal(self, request, reference=None):
        ticket = self.get_object()
        credential = services.ticket_reveal(actor=request.user, ticket=ticket, request=request)
        ticket.refresh_from_db()
        body = s.CredentialRevealSerializer(
            {
                "reference": ticket.reference,
                "endpoint": ticket.endpoint,
                "credential": credential,
                "instructions": ticket.instructions,
                "access_ends_at": ticket.access_ends_at,
            }
        ).data
        response = Response(body)
        add_never_cache_headers(response)
        return response

    @extend_schema(
        summary="Revoke access (either side), with a reason",
        request=s.ReasonSerializer,
        responses={200: s.TicketSerializer, **_TRANSITION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request, reference=None):
        return self._act(request, s.ReasonSerializer, services.ticket_revoke)

    @extend_schema(
        summary="Ask for a later end (team member); needs the company's consent",
        request=s.ExtensionRequestSerializer,
        responses={200: s.TicketSerializer, **_TRANSITION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def extend(self, request, reference=None):
        return self._act(request, s.ExtensionRequestSerializer, services.ticket_request_extension)

    @extend_schema(
        summary="Consent to or decline a pending extension (the company's liaison)",
        request=s.ExtensionDecisionSerializer,
        responses={200: s.TicketSerializer, **_TRANSITION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def extension(self, request, reference=None):
        return self._act(request, s.ExtensionDecisionSerializer, services.ticket_decide_extension)
