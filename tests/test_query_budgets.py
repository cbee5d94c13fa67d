"""Every page and API list costs the same number of queries whatever the number of rows it shows.

For each view and role of ``tests/query_budgets.py`` a scenario below builds N rows the person may
see, loads the page, adds rows up to 3N and loads it again. The two counts must be equal (a count
that grows with the rows is an N+1) and within the view's budget. Each response must be a 200 that
shows the newest row, so a test cannot pass on an empty or refused page.

Each count is taken on the second request at its size: the first warms what a running server
keeps between requests (content types, the session), so both sizes are measured alike.

``test_every_view_has_a_budget_or_an_exemption`` walks the URL configuration and the API router: a
new page or API route without a budget (or a written exemption) fails.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.models import Organisation, Role
from accounts.services import api_token_create
from accounts.tests.factories import OrganisationFactory, UserFactory
from agreements.models import AgreementStatus, EntryKind, Meeting
from agreements.tests.factories import (
    AgreementDocumentFactory,
    AgreementFactory,
    AgreementVersionFactory,
    NegotiationEntryFactory,
    OpenPointFactory,
)
from assessments import services as case_services
from assessments.tests.factories import AssessmentFactory, ModelSubmissionFactory
from core.choices import AccessKind
from findings import reports
from findings.models import EvidenceSide, FindingComment, FindingEvidence, FindingStatus, ReportKind
from findings.tests.factories import recommendation_in, released_finding
from reminders.models import Notification
from reminders.services import calendar_token_issue
from reminders.tests.factories import make_deadline
from tests.query_budgets import API_PREFIX, BUDGETS, EXEMPT

# Rows at the first measure; the second has three times as many.
N = 2

ROLES = ("admin", "lead", "evaluator", "liaison")
CENTRE_NEGOTIATORS = ("admin", "lead")
CASE_STAFF = ("admin", "lead", "evaluator")


# --- The world: the people of conftest.py and company A's case ---------------------------------


@pytest.fixture
def world(admin_user, lead, evaluator, liaison_a, centre, company_a, agreement_a, case):
    return SimpleNamespace(
        people={"admin": admin_user, "lead": lead, "evaluator": evaluator, "liaison": liaison_a},
        admin=admin_user,
        lead=lead,
        evaluator=evaluator,
        liaison=liaison_a,
        centre=centre,
        company=company_a,
        agreement=agreement_a,
        case=case,
    )


def _case(w, *, agreement=None, submission=None, team=None):
    """A case of company A led by the lead with the evaluator on it, so all four roles see it."""
    submission = submission or ModelSubmissionFactory(agreement=agreement or w.agreement)
    return AssessmentFactory(submission=submission, lead=w.lead, team=team or [w.evaluator])


def _approved_ticket(w, case):
    """A ticket the case lead approved: the company sees tickets from approval on."""
    ticket = case_services.ticket_request(
        actor=w.evaluator,
        assessment=case,
        kind=AccessKind.HOSTED_API,
        justification="Probe cyber uplift through the hosted API.",
        wanted_from=case.window_start,
        wanted_to=case.window_end,
    )
    return case_services.ticket_approve(actor=w.lead, ticket=ticket)


def _released(w, case=None, **kwargs):
    return released_finding(assessment=case or w.case, author=w.evaluator, released_by=w.lead, **kwargs)


def _deadline(w, number: int, **kwargs):
    return make_deadline(
        due_at=timezone.now() + timedelta(days=number),
        recipients=[w.lead, w.evaluator, w.liaison],
        escalate_to=[w.admin],  # the portal escalates deadlines to programme admins
        organisation=w.company,
        title=f"Deadline number {number}",
        **kwargs,
    )


def _evidence(w, finding, number: int):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from core.files import EVIDENCE_KINDS, validate_upload

    upload = SimpleUploadedFile(f"transcript-{number}.txt", b"user: hello\nmodel: hi\n", content_type="text/plain")
    row = FindingEvidence(finding=finding, side=EvidenceSide.CENTRE)
    row.fill_from(upload, validate_upload(upload, allowed=EVIDENCE_KINDS), user=w.evaluator)
    row.save()
    return row


def _meeting(agreement, number: int, recorded_by):
    return Meeting.objects.create(
        agreement=agreement,
        held_at=timezone.now(),
        attendees="Both sides",
        minutes=f"Minutes of meeting {number}",
        recorded_by=recorded_by,
    )


def _staff(number: int, role: str = Role.EVALUATOR, organisation=None):
    return UserFactory(
        email=f"person{number}-{role}@centre.test",
        full_name=f"Person Number {number}",
        role=role,
        organisation=organisation,
    )


# --- Scenarios: what each view shows, and how to add one more row of it ------------------------


@dataclass
class Page:
    """A view under test: ``add(i)`` adds the i-th row (from 1) and returns what the page must then show."""

    url: str
    add: Callable[[int], str | tuple[str, ...]]
    shows: str = ""  # shown whatever the rows (the object of a detail page)
    signed_in: bool = True


Build = Callable[[Any, Any], Page]


@dataclass
class Scenario:
    view: str
    roles: tuple[str, ...]
    build: Build


SCENARIOS: dict[str, Scenario] = {}


def scenario(view: str, roles: tuple[str, ...] = ROLES) -> Callable[[Build], Build]:
    def register(build: Build) -> Build:
        SCENARIOS[view] = Scenario(view, roles, build)
        return build

    return register


def _url(view: str, **kwargs: Any) -> str:
    name = view.removeprefix(API_PREFIX)
    return reverse(name, kwargs=kwargs or None)


# The dashboard: one card per domain app, each a count over what the person may see.


@scenario("dashboard")
def _dashboard(w, user):
    def add(i):
        _approved_ticket(w, _case(w, agreement=AgreementFactory(organisation=w.company)))
        _released(w)
        _deadline(w, i)
        return f"{FindingStatus.RELEASED.label}: <strong>{i}</strong>"

    return Page(_url("dashboard"), add)


# Agreements.


@scenario("agreements:list")
def _agreement_list(w, user):
    def add(i):
        agreement = AgreementFactory(organisation=w.company)
        _case(w, agreement=agreement)  # so the evaluator reaches it
        return agreement.reference

    return Page(_url("agreements:list"), add)


def _negotiation(w):
    """Company A's agreement behind the case (so the evaluator sees it), under negotiation."""
    agreement = w.agreement
    agreement.status = AgreementStatus.NEGOTIATING
    agreement.save(update_fields=["status"])
    return agreement


@scenario("agreements:detail")
def _agreement_detail(w, user):
    agreement = _negotiation(w)

    def add(i):
        AgreementVersionFactory(agreement=agreement, number=i, created_by=w.lead)
        NegotiationEntryFactory(agreement=agreement, author=w.liaison if i % 2 else w.lead, text=f"Proposal {i}")
        _meeting(agreement, i, w.lead)
        OpenPointFactory(agreement=agreement, owner=w.liaison, title=f"Open point {i}", created_by=w.lead)
        AgreementDocumentFactory(agreement=agreement, uploaded_by=w.lead, original_name=f"draft-{i}.pdf")
        return f"Open point {i}", f"Proposal {i}", f"draft-{i}.pdf"

    return Page(_url("agreements:detail", reference=agreement.reference), add, shows=agreement.reference)


@scenario("agreements:compare")
def _agreement_compare(w, user):
    agreement = _negotiation(w)

    def add(i):
        AgreementVersionFactory(agreement=agreement, number=i, created_by=w.lead)
        return f'<option value="{i}"'

    return Page(_url("agreements:compare", reference=agreement.reference), add, shows=agreement.reference)


@scenario("agreements:create", CENTRE_NEGOTIATORS)
def _agreement_create(w, user):
    def add(i):
        return OrganisationFactory(name=f"Developer number {i}", kind=Organisation.Kind.DEVELOPER).name

    return Page(_url("agreements:create"), add)


@scenario("agreements:entry_add", (*CENTRE_NEGOTIATORS, "liaison"))
def _entry_add(w, user):
    agreement = _negotiation(w)

    def add(i):
        author = _staff(i)
        NegotiationEntryFactory(agreement=agreement, author=author, kind=EntryKind.PROPOSAL)
        return f"by {author.full_name}"

    return Page(_url("agreements:entry_add", reference=agreement.reference), add, shows=agreement.reference)


def _owner_choices(w, reference_view: str, user, **kwargs):
    agreement = _negotiation(w)
    point = OpenPointFactory(agreement=agreement, owner=w.liaison, created_by=w.lead)
    if reference_view == "agreements:open_point_edit":
        kwargs["point_id"] = point.public_id

    def add(i):
        # Owners are centre staff and the company's liaisons, each shown with their organisation.
        return f"{_staff(i, Role.LIAISON, w.company).full_name} ({w.company.name})"

    return Page(_url(reference_view, reference=agreement.reference, **kwargs), add, shows=agreement.reference)


@scenario("agreements:open_point_add", (*CENTRE_NEGOTIATORS, "liaison"))
def _open_point_add(w, user):
    return _owner_choices(w, "agreements:open_point_add", user)


@scenario("agreements:open_point_edit", CENTRE_NEGOTIATORS)
def _open_point_edit(w, user):
    return _owner_choices(w, "agreements:open_point_edit", user)


# Submissions, assessments and model-access tickets.


@scenario("assessments:submission_list")
def _submission_list(w, user):
    def add(i):
        return _case(w).submission.reference

    return Page(_url("assessments:submission_list"), add)


@scenario("assessments:submission_detail")
def _submission_detail(w, user):
    submission = w.case.submission

    def add(i):
        return _case(w, submission=submission).reference

    return Page(_url("assessments:submission_detail", reference=submission.reference), add, shows=submission.reference)


@scenario("assessments:submission_create", ("liaison",))
def _submission_create(w, user):
    def add(i):
        return AgreementFactory(organisation=w.company, title=f"Agreement number {i}").reference

    return Page(_url("assessments:submission_create"), add)


@scenario("assessments:list")
def _assessment_list(w, user):
    def add(i):
        return _case(w).reference

    return Page(_url("assessments:list"), add)


@scenario("assessments:detail")
def _assessment_detail(w, user):
    case = w.case

    def add(i):
        member = _staff(i)
        case.team.add(member)
        ticket = _approved_ticket(w, case)
        finding = _released(w, case, title=f"Released finding {i}")
        return ticket.reference, finding.reference, member.full_name

    return Page(_url("assessments:detail", reference=case.reference), add, shows=case.reference)


@scenario("assessments:create", CENTRE_NEGOTIATORS)
def _assessment_create(w, user):
    def add(i):
        submission = ModelSubmissionFactory(agreement=w.agreement)
        _staff(i)
        _staff(100 + i, Role.LEAD_EVALUATOR)
        return submission.reference

    return Page(_url("assessments:create"), add)


@scenario("assessments:edit", CENTRE_NEGOTIATORS)
def _assessment_edit(w, user):
    def add(i):
        return _staff(i).full_name

    return Page(_url("assessments:edit", reference=w.case.reference), add, shows=w.case.reference)


@scenario("assessments:ticket_list")
def _ticket_list(w, user):
    def add(i):
        return _approved_ticket(w, w.case).reference

    return Page(_url("assessments:ticket_list"), add)


def _provisioned_ticket(w):
    ticket = _approved_ticket(w, w.case)
    return case_services.ticket_provision(
        actor=w.liaison,
        ticket=ticket,
        endpoint="https://api.a.test/v1",
        credential="sk-live-0000",
        instructions="Use the header X-Api-Key.",
    )


@scenario("assessments:ticket_detail")
def _ticket_detail(w, user):
    ticket = _provisioned_ticket(w)

    def add(i):
        member = _staff(i)
        w.case.team.add(member)
        case_services.ticket_reveal(actor=member, ticket=ticket)
        return member.full_name

    return Page(_url("assessments:ticket_detail", reference=ticket.reference), add, shows=ticket.reference)


# Findings and the assessment report.


@scenario("findings:list")
def _finding_list(w, user):
    def add(i):
        return _released(w).reference

    return Page(_url("findings:list"), add)


@scenario("findings:detail")
def _finding_detail(w, user):
    finding = _released(w)

    def add(i):
        author = w.lead if i % 2 else w.liaison
        FindingComment.objects.create(finding=finding, author=author, body=f"Comment number {i}", internal=False)
        _evidence(w, finding, i)
        recommendation = recommendation_in(finding, "issued", text=f"Recommendation number {i}")
        return f"Comment number {i}", f"transcript-{i}.txt", recommendation.text

    return Page(_url("findings:detail", reference=finding.reference), add, shows=finding.reference)


def _report(view: str, w):
    def add(i):
        return _released(w, title=f"Released finding {i}").reference

    return Page(_url(view, assessment_reference=w.case.reference), add, shows=w.case.reference)


@scenario("findings:report", CASE_STAFF)
def _full_report(w, user):
    return _report("findings:report", w)


@scenario("findings:report_company")
def _company_report(w, user):
    return _report("findings:report_company", w)


@scenario("findings:report_job")
def _report_job(w, user):
    # The page of one background build of the PDF, built; more findings and later builds beside it.
    _released(w)
    job = reports.report_request(actor=user, assessment=w.case, kind=ReportKind.RELEASED)
    reports.report_job_build(job_id=job.pk)

    def add(i):
        _released(w)
        reports.report_request(actor=w.lead, assessment=w.case, kind=ReportKind.RELEASED)
        return "The PDF is ready"

    return Page(_url("findings:report_job", public_id=job.public_id), add, shows=w.case.reference)


# Evaluation runs: imported Inspect logs of the case (rows beyond the first written directly, since
# the same log cannot be imported twice), and the findings that cite one.


def _run_row(w, i: int):
    from findings.evaluation_models import EvaluationRun

    return EvaluationRun.objects.create(
        assessment=w.case,
        original_name=f"run-{i}.eval",
        content_type="application/zip",
        size=1,
        sha256=f"{i:064d}",
        uploaded_by=w.evaluator,
        import_status="imported",
        task_name=f"task_{i}",
        model="mockllm/model",
        run_status="success",
        sample_count=2,
    )


@scenario("findings:run_list", CASE_STAFF)
def _run_list(w, user):
    return Page(
        _url("findings:run_list", assessment_reference=w.case.reference),
        lambda i: _run_row(w, i).original_name,
        shows=w.case.reference,
    )


@scenario("findings:run_detail", CASE_STAFF)
def _run_detail(w, user):
    from findings.tests.inspect_logs import imported_run

    run = imported_run(assessment=w.case, actor=w.evaluator)

    def add(i):
        return _released(w, title=f"Cites the run {i}", evaluation_run=run, cited_samples=["hazard-synthesis-01"]).title

    return Page(_url("findings:run_detail", public_id=run.public_id), add, shows="refusal_probe")


@scenario(API_PREFIX + "evaluation-run-list", CASE_STAFF)
def _api_runs(w, user):
    return Page(_url(API_PREFIX + "evaluation-run-list"), lambda i: _run_row(w, i).original_name)


@scenario(API_PREFIX + "evaluation-run-detail", CASE_STAFF)
def _api_run(w, user):
    run = _run_row(w, 0)

    def add(i):
        _run_row(w, i)
        return run.original_name

    return Page(_url(API_PREFIX + "evaluation-run-detail", public_id=run.public_id), add)


# The lists as CSV: every row the filters select, streamed (the scenario of the list, exported).

for _list, _export in {
    "agreements:list": "agreements:export",
    "assessments:submission_list": "assessments:submission_export",
    "assessments:list": "assessments:export",
    "assessments:ticket_list": "assessments:ticket_export",
    "findings:list": "findings:export",
    "reminders:my_deadlines": "reminders:my_deadlines_export",
    "reminders:notifications": "reminders:notifications_export",
}.items():

    def _exported(w, user, _list=_list, _export=_export):
        page = SCENARIOS[_list].build(w, user)
        return Page(_url(_export), page.add, shows=page.shows)

    scenario(_export)(_exported)


# The programme page: each new company brings its engagement history, an agreement, a case with a
# finding, and a covered release expected (with late notice) in the next 90 days.


@scenario("programme:overview", CENTRE_NEGOTIATORS)
def _programme_overview(w, user):
    from accounts.services import organisation_engagement_change
    from agreements.services.release_notices import release_notice_record

    def add(i):
        company = OrganisationFactory(name=f"Developer number {i}", kind=Organisation.Kind.DEVELOPER)
        organisation_engagement_change(actor=w.admin, organisation=company, stage="in_discussion", note=f"Call {i}")
        agreement = AgreementFactory(organisation=company)
        _released(w, _case(w, agreement=agreement))
        today = timezone.localdate()
        release_notice_record(
            actor=w.admin,
            agreement=agreement,
            model_name=f"Model number {i}",
            planned_release_date=today + timedelta(days=i),
            notice_given_on=today,
        )
        return company.name, f"Model number {i}", agreement.reference

    return Page(_url("programme:overview"), add)


@scenario("programme:engagement", CENTRE_NEGOTIATORS)
def _programme_engagement(w, user):
    from accounts.services import organisation_engagement_change

    def add(i):
        organisation_engagement_change(
            actor=w.admin, organisation=w.company, disclosure_permitted=bool(i % 2), note=f"Change number {i}"
        )
        return f"Change number {i}"

    return Page(_url("programme:engagement", public_id=w.company.public_id), add, shows=w.company.name)


# Deadlines, notifications, the calendar feed and the person's API tokens.


@scenario("reminders:my_deadlines")
def _my_deadlines(w, user):
    def add(i):
        return _deadline(w, i).title

    return Page(_url("reminders:my_deadlines"), add)


@scenario("reminders:notifications")
def _notifications(w, user):
    def add(i):
        return Notification.objects.create(recipient=user, title=f"Reminder number {i}", url="/deadlines/").title

    return Page(_url("reminders:notifications"), add)


@scenario("reminders:calendar_feed")
def _calendar_feed(w, user):
    token = calendar_token_issue(user=user)

    def add(i):
        return _deadline(w, i).title

    return Page(_url("reminders:calendar_feed", token=token), add, signed_in=False)


@scenario("api_tokens")
def _api_tokens(w, user):
    def add(i):
        token, _ = api_token_create(actor=user, user=user, name=f"Token number {i}", days=30)
        return token.name

    return Page(_url("api_tokens"), add)


# --- The API ----------------------------------------------------------------------------------


@scenario(API_PREFIX + "organisation-list")
def _api_organisations(w, user):
    def add(i):
        # The centre's side is visible to everyone, a liaison included.
        return OrganisationFactory(name=f"Agency number {i}", kind=Organisation.Kind.AGENCY).name

    return Page(_url(API_PREFIX + "organisation-list"), add)


@scenario(API_PREFIX + "organisation-detail")
def _api_organisation(w, user):
    def add(i):
        OrganisationFactory(name=f"Agency number {i}", kind=Organisation.Kind.AGENCY)
        return w.company.name

    return Page(_url(API_PREFIX + "organisation-detail", public_id=w.company.public_id), add)


@scenario(API_PREFIX + "submission-list")
def _api_submissions(w, user):
    return Page(_url(API_PREFIX + "submission-list"), lambda i: _case(w).submission.reference)


@scenario(API_PREFIX + "submission-detail")
def _api_submission(w, user):
    submission = w.case.submission

    def add(i):
        _case(w, submission=submission)
        return submission.reference

    return Page(_url(API_PREFIX + "submission-detail", reference=submission.reference), add)


@scenario(API_PREFIX + "assessment-list")
def _api_assessments(w, user):
    def add(i):
        case = _case(w, team=[w.evaluator, _staff(i)])
        return case.reference, f"person{i}-{Role.EVALUATOR}@centre.test"

    return Page(_url(API_PREFIX + "assessment-list"), add)


@scenario(API_PREFIX + "assessment-detail")
def _api_assessment(w, user):
    def add(i):
        member = _staff(i)
        w.case.team.add(member)
        return member.email

    return Page(_url(API_PREFIX + "assessment-detail", reference=w.case.reference), add, shows=w.case.reference)


@scenario(API_PREFIX + "access-ticket-list")
def _api_tickets(w, user):
    return Page(_url(API_PREFIX + "access-ticket-list"), lambda i: _approved_ticket(w, w.case).reference)


@scenario(API_PREFIX + "access-ticket-detail")
def _api_ticket(w, user):
    ticket = _provisioned_ticket(w)

    def add(i):
        member = _staff(i)
        w.case.team.add(member)
        case_services.ticket_reveal(actor=member, ticket=ticket)
        return ticket.reference

    return Page(_url(API_PREFIX + "access-ticket-detail", reference=ticket.reference), add)


@scenario(API_PREFIX + "agreement-list")
def _api_agreements(w, user):
    def add(i):
        agreement = AgreementFactory(organisation=w.company)
        _case(w, agreement=agreement)
        AgreementVersionFactory(agreement=agreement, number=1)
        OpenPointFactory(agreement=agreement, owner=w.liaison, created_by=w.lead)
        return agreement.reference

    return Page(_url(API_PREFIX + "agreement-list"), add)


@scenario(API_PREFIX + "agreement-detail")
def _api_agreement(w, user):
    agreement = _negotiation(w)

    def add(i):
        AgreementVersionFactory(agreement=agreement, number=i)
        OpenPointFactory(agreement=agreement, owner=w.liaison, created_by=w.lead)
        return f'"current_version":{i}'

    return Page(_url(API_PREFIX + "agreement-detail", reference=agreement.reference), add, shows=agreement.reference)


def _notice(w, i: int):
    """The i-th release notice under company A's agreement (behind the case, so all four roles see it)."""
    from agreements.models import ReleaseNotice
    from core.references import save_with_reference

    today = timezone.localdate()
    return save_with_reference(
        ReleaseNotice(
            agreement=w.agreement,
            organisation=w.company,
            model_name=f"Model number {i}",
            planned_release_date=today + timedelta(days=10 + i),
            notice_given_on=today,
            notice_days_required=14,
            is_late=True,
            lead=w.lead,
        ),
        "REL",
    )


@scenario(API_PREFIX + "release-notice-list")
def _api_release_notices(w, user):
    return Page(_url(API_PREFIX + "release-notice-list"), lambda i: _notice(w, i).reference)


@scenario(API_PREFIX + "release-notice-detail")
def _api_release_notice(w, user):
    notice = _notice(w, 0)

    def add(i):
        ModelSubmissionFactory(agreement=w.agreement, release_notice=notice, model_name=f"Sub {i}")
        return notice.reference

    return Page(_url(API_PREFIX + "release-notice-detail", reference=notice.reference), add, shows=notice.reference)


@scenario("agreements:release_notice")
def _release_notice_page(w, user):
    notice = _notice(w, 0)

    def add(i):
        ModelSubmissionFactory(agreement=w.agreement, release_notice=notice, model_name=f"Sub {i}")
        return notice.model_name

    return Page(_url("agreements:release_notice", reference=notice.reference), add, shows=notice.reference)


def _agreement_rows(view: str, make: Callable[[Any, Any, int], str]) -> Build:
    """A list of one kind of row of the negotiation record: ``make(w, agreement, i)`` adds one."""

    def build(w, user):
        agreement = _negotiation(w)
        return Page(_url(view, reference=agreement.reference), lambda i: make(w, agreement, i))

    return build


def _api_version(w, agreement, i):
    AgreementVersionFactory(agreement=agreement, number=i, created_by=_staff(i, Role.LEAD_EVALUATOR))
    return f"Person Number {i}"


def _api_entry(w, agreement, i):
    NegotiationEntryFactory(agreement=agreement, author=_staff(i, Role.LEAD_EVALUATOR), text=f"Proposal {i}")
    return f"Proposal {i}"


def _api_open_point(w, agreement, i):
    owner = _staff(i, Role.LIAISON, w.company)
    return OpenPointFactory(agreement=agreement, owner=owner, title=f"Open point {i}", created_by=w.lead).title


def _api_meeting(w, agreement, i):
    return _meeting(agreement, i, _staff(i, Role.LEAD_EVALUATOR)).minutes


def _api_document(w, agreement, i):
    uploader = _staff(i, Role.LEAD_EVALUATOR)
    return AgreementDocumentFactory(
        agreement=agreement, uploaded_by=uploader, original_name=f"draft-{i}.pdf"
    ).original_name


for _view, _make in {
    "agreement-versions": _api_version,
    "agreement-entries": _api_entry,
    "agreement-open-points": _api_open_point,
    "agreement-meetings": _api_meeting,
    "agreement-documents": _api_document,
}.items():
    scenario(API_PREFIX + _view)(_agreement_rows(API_PREFIX + _view, _make))


@scenario(API_PREFIX + "agreement-compare")
def _api_compare(w, user):
    agreement = _negotiation(w)

    def add(i):
        AgreementVersionFactory(agreement=agreement, number=i)
        return '"name":"max_window_days"'

    return Page(_url(API_PREFIX + "agreement-compare", reference=agreement.reference) + "?from=1&to=2", add)


@scenario(API_PREFIX + "finding-list")
def _api_findings(w, user):
    def add(i):
        author = _staff(i)
        w.case.team.add(author)
        return released_finding(assessment=w.case, author=author, released_by=w.lead).reference

    return Page(_url(API_PREFIX + "finding-list"), add)


@scenario(API_PREFIX + "finding-detail")
def _api_finding(w, user):
    finding = _released(w)
    return Page(
        _url(API_PREFIX + "finding-detail", reference=finding.reference),
        lambda i: _evidence(w, finding, i).original_name,
        shows=finding.reference,
    )


@scenario(API_PREFIX + "finding-comments")
def _api_finding_comments(w, user):
    finding = _released(w)

    def add(i):
        author = _staff(i, Role.LEAD_EVALUATOR)
        return FindingComment.objects.create(finding=finding, author=author, body=f"Comment {i}", internal=False).body

    return Page(_url(API_PREFIX + "finding-comments", reference=finding.reference), add)


@scenario(API_PREFIX + "finding-recommendations")
def _api_finding_recommendations(w, user):
    finding = _released(w)
    return Page(
        _url(API_PREFIX + "finding-recommendations", reference=finding.reference),
        lambda i: recommendation_in(finding, "issued").reference,
    )


@scenario(API_PREFIX + "recommendation-list")
def _api_recommendations(w, user):
    return Page(_url(API_PREFIX + "recommendation-list"), lambda i: recommendation_in(_released(w), "issued").reference)


@scenario(API_PREFIX + "recommendation-detail")
def _api_recommendation(w, user):
    recommendation = recommendation_in(_released(w), "issued")
    return Page(
        _url(API_PREFIX + "recommendation-detail", public_id=recommendation.public_id),
        lambda i: recommendation_in(_released(w), "issued") and recommendation.reference,
        shows=recommendation.reference,
    )


@scenario(API_PREFIX + "deadline-list")
def _api_deadlines(w, user):
    return Page(_url(API_PREFIX + "deadline-list"), lambda i: _deadline(w, i).title)


@scenario(API_PREFIX + "deadline-detail")
def _api_deadline(w, user):
    deadline = _deadline(w, 0)

    def add(i):
        _deadline(w, i)
        return deadline.title

    return Page(_url(API_PREFIX + "deadline-detail", public_id=deadline.public_id), add)


@scenario(API_PREFIX + "notification-list")
def _api_notifications(w, user):
    def add(i):
        return Notification.objects.create(recipient=user, title=f"Reminder number {i}", url="/deadlines/").title

    return Page(_url(API_PREFIX + "notification-list"), add)


@scenario(API_PREFIX + "notification-detail")
def _api_notification(w, user):
    notification = Notification.objects.create(recipient=user, title="The one asked for", url="/deadlines/")

    def add(i):
        Notification.objects.create(recipient=user, title=f"Reminder number {i}", url="/deadlines/")
        return notification.title

    return Page(_url(API_PREFIX + "notification-detail", public_id=notification.public_id), add)


# --- Measuring ---------------------------------------------------------------------------------


def _shape(sql: str) -> str:
    """A query with its values blanked, so the same query with other ids compares equal."""
    return re.sub(r"'[^']*'|\d+", "?", sql)


def _extra(small: list[str], large: list[str]) -> list[str]:
    """The queries of ``large`` beyond those of ``small`` (by shape): the ones the extra rows cost."""
    surplus = Counter(map(_shape, large)) - Counter(map(_shape, small))
    extra = []
    for sql in large:
        if surplus[_shape(sql)] > 0:
            surplus[_shape(sql)] -= 1
            extra.append(sql[:400])
    return extra


def _measure(client, page: Page, shown: tuple[str, ...]) -> list[str]:
    client.get(page.url)  # warm what a running server keeps between requests
    # ...but not the cached totals and counts (core/freshness.py): they expire, and the budget is
    # what the page costs when it must count them again.
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(page.url)
        # A CSV export streams its rows: they are read (and counted) as the body is.
        body = b"".join(response.streaming_content if response.streaming else [response.content]).decode()
    assert response.status_code == 200, f"{page.url} answered {response.status_code}"
    for text in (page.shows, *shown):
        assert text in body, f"{page.url} does not show {text!r}"
    return [query["sql"] for query in queries.captured_queries]


CASES = [(view, role) for view, s in SCENARIOS.items() for role in s.roles]


@pytest.mark.parametrize(("view", "role"), CASES, ids=[f"{view}-{role}" for view, role in CASES])
def test_query_count_does_not_grow_with_rows(view, role, world, client):
    user = world.people[role]
    page = SCENARIOS[view].build(world, user)
    if page.signed_in:
        client.force_login(user)

    def grow(start: int, stop: int) -> tuple[str, ...]:
        shown: tuple[str, ...] = ()
        for number in range(start, stop + 1):
            added = page.add(number)
            shown = (added,) if isinstance(added, str) else added
        return shown

    small = _measure(client, page, grow(1, N))
    large = _measure(client, page, grow(N + 1, 3 * N))
    budget = BUDGETS.get(view, {}).get(role)
    counts = f"{view} as {role}: {len(small)} queries with {N} rows, {len(large)} with {3 * N}; budget {budget}."
    extra = "\n".join(_extra(small, large)) or "(none)"
    assert len(small) == len(large), f"{counts} Queries only at {3 * N} rows:\n{extra}"
    every = "\n".join(sql[:200] for sql in large)
    assert budget is not None and len(large) <= budget, f"{counts} The queries at {3 * N} rows:\n{every}"


# --- Every view has a budget or a reason not to ------------------------------------------------


def _named_urls(resolver=None, namespace: str = "") -> set[str]:
    names: set[str] = set()
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            names |= _named_urls(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(f"{namespace}{entry.name}")
    return names


def _views() -> set[str]:
    """Every named page (the Django admin aside, see EXEMPT) and every API route, prefixed ``api:``."""
    from reviewportal.api_urls import router

    api = {API_PREFIX + url.name for url in router.urls}
    pages = {name for name in _named_urls() if not name.startswith("admin:")}
    return (pages - {url.name for url in router.urls}) | api


def test_every_view_has_a_budget_or_an_exemption():
    views = _views()
    missing = sorted(views - BUDGETS.keys() - EXEMPT.keys())
    assert not missing, f"Views without a query budget in tests/query_budgets.py (or a reason in EXEMPT): {missing}"
    both = sorted(BUDGETS.keys() & EXEMPT.keys())
    assert not both, f"Views both budgeted and exempt: {both}"
    stale = sorted((BUDGETS.keys() | EXEMPT.keys()) - views - {"admin:*"})
    assert not stale, f"Budgets or exemptions for views that no longer exist: {stale}"


def test_every_budget_is_measured_for_each_of_its_roles():
    budgeted = {(view, role) for view, roles in BUDGETS.items() for role in roles}
    assert budgeted == set(CASES), (
        f"Budgets without a scenario: {sorted(budgeted - set(CASES))}; "
        f"scenarios without a budget: {sorted(set(CASES) - budgeted)}"
    )
