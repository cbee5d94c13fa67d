from django.urls import path

from assessments import views

app_name = "assessments"
urlpatterns = [
    path("submissions/", views.submission_list, name="submission_list"),
    path("submissions/export.csv", views.submission_export, name="submission_export"),
    path("submissions/new/", views.submission_create, name="submission_create"),
    path("submissions/<str:reference>/", views.submission_detail, name="submission_detail"),
    path("submissions/<str:reference>/withdraw/", views.submission_withdraw, name="submission_withdraw"),
    path("assessments/", views.assessment_list, name="list"),
    path("assessments/export.csv", views.assessment_export, name="export"),
    path("assessments/new/", views.assessment_create, name="create"),
    path("assessments/<str:reference>/", views.assessment_detail, name="detail"),
    path("assessments/<str:reference>/edit/", views.assessment_edit, name="edit"),
    path("assessments/<str:reference>/advance/", views.assessment_advance, name="advance"),
    path("assessments/<str:reference>/close/", views.assessment_close, name="close"),
    path("assessments/<str:reference>/withdraw/", views.assessment_withdraw, name="withdraw"),
    path(
        "assessments/<str:reference>/acknowledge-outcome/",
        views.assessment_acknowledge_outcome,
        name="acknowledge_outcome",
    ),
    path("assessments/<str:reference>/access/new/", views.ticket_request, name="ticket_request"),
    path("access/", views.ticket_list, name="ticket_list"),
    path("access/export.csv", views.ticket_export, name="ticket_export"),
    path("access/<str:reference>/", views.ticket_detail, name="ticket_detail"),
    path("access/<str:reference>/approve/", views.ticket_approve, name="ticket_approve"),
    path("access/<str:reference>/reject/", views.ticket_reject, name="ticket_reject"),
    path("access/<str:reference>/provision/", views.ticket_provision, name="ticket_provision"),
    path("access/<str:reference>/reveal/", views.ticket_reveal, name="ticket_reveal"),
    path("access/<str:reference>/revoke/", views.ticket_revoke, name="ticket_revoke"),
    path("access/<str:reference>/extend/", views.ticket_extend, name="ticket_extend"),
    path("access/<str:reference>/extension/", views.ticket_extension_decide, name="ticket_extension"),
]
