from django.apps import AppConfig


class FindingsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "findings"
    verbose_name = "Findings"

    def ready(self) -> None:
        from assessments.deadlines import lead_follower_register
        from assessments.selectors import timeline_source_register
        from core.markings import marking_path_resolver

        # rules: registers this app's rules and scopers with the policy. tasks: its Celery tasks, in every
        # process and not only the worker's, since the report service publishes them by name and in eager
        # mode (tests, development without a worker) they run in this process.
        from findings import rules, tasks  # noqa: F401
        from findings.deadlines import sync_case_findings
        from findings.selectors import assessment_timeline_findings, finding_marking_for_path

        # A case's timeline lists its findings: assessments, below findings, gets them this way.
        timeline_source_register(assessment_timeline_findings)
        # A finding's response deadline escalates to the case's lead: a new lead takes it over.
        lead_follower_register(sync_case_findings)
        # Emails about a finding (hand-offs, reminders) carry its handling marking's banner.
        marking_path_resolver(finding_marking_for_path)
