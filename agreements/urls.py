from django.urls import path

from agreements import release_notice_views, views

app_name = "agreements"
urlpatterns = [
    path("", views.agreement_list, name="list"),
    path("export.csv", views.agreement_export, name="export"),
    path("new/", views.agreement_create, name="create"),
    path("release-notices/<str:reference>/", release_notice_views.release_notice_detail, name="release_notice"),
    path(
        "release-notices/<str:reference>/release-date/",
        release_notice_views.release_notice_move,
        name="release_notice_move",
    ),
    path("<str:reference>/", views.agreement_detail, name="detail"),
    path("<str:reference>/terms/", views.agreement_edit_terms, name="edit_terms"),
    path("<str:reference>/versions/", views.version_compare, name="compare"),
    path("<str:reference>/status/<str:transition>/", views.agreement_transition, name="transition"),
    path("<str:reference>/proposals/new/", views.entry_add, name="entry_add"),
    path("<str:reference>/meetings/new/", views.meeting_add, name="meeting_add"),
    path("<str:reference>/open-points/new/", views.open_point_add, name="open_point_add"),
    path("<str:reference>/open-points/<uuid:point_id>/resolve/", views.open_point_resolve, name="open_point_resolve"),
    path("<str:reference>/open-points/<uuid:point_id>/edit/", views.open_point_edit, name="open_point_edit"),
    path("<str:reference>/documents/new/", views.document_upload, name="document_upload"),
    path("<str:reference>/documents/<uuid:document_id>/", views.document_download, name="document_download"),
    path(
        "<str:reference>/release-notices/new/",
        release_notice_views.release_notice_create,
        name="release_notice_create",
    ),
    path("<str:reference>/notice-to-end/", views.agreement_give_notice, name="give_notice"),
    path("<str:reference>/documents/<uuid:document_id>/marking/", views.document_marking, name="document_marking"),
    path("<str:reference>/sign/", views.agreement_sign, name="sign"),
    path("<str:reference>/signature-due/", views.agreement_signature_due, name="signature_due"),
]
