"""The REST API under /api/v1/: each app registers its viewsets on this router."""

from rest_framework.routers import DefaultRouter

from accounts.api.views import OrganisationViewSet
from agreements.api.release_notices import ReleaseNoticeViewSet
from agreements.api.views import AgreementViewSet
from assessments.api.views import AccessTicketViewSet, AssessmentViewSet, SubmissionViewSet
from findings.api.runs import EvaluationRunViewSet
from findings.api.views import FindingViewSet, RecommendationViewSet
from reminders.api.views import DeadlineViewSet, NotificationViewSet


class PortalRouter(DefaultRouter):
    """DRF's router without format-suffix routes (``/findings/FND-2026-0001.json``).

    A format suffix is a second address for every route, with an extra ``format`` argument the
    actions were never written to take (they crashed on it). Without the suffix routes such an
    address matches nothing and answers the API's JSON 404, the same on every route; the format
    is chosen with the ``Accept`` header (JSON by default).
    """

    include_format_suffixes = False


router = PortalRouter()
router.register("organisations", OrganisationViewSet, basename="organisation")
router.register("submissions", SubmissionViewSet, basename="submission")
router.register("assessments", AssessmentViewSet, basename="assessment")
router.register("access-tickets", AccessTicketViewSet, basename="access-ticket")
router.register("agreements", AgreementViewSet, basename="agreement")
router.register("release-notices", ReleaseNoticeViewSet, basename="release-notice")
router.register("findings", FindingViewSet, basename="finding")
router.register("recommendations", RecommendationViewSet, basename="recommendation")
router.register("evaluation-runs", EvaluationRunViewSet, basename="evaluation-run")
router.register("deadlines", DeadlineViewSet, basename="deadline")
router.register("notifications", NotificationViewSet, basename="notification")

urlpatterns = router.urls
