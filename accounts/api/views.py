from rest_framework import viewsets

from accounts.api.serializers import OrganisationSerializer
from accounts.models import Organisation
from accounts.permissions import ScopedObjectMixin, scope


class OrganisationViewSet(ScopedObjectMixin, viewsets.ReadOnlyModelViewSet):
    """Organisations the caller may see: the centre and, for a liaison, their own company."""

    serializer_class = OrganisationSerializer
    lookup_field = "public_id"
    filterset_fields = ["kind"]
    search_fields = ["name"]
    ordering_fields = ["name"]
    ordering = ["name"]

    def get_queryset(self):
        return scope(Organisation.objects.all(), self.request.user)
