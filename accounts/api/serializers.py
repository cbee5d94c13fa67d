from rest_framework import serializers

from accounts.models import Organisation


class OrganisationSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)

    class Meta:
        model = Organisation
        fields = ["id", "name", "kind", "email_domains"]
