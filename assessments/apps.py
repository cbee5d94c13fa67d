from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "assessments"
    verbose_name = "Submissions, assessments and access"

    def ready(self) -> None:
        # Register this app's rules and scopers with the permission policy.
        from assessments import rules  # noqa: F401
        from assessments.services.roles import role_change_guards_register

        # A case needs its lead: accounts asks this app before it takes the lead role from someone.
        role_change_guards_register()

        # Ending an agreement says which of its cases are still open (agreements cannot ask).
        from agreements.selectors import agreement_dependents_register
        from assessments.consequences import open_cases_under_agreement

        agreement_dependents_register(open_cases_under_agreement)

        # New terms are checked against the cases running under them (agreements cannot ask).
        from agreements.services.running_work import running_work_register
        from assessments.consequences import cases_outside_terms

        running_work_register(cases_outside_terms)

        # A moved release date moves the submissions announced by it (agreements cannot reach them).
        from agreements.services.release_notices import release_date_moved_register
        from assessments.services.submissions import submissions_follow_release_date

        release_date_moved_register(submissions_follow_release_date)

        # An agreement ended on notice withdraws the cases still open under it.
        from agreements.services.ending import agreement_ended_register
        from assessments.consequences import withdraw_cases_of_ended_agreement

        agreement_ended_register(withdraw_cases_of_ended_agreement)
