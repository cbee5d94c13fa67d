"""URL configuration: portal pages, the admin, the REST API under /api/v1/, /healthz, /readyz and /metrics."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from reviewportal import views
from reviewportal.dashboard.views import dashboard
from reviewportal.observability.metrics import metrics as metrics_view

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    # Browsers ask for /favicon.ico on pages without a <link rel="icon"> (the Django admin).
    path("favicon.ico", views.favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("", dashboard, name="dashboard"),
    path("", include("accounts.urls")),
    path("accounts/2fa/", include("accounts.otp_urls")),
    path("agreements/", include("agreements.urls")),
    path("", include("assessments.urls")),
    path("findings/", include("findings.urls")),
    path("deadlines/", include("reminders.urls")),
    path("programme/", include("reviewportal.programme.urls")),
    path("api/v1/", include("reviewportal.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file, so the docs page needs no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

handler400 = "reviewportal.views.bad_request"
handler404 = "reviewportal.views.not_found"
handler500 = "reviewportal.views.server_error"
