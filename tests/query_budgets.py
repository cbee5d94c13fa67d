"""How many SQL queries each page and API route may make, per role: the one place budgets live.

``tests/test_query_budgets.py`` loads every view below as each role with N and then 3N rows the
person may see, and fails when the two counts differ (an N+1) or exceed the budget here. Each
budget is what the view needs today, measured; lower one when a view gets cheaper, and never raise
one to let a growing count pass.

Keys are URL names (``namespace:name``); API routes, which the router names without a namespace,
are written ``api:<basename>-<action>``. Pages are loaded with a signed-in session; API routes too
(a bearer token costs its own look-up instead of the session's).

Almost every page starts with the same four queries (see the comment above ``BUDGETS``).
``EXEMPT`` names the views that are not budgeted and why;
``test_every_view_has_a_budget_or_an_exemption`` fails on a view that is in neither.
"""

from __future__ import annotations

# API routes are written with this prefix (``api:finding-list``).
API_PREFIX = "api:"

# Every signed-in page starts with 4: the session; the user with their membership and organisation
# (one query, accounts/backends.py); the header's unread-notification count; and its count of what
# needs the person's action (one query, a subquery per kind of work: reviewportal/dashboard/queue.py),
# measured here with an empty cache, as when its cached value has expired (core/freshness.py). The
# session is written back at most once a minute (SESSION_TOUCH_SECONDS), so not here. API routes
# have the first two. The comments say what each view adds to those.
BUDGETS: dict[str, dict[str, int]] = {
    # The dashboard: one aggregate per card (agreements, submissions, assessments, tickets with what
    # to act on, findings with what to act on, deadlines overdue and this week); and Needs your
    # action, whose count is the header's, plus one query per kind of work that has items, each
    # reading at most 20 rows: at most 4 kinds for an evaluator, 5 for an admin, 6 for a lead or liaison.
    "dashboard": {"admin": 15, "lead": 16, "evaluator": 14, "liaison": 16},
    # Agreements. List: the count and the page (with each row's open points counted for that page
    # only), and the company filter's choices. Detail: the agreement; its signatures, open points,
    # negotiation entries, meetings, versions and documents (each read once, for the timeline and
    # the panels), its amendments and its release notices.
    # Compare: the agreement and its versions.
    "agreements:list": {"admin": 7, "lead": 7, "evaluator": 7, "liaison": 7},
    "agreements:detail": {"admin": 13, "lead": 13, "evaluator": 13, "liaison": 13},
    "agreements:compare": {"admin": 6, "lead": 6, "evaluator": 6, "liaison": 6},
    # A release notice: the notice with its agreement, company and lead in one query.
    "agreements:release_notice": {"admin": 6, "lead": 6, "evaluator": 6, "liaison": 6},
    # Agreement forms whose choices come from the database: companies and the handling markings; the
    # entries a proposal can answer; the people who may own an open point (with the point itself when
    # editing); the agreements an amendment can amend.
    "agreements:create": {"admin": 7, "lead": 7},
    "agreements:entry_add": {"admin": 6, "lead": 6, "liaison": 6},
    "agreements:open_point_add": {"admin": 6, "lead": 6, "liaison": 6},
    "agreements:open_point_edit": {"admin": 7, "lead": 7},
    # Submissions. List: the count and the page. Detail: the submission and its cases. The form:
    # the company's agreements to submit under.
    "assessments:submission_list": {"admin": 6, "lead": 6, "evaluator": 6, "liaison": 6},
    "assessments:submission_detail": {"admin": 6, "lead": 6, "evaluator": 6, "liaison": 6},
    # The submission form also lists the company's release notices still expected.
    "assessments:submission_create": {"liaison": 7},
    # Assessments. List: the count and the page. Detail: the case and its team; its tickets (read
    # once, for the table and the timeline) and its newest findings for the timeline; the findings
    # panel's one aggregate of its counts, its page of findings with their authors (joined) and its
    # recommendations (one query); the case's audit history; the agreement's
    # active amendments (the window it allows as amended). An evaluator's
    # buttons each ask whether they are on the team (one EXISTS each); the liaison's history adds
    # the tickets' events. The forms: the submissions and the centre staff to choose from (and the
    # leads, for an admin).
    "assessments:list": {"admin": 6, "lead": 6, "evaluator": 6, "liaison": 6},
    "assessments:detail": {"admin": 15, "lead": 15, "evaluator": 16, "liaison": 16},
    "assessments:create": {"admin": 7, "lead": 6},
    "assessments:edit": {"admin": 7, "lead": 7},
    # Model-access tickets. List: the count and the page. Detail: the ticket with its case and the
    # reveals of its credential; an evaluator's buttons each ask whether they are on the team.
    "assessments:ticket_list": {"admin": 6, "lead": 6, "evaluator": 6, "liaison": 6},
    "assessments:ticket_detail": {"admin": 7, "lead": 7, "evaluator": 8, "liaison": 7},
    # Findings. List: the count and the page. Detail: the finding and its people (author and releaser,
    # read by key: see FindingQuerySet.with_related), its comments, its timeline (its
    # audit events with their actors, one query), its recommendations (one query, the policy asked
    # once per step for them all) and its files; an evaluator's buttons each ask
    # whether they are on the team. Reports: the case, the audit event
    # of the export (an INSERT), one aggregate of the counts by severity, the case's tickets and the
    # page of findings with their recommendations (one prefetch); an evaluator's access asks
    # whether they are on the team. A PDF build's page: the job with its case and its file. The list
    # and the reports also read the most restrictive handling marking of what they show (one query;
    # the aggregate carries its rank for the reports).
    "findings:list": {"admin": 7, "lead": 7, "evaluator": 7, "liaison": 7},
    "findings:detail": {"admin": 11, "lead": 11, "evaluator": 12, "liaison": 11},
    # The reports: the recommendations (one prefetch) and the marking the report carries (one query).
    "findings:report": {"admin": 11, "lead": 11, "evaluator": 12},
    "findings:report_company": {"admin": 11, "lead": 11, "evaluator": 12, "liaison": 11},
    "findings:report_job": {"admin": 5, "lead": 5, "evaluator": 6, "liaison": 5},
    # Evaluation runs (the centre's): the case's runs, one page of the newest; a run with its case and
    # the findings citing it. An evaluator's access asks whether they are on the team.
    "findings:run_list": {"admin": 6, "lead": 6, "evaluator": 7},
    "findings:run_detail": {"admin": 6, "lead": 6, "evaluator": 7},
    # Deadlines and notifications. My deadlines: one count of all and of the overdue, and the page.
    # Notifications: the count
    # and the page beside the header's unread count. The calendar feed is not a signed-in page: the
    # feed token, the person's membership and the deadlines (3 in all).
    "reminders:my_deadlines": {"admin": 6, "lead": 6, "evaluator": 6, "liaison": 6},
    "reminders:notifications": {"admin": 7, "lead": 7, "evaluator": 7, "liaison": 7},
    "reminders:calendar_feed": {"admin": 3, "lead": 3, "evaluator": 3, "liaison": 3},
    # The programme page (programme admins and leads): the companies with their counts and who last
    # moved them; their agreements; one aggregate of open findings by company and severity; the
    # releases expected; the late notices; the open cases the person may open (at most 50); the count
    # of all open cases. A company's engagement page: the company, its history.
    "programme:overview": {"admin": 11, "lead": 11},
    "programme:engagement": {"admin": 6, "lead": 6},
    # The lists as CSV, streamed: the same filters and scope as the page, every row. The session and
    # the person (2, no page header); the count of the rows; the audit event of the export
    # (SAVEPOINT, INSERT, RELEASE: 3); then the rows in one query (each row's counts as subqueries
    # where the list shows them), read in chunks as the file is written. The findings export also
    # reads the most restrictive handling marking of its rows, printed first and last.
    "agreements:export": {"admin": 7, "lead": 7, "evaluator": 7, "liaison": 7},
    "assessments:submission_export": {"admin": 7, "lead": 7, "evaluator": 7, "liaison": 7},
    "assessments:export": {"admin": 7, "lead": 7, "evaluator": 7, "liaison": 7},
    "assessments:ticket_export": {"admin": 7, "lead": 7, "evaluator": 7, "liaison": 7},
    "findings:export": {"admin": 8, "lead": 8, "evaluator": 8, "liaison": 8},
    "reminders:my_deadlines_export": {"admin": 7, "lead": 7, "evaluator": 7, "liaison": 7},
    "reminders:notifications_export": {"admin": 7, "lead": 7, "evaluator": 7, "liaison": 7},
    # The person's API tokens: one query for the list.
    "api_tokens": {"admin": 5, "lead": 5, "evaluator": 5, "liaison": 5},
    # The API, 6 before the view's own. Lists paged by number: the count and the page; by cursor
    # (deadlines, findings, notifications): the page alone. Detail routes: the object and the
    # policy's EXISTS check on it.
    "api:organisation-list": {"admin": 4, "lead": 4, "evaluator": 4, "liaison": 4},
    "api:organisation-detail": {"admin": 4, "lead": 4, "evaluator": 4, "liaison": 4},
    "api:submission-list": {"admin": 4, "lead": 4, "evaluator": 4, "liaison": 4},
    "api:submission-detail": {"admin": 4, "lead": 4, "evaluator": 4, "liaison": 4},
    "api:access-ticket-list": {"admin": 3, "lead": 3, "evaluator": 3, "liaison": 3},
    "api:access-ticket-detail": {"admin": 4, "lead": 4, "evaluator": 4, "liaison": 4},
    "api:deadline-list": {"admin": 3, "lead": 3, "evaluator": 3, "liaison": 3},
    "api:deadline-detail": {"admin": 4, "lead": 4, "evaluator": 4, "liaison": 4},
    "api:notification-list": {"admin": 3, "lead": 3, "evaluator": 3, "liaison": 3},
    "api:notification-detail": {"admin": 4, "lead": 4, "evaluator": 4, "liaison": 4},
    # Cases carry their team: one prefetch for the page. The detail reads the case again to
    # answer (and an evaluator's internal-notes check asks whether they are on the team).
    "api:assessment-list": {"admin": 5, "lead": 5, "evaluator": 5, "liaison": 5},
    "api:assessment-detail": {"admin": 7, "lead": 7, "evaluator": 7, "liaison": 7},
    # Agreements carry their signatures (one prefetch). The negotiation record's lists: the
    # agreement, its signatures, the policy's check, then the one list.
    "api:agreement-list": {"admin": 5, "lead": 5, "evaluator": 5, "liaison": 5},
    "api:agreement-detail": {"admin": 5, "lead": 5, "evaluator": 5, "liaison": 5},
    "api:release-notice-list": {"admin": 5, "lead": 5, "evaluator": 5, "liaison": 5},
    "api:release-notice-detail": {"admin": 5, "lead": 5, "evaluator": 5, "liaison": 5},
    "api:agreement-versions": {"admin": 6, "lead": 6, "evaluator": 6, "liaison": 6},
    "api:agreement-compare": {"admin": 6, "lead": 6, "evaluator": 6, "liaison": 6},
    "api:agreement-entries": {"admin": 6, "lead": 6, "evaluator": 6, "liaison": 6},
    "api:agreement-open-points": {"admin": 6, "lead": 6, "evaluator": 6, "liaison": 6},
    "api:agreement-meetings": {"admin": 6, "lead": 6, "evaluator": 6, "liaison": 6},
    "api:agreement-documents": {"admin": 6, "lead": 6, "evaluator": 6, "liaison": 6},
    # Findings: the page alone (cursor) and its people (author, releaser: read by key rather than
    # joined, since each join costs PostgreSQL's planner more than a lookup); a finding with its
    # files; a finding's comments.
    "api:finding-list": {"admin": 5, "lead": 5, "evaluator": 5, "liaison": 5},
    "api:finding-detail": {"admin": 7, "lead": 7, "evaluator": 7, "liaison": 7},
    "api:finding-comments": {"admin": 7, "lead": 7, "evaluator": 7, "liaison": 7},
    # Recommendations: the page alone (cursor); one with its finding (and the probe-check's policy
    # read); a finding's recommendations.
    "api:recommendation-list": {"admin": 3, "lead": 3, "evaluator": 3, "liaison": 3},
    "api:recommendation-detail": {"admin": 4, "lead": 4, "evaluator": 4, "liaison": 4},
    "api:finding-recommendations": {"admin": 7, "lead": 7, "evaluator": 7, "liaison": 7},
    # Evaluation runs: the page alone (cursor); a run with its case and importer, and the policy's check.
    "api:evaluation-run-list": {"admin": 3, "lead": 3, "evaluator": 3},
    "api:evaluation-run-detail": {"admin": 4, "lead": 4, "evaluator": 4},
}

# Views with no budget, and why. A form page is exempt when its fields are fixed (nothing on it
# grows with the data); forms whose choices come from the database are budgeted above.
_POST_TARGET = "a POST target: it writes and redirects (or answers the object); nothing is listed"
_FIXED_FORM = "a form about one object with fixed fields; the object's own page is budgeted"
_DOWNLOAD = "a file download: one object and its file, audited"

EXEMPT: dict[str, str] = {
    "admin:*": "Django's admin site, outside the portal's pages (who may reach it: tests/test_authorization_matrix.py)",
    "healthz": "liveness: answers without asking the database anything",
    "readyz": "readiness: SELECT 1, the django_migrations table, a broker ping and a storage probe; reads no rows",
    "metrics": "the metrics scrape: three counts of reminders (due, in delivery, failed), whatever else the data holds",
    "favicon": "a redirect to a static file",
    "api-schema": "the OpenAPI document, built from the code without reading any rows",
    "api-docs": "the Swagger page, a static shell around api-schema",
    "api:api-root": "the router's list of routes; reads no rows",
    # Signing in and out, passwords, two-factor set-up and the person's own settings.
    "login": "the sign-in form; lists nothing",
    "logout": _POST_TARGET,
    "password_change": "a form about the signed-in person; lists nothing",
    "password_change_done": "a confirmation message",
    "password_reset": "a form for an e-mail address; lists nothing",
    "password_reset_done": "a confirmation message",
    "password_reset_confirm": "a form reached from an e-mailed link; lists nothing",
    "password_reset_complete": "a confirmation message",
    "twofactor:setup": "the person's own authenticator set-up; lists nothing",
    "twofactor:verify": "a form for a one-time code; lists nothing",
    "twofactor:backup_codes": _POST_TARGET,
    "profile": "a form about the signed-in person; lists nothing",
    "reminders:preferences": "a form about the signed-in person; lists nothing",
    "api_token_revoke": _POST_TARGET,
    "reminders:notifications_read_all": _POST_TARGET,
    "reminders:notification_read": _POST_TARGET,
    "reminders:calendar_token_create": _POST_TARGET,
    "reminders:calendar_token_revoke": _POST_TARGET,
    # Agreements: forms and moves on one agreement, and its files.
    "agreements:edit_terms": _FIXED_FORM,
    "agreements:transition": "a confirmation form about one agreement; ending one lists its open cases in one query",
    "agreements:meeting_add": _FIXED_FORM,
    "agreements:open_point_resolve": _FIXED_FORM,
    "agreements:document_upload": _FIXED_FORM,
    "agreements:sign": _FIXED_FORM,
    "agreements:signature_due": _FIXED_FORM,
    "agreements:document_download": _DOWNLOAD,
    "agreements:document_marking": "the marking form of one document; the list of markings is one query",
    "agreements:give_notice": _FIXED_FORM,
    "agreements:release_notice_create": _FIXED_FORM,
    "agreements:release_notice_move": _FIXED_FORM,
    "assessments:submission_withdraw": _FIXED_FORM,
    # Cases and tickets: forms and moves on one case or ticket.
    "assessments:advance": "a confirmation page about one case; its POST moves the case and redirects",
    "assessments:close": _FIXED_FORM,
    "assessments:withdraw": _FIXED_FORM,
    "assessments:ticket_request": _FIXED_FORM,
    "assessments:ticket_approve": _FIXED_FORM,
    "assessments:ticket_reject": _FIXED_FORM,
    "assessments:ticket_provision": _FIXED_FORM,
    "assessments:ticket_reveal": _POST_TARGET,
    "assessments:ticket_revoke": _FIXED_FORM,
    "assessments:ticket_extend": _FIXED_FORM,
    "assessments:ticket_extension": _FIXED_FORM,
    # Findings: forms and moves on one finding, its files, and the report as a PDF.
    "findings:create": _FIXED_FORM,
    "findings:edit": _FIXED_FORM,
    "findings:submit": _FIXED_FORM,
    "findings:release": _FIXED_FORM,
    "findings:resolve": _FIXED_FORM,
    "findings:reopen": _FIXED_FORM,
    "findings:withdraw": _FIXED_FORM,
    "findings:escalate": _FIXED_FORM,
    "assessments:acknowledge_outcome": _FIXED_FORM,
    "findings:recommendation_add": _FIXED_FORM,
    "findings:recommendation_acknowledge": _FIXED_FORM,
    "findings:recommendation_accept": _FIXED_FORM,
    "findings:recommendation_decline": _FIXED_FORM,
    "findings:recommendation_implement": _FIXED_FORM,
    "findings:recommendation_verify": _FIXED_FORM,
    "findings:recommendation_not_verify": _FIXED_FORM,
    "findings:respond": _FIXED_FORM,
    "findings:comment": _POST_TARGET,
    "findings:evidence_download": _DOWNLOAD,
    "findings:marking": "the marking form of one finding; the list of markings is one query",
    "findings:evidence_marking": "the marking form of one file; the list of markings is one query",
    "findings:comment_marking": "the marking form of one comment; the list of markings is one query",
    # The PDF is a download while the report is short; past that, a page offering to build it in
    # the background (followed on findings:report_job, budgeted).
    "findings:report_pdf": _DOWNLOAD,
    "findings:report_company_pdf": _DOWNLOAD,
    "findings:report_build": _POST_TARGET,
    "findings:report_company_build": _POST_TARGET,
    "findings:report_job_download": _DOWNLOAD,
    "findings:run_download": _DOWNLOAD,
    "findings:run_marking": "the marking form of one evaluation run; the list of markings is one query",
    "findings:samples": "the cited samples (at most 50) are read from the stored log, not the database: "
    "the finding with its run, the team check and the day's audit event",
    # The API's writes, moves and file downloads.
    "api:assessment-advance": _POST_TARGET,
    "api:assessment-close": _POST_TARGET,
    "api:assessment-withdraw": _POST_TARGET,
    "api:access-ticket-approve": _POST_TARGET,
    "api:access-ticket-extend": _POST_TARGET,
    "api:access-ticket-extension": _POST_TARGET,
    "api:access-ticket-provision": _POST_TARGET,
    "api:access-ticket-reject": _POST_TARGET,
    "api:access-ticket-reveal": _POST_TARGET,
    "api:access-ticket-revoke": _POST_TARGET,
    "api:agreement-document": _DOWNLOAD,
    "api:agreement-resolve-open-point": _POST_TARGET,
    "api:agreement-sign": _POST_TARGET,
    "api:agreement-signature-due": _POST_TARGET,
    "api:agreement-transition": _POST_TARGET,
    "api:agreement-give-notice": _POST_TARGET,
    "api:release-notice-move-release-date": _POST_TARGET,
    "api:submission-withdraw": _POST_TARGET,
    "api:finding-evidence": _POST_TARGET,
    "api:finding-marking": _POST_TARGET,
    "api:finding-file-marking": _POST_TARGET,
    "api:finding-comment-marking": _POST_TARGET,
    "api:agreement-document-marking": _POST_TARGET,
    "api:finding-file": _DOWNLOAD,
    "api:finding-release": _POST_TARGET,
    "api:finding-reopen": _POST_TARGET,
    "api:finding-resolve": _POST_TARGET,
    "api:finding-respond": _POST_TARGET,
    "api:finding-submit": _POST_TARGET,
    "api:finding-withdraw": _POST_TARGET,
    "api:finding-escalate": _POST_TARGET,
    "api:assessment-acknowledge-outcome": _POST_TARGET,
    "api:recommendation-acknowledge": _POST_TARGET,
    "api:recommendation-accept": _POST_TARGET,
    "api:recommendation-decline": _POST_TARGET,
    "api:recommendation-implement": _POST_TARGET,
    "api:recommendation-verify": _POST_TARGET,
    "api:recommendation-not-verify": _POST_TARGET,
    "api:evaluation-run-file": _DOWNLOAD,
    "api:evaluation-run-marking": _POST_TARGET,
    "api:notification-read": _POST_TARGET,
    "api:notification-read-all": _POST_TARGET,
}
