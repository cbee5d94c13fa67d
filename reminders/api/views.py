"""REST API of the reminders app: deadlines (read, scoped) and the caller's own notifications."""

from __future__ import annotations

from datetime import UTC

from django.core.exceptions import ValidationError
from django.utils import timezone
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.permissions import ScopedObjectMixin, scope
from core.api_defaults import PortalCursorPagination
from reminders import services
from reminders.api.serializers import DeadlineSerializer, NotificationSerializer
from reminders.models import Deadline, DeadlineKind, Notification


class UTCDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, normalised to UTC so the database never sees an exotic offset."""

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None or timezone.is_naive(parsed):
            return parsed
        try:
            return parsed.astimezone(UTC)
        except OverflowError as exc:
            raise ValidationError("Enter a date-time within the supported range.", code="invalid") from exc


class UTCDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UTCDateTimeField


class DeadlineFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=DeadlineKind.choices)
    due_before = UTCDateTimeFilter(field_name="due_at", lookup_expr="lt")
    due_after = UTCDateTimeFilter(field_name="due_at", lookup_expr="gte")

    class Meta:
        model = Deadline
        fields = ["kind", "is_open"]


class DeadlineViewSet(ScopedObjectMixin, viewsets.ReadOnlyModelViewSet):
    """Deadlines the caller may see: their own (recipient or escalation); everything for programme admins."""

    serializer_class = DeadlineSerializer
    lookup_field = "public_id"
    filterset_class = DeadlineFilter
    search_fields = ["title"]
    ordering_fields = ["due_at", "kind"]
    ordering = ["due_at"]
    pagination_class = PortalCursorPagination
    policy_actions: dict[str, str] = {}

    def get_queryset(self):
        return scope(Deadline.objects.select_related("organisation"), self.request.user)


class NotificationViewSet(ScopedObjectMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's own in-app notifications; ``POST .../read/`` and ``POST .../read-all/`` mark them read."""

    serializer_class = NotificationSerializer
    lookup_field = "public_id"
    filterset_fields: list[str] = []
    ordering_fields = ["created_at"]
    ordering = ["-created_at"]
    pagination_class = PortalCursorPagination
    policy_actions = {"read": "notification.read", "read_all": "notification.read_all"}

    def get_queryset(self):
        qs = scope(Notification.objects.all(), self.request.user)
        unread = self.request.query_params.get("unread")
        if unread in ("1", "true"):
            qs = qs.filter(read_at__isnull=True)
        return qs

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, public_id=None):
        notification = self.get_object()
        services.notification_mark_read(user=request.user, notification=notification)
        return Response(NotificationSerializer(notification).data)

    @extend_schema(
        request=None,
        responses=inline_serializer("NotificationsMarkedRead", {"marked_read": serializers.IntegerField()}),
    )
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        changed = services.notification_mark_all_read(user=request.user)
        return Response({"marked_read": changed})
