from django.urls import path

from findings import evaluation_views, views

app_name = "findings"

urlpatterns = [
    path("", views.finding_list, name="list"),
    path("export.csv", views.finding_export, name="export"),
    path("assessment/<str:assessment_reference>/new/", views.finding_create, name="create"),
    path("assessment/<str:assessment_reference>/report/", views.assessment_report, name="report"),
    path(
        "assessment/<str:assessment_reference>/report.pdf",
        views.assessment_report,
        {"fmt": "pdf"},
        name="report_pdf",
    ),
    path(
        "assessment/<str:assessment_reference>/report/released/",
        views.assessment_report,
        {"released_only": True},
        name="report_company",
    ),
    path(
        "assessment/<str:assessment_reference>/report-released.pdf",
        views.assessment_report,
        {"released_only": True, "fmt": "pdf"},
        name="report_company_pdf",
    ),
    path("assessment/<str:assessment_reference>/report/build/", views.report_build, name="report_build"),
    path(
        "assessment/<str:assessment_reference>/report/released/build/",
        views.report_build,
        {"released_only": True},
        name="report_company_build",
    ),
    path("reports/<uuid:public_id>/", views.report_job, name="report_job"),
    path("reports/<uuid:public_id>/download/", views.report_job_download, name="report_job_download"),
    path("evidence/<uuid:public_id>/", views.evidence_download, name="evidence_download"),
    path("evidence/<uuid:public_id>/marking/", views.evidence_marking, name="evidence_marking"),
    path("comments/<uuid:public_id>/marking/", views.comment_marking, name="comment_marking"),
    *[
        path(
            f"recommendations/<uuid:public_id>/{step.replace('_', '-')}/",
            views.recommendation_step,
            {"step": step},
            name=f"recommendation_{step}",
        )
        for step in views.RECOMMENDATION_STEPS
    ],
    path("assessment/<str:assessment_reference>/runs/", evaluation_views.run_list, name="run_list"),
    path("runs/<uuid:public_id>/", evaluation_views.run_detail, name="run_detail"),
    path("runs/<uuid:public_id>/download/", evaluation_views.run_download, name="run_download"),
    path("runs/<uuid:public_id>/marking/", evaluation_views.run_marking, name="run_marking"),
    path("<str:reference>/", views.finding_detail, name="detail"),
    path("<str:reference>/recommendations/new/", views.recommendation_add, name="recommendation_add"),
    path("<str:reference>/edit/", views.finding_edit, name="edit"),
    path("<str:reference>/submit/", views.finding_transition, {"transition": "submit"}, name="submit"),
    path("<str:reference>/release/", views.finding_transition, {"transition": "release"}, name="release"),
    path("<str:reference>/resolve/", views.finding_transition, {"transition": "resolve"}, name="resolve"),
    path("<str:reference>/reopen/", views.finding_transition, {"transition": "reopen"}, name="reopen"),
    path("<str:reference>/escalate/", views.finding_transition, {"transition": "escalate"}, name="escalate"),
    path("<str:reference>/withdraw/", views.finding_transition, {"transition": "withdraw"}, name="withdraw"),
    path("<str:reference>/respond/", views.finding_respond, name="respond"),
    path("<str:reference>/comments/", views.finding_comment, name="comment"),
    path("<str:reference>/marking/", views.finding_marking, name="marking"),
    path("<str:reference>/samples/", evaluation_views.finding_samples, name="samples"),
]
