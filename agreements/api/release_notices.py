"""API of release notices: the centre records an upcoming covered release; either side reads it
and the company (or the centre) moves its planned date. Serializers parse; services decide."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import Role, User
from accounts.permissions import ScopedObjectMixin, scope
from agreements.api.serializers import ScopedSlugField
from agreements.models import Agreement, ReleaseNotice
from agreements.services.release_notices import release_notice_move_date, release_notice_record
from core import bounds


class ReleaseNoticeSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    agreement = serializers.CharField(source="agreement.reference", read_only=True)
    organisation = serializers.CharField(source="organisation.name", read_only=True)
    notice_days_given = serializers.IntegerField(read_only=True)

    class Meta:
        model = ReleaseNotice
        fields = [
            "id",
            "reference",
            "agreement",
            "organisation",
            "model_name",
            "model_version",
            "planned_release_date",
            "notice_given_on",
            "notice_days_required",
            "notice_days_given",
            "is_late",
            "status",
            "created_at",
        ]
        read_only_fields = fields


class ReleaseNoticeCreateSerializer(serializers.Serializer):
    agreement = ScopedSlugField(slug_field="reference", queryset=Agreement.objects.all())
    model_name = serializers.CharField(max_length=bounds.TITLE)
    model_version = serializers.CharField(max_length=bounds.VERSION, required=False, allow_blank=True, default="")
    planned_release_date = serializers.DateField()
    notice_given_on = serializers.DateField()
    lead = serializers.SlugRelatedField(
        slug_field="email",
        queryset=User.objects.filter(membership__role=Role.LEAD_EVALUATOR),
        required=False,
        allow_null=True,
        default=None,
    )
    notes = serializers.CharField(max_length=bounds.NOTE, required=False, allow_blank=True, default="")


class MoveReleaseDateSerializer(serializers.Serializer):
    planned_release_date = serializers.DateField()
    reason = serializers.CharField(max_length=bounds.NOTE)


@extend_schema_view(
    list=extend_schema(summary="Release notices you may see, latest planned release first"),
    retrieve=extend_schema(summary="One release notice, with whether notice was late"),
    create=extend_schema(
        summary="Record an upcoming covered release (centre negotiators)",
        request=ReleaseNoticeCreateSerializer,
        responses={201: ReleaseNoticeSerializer},
    ),
)
class ReleaseNoticeViewSet(
    ScopedObjectMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ReleaseNoticeSerializer
    lookup_field = "reference"
    http_method_names = ["get", "post", "head", "options"]
    filterset_fields = ["is_late", "status"]
    ordering_fields = ["planned_release_date", "created_at"]
    ordering = ["-planned_release_date"]
    policy_actions = {"create": "release_notice.record", "move_release_date": "release_notice.move_date"}

    def get_queryset(self):
        return scope(ReleaseNotice.objects.select_related("agreement", "organisation"), self.request.user)

    def create(self, request, *args, **kwargs):
        data = ReleaseNoticeCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        notice = release_notice_record(actor=request.user, request=request, **data.validated_data)
        return Response(ReleaseNoticeSerializer(notice).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Move the planned public release date, saying why (the company or the centre)",
        request=MoveReleaseDateSerializer,
        responses={200: ReleaseNoticeSerializer},
    )
    @action(detail=True, methods=["post"], url_path="release-date")
    def move_release_date(self, request, reference=None):
        notice = self.get_object()
        data = MoveReleaseDateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        notice = release_notice_move_date(actor=request.user, notice=notice, request=request, **data.validated_data)
        return Response(ReleaseNoticeSerializer(notice).data)
