from rest_framework import serializers

from reminders.models import Deadline, Notification


class DeadlineSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    organisation = serializers.UUIDField(source="organisation.public_id", read_only=True, allow_null=True)

    class Meta:
        model = Deadline
        fields = ["id", "kind", "kind_display", "title", "url", "due_at", "organisation", "is_open", "revision"]
        read_only_fields = fields


class NotificationSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    is_unread = serializers.BooleanField(read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "title", "body", "url", "created_at", "read_at", "is_unread"]
        read_only_fields = fields
