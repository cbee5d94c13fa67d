"""The REST API under /api/v1/: each app registers its viewsets on this router."""

from rest_framework.routers import DefaultRouter

from accounts.api.views import OrganisationViewSet

router = DefaultRouter()
router.register("organisations", OrganisationViewSet, basename="organisation")

urlpatterns = router.urls
