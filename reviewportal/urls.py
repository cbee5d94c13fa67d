"""URL configuration: portal pages, the admin, the REST API under /api/v1/, and /healthz."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from reviewportal import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", include("accounts.urls")),
    path("agreements/", include("agreements.urls")),
    path("", include("assessments.urls")),
    path("deadlines/", include("reminders.urls")),
    path("api/v1/", include("reviewportal.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
