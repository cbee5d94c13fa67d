"""Reports at a programme's size: Markdown rendered once, a paged HTML report, long PDFs built by a worker,
and an assessment page that shows a page of findings, not all of them."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from importlib import import_module

import pytest
from django.apps import apps
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from audit.models import AuditEvent
from findings import reports, selectors, services
from findings.markdown import RENDERER_VERSION, render_markdown
from findings.models import Finding, ReportJob, ReportKind
from findings.states import FindingStatus, ReportJobStatus
from findings.tests.factories import FindingFactory, released_finding, report_job_done

pytestmark = pytest.mark.django_db

DETAILS = "Observed in **3 of 5** attempts; see [the advisory](https://example.org/adv).\n\n- one\n- two"


def _create(case, evaluator, **extra):
    return services.finding_create(
        actor=evaluator,
        assessment=case,
        title=extra.pop("title", "Role-play bypass"),
        risk_domain="cyber",
        severity=extra.pop("severity", "high"),
        summary="The model writes exploit code in a role-play framing.",
        details=extra.pop("details", DETAILS),
        **extra,
    )


# --- Markdown rendered once -------------------------------------------------------------------------


def test_the_stored_html_is_the_rendering_of_the_text_and_follows_an_edit(case, evaluator):
    finding = _create(case, evaluator)
    finding.refresh_from_db()
    assert finding.details_html == render_markdown(DETAILS)
    assert "<strong>3 of 5</strong>" in finding.details_html
    assert finding.details_rendered_with == RENDERER_VERSION

    services.finding_update(actor=evaluator, finding=finding, data={"details": "Now *only* in 1 of 5."})
    finding.refresh_from_db()
    assert finding.details_html == render_markdown("Now *only* in 1 of 5.") == "<p>Now <em>only</em> in 1 of 5.</p>"

    services.finding_update(actor=evaluator, finding=finding, data={"details": ""})
    finding.refresh_from_db()
    assert finding.details_html == ""


def test_an_edit_of_other_fields_keeps_the_stored_html(case, evaluator):
    finding = _create(case, evaluator)
    services.finding_update(actor=evaluator, finding=finding, data={"title": "Renamed"})
    finding.refresh_from_db()
    assert finding.title == "Renamed" and finding.details_html == render_markdown(DETAILS)


def test_pages_show_the_stored_html_without_rendering_again(case, evaluator, lead, client_for, monkeypatch):
    finding = _create(case, evaluator)
    # A marker only the stored copy holds proves the page reads it instead of rendering the text.
    Finding.objects.filter(pk=finding.pk).update(details_html="<p>stored copy</p>")
    monkeypatch.setattr("findings.models.render_markdown", lambda text: pytest.fail("rendered on read"))
    client = client_for(lead)
    assert "<p>stored copy</p>" in client.get(reverse("findings:detail", args=[finding.reference])).text
    assert "<p>stored copy</p>" in client.get(reverse("findings:report", args=[case.reference])).text


def test_a_rendering_by_an_older_renderer_is_redone_on_read_and_by_the_command(case, evaluator, client_for):
    from django.core.management import call_command

    finding = _create(case, evaluator)
    Finding.objects.filter(pk=finding.pk).update(details_html="<p>old renderer</p>", details_rendered_with=0)
    page = client_for(evaluator).get(reverse("findings:detail", args=[finding.reference])).text
    assert "old renderer" not in page and "<strong>3 of 5</strong>" in page

    out = io.StringIO()
    call_command("findings_render_markdown", stdout=out)
    assert "1 finding" in out.getvalue()
    finding.refresh_from_db()
    assert finding.details_html == render_markdown(DETAILS) and finding.details_rendered_with == RENDERER_VERSION
    assert services.finding_details_render_stale() == 0


def test_the_migration_renders_the_details_of_existing_findings(case, evaluator):
    render_existing = import_module("findings.migrations.0004_report_jobs_and_rendered_text").render_existing_details
    written = FindingFactory(assessment=case, author=evaluator, details="A **bold** claim.")
    empty = FindingFactory(assessment=case, author=evaluator, details="")
    assert written.details_rendered_with == 0  # written around the services, as rows were before

    render_existing(apps, None)

    written.refresh_from_db()
    empty.refresh_from_db()
    assert written.details_html == render_markdown("A **bold** claim.") == "<p>A <strong>bold</strong> claim.</p>"
    assert written.details_rendered_with == empty.details_rendered_with == RENDERER_VERSION
    assert empty.details_html == ""


def test_markdown_that_would_render_past_the_bound_is_shown_as_plain_text():
    from core.bounds import BODY, RENDERED_BODY

    cells = ("|" * 40 + "\n") * (BODY // 41)
    table = "|a|b|\n|:-|:-|\n" + cells
    rendered = render_markdown(table[:BODY])
    assert len(rendered) <= RENDERED_BODY
    assert "<table>" not in rendered and rendered.startswith("<p>")


# --- The assessment page's findings panel --------------------------------------------------------


def _panel(user, case) -> str:
    request = RequestFactory().get("/")
    request.user = user
    template = Template("{% load findings_tags %}{% findings_panel assessment %}")
    return template.render(Context({"request": request, "assessment": case, "user": user}))


def test_the_panel_shows_a_page_of_the_most_severe_and_links_to_all(case, evaluator):
    for n in range(selectors.PANEL_SIZE + 5):
        FindingFactory(assessment=case, author=evaluator, severity="low", title=f"Low finding {n}")
    FindingFactory(assessment=case, author=evaluator, severity="critical", title="The critical one")
    html = _panel(evaluator, case)
    summary = selectors.assessment_finding_summary(user=evaluator, assessment=case)
    assert len(summary.findings) == selectors.PANEL_SIZE and summary.total == selectors.PANEL_SIZE + 6
    assert summary.findings[0].title == "The critical one"
    assert html.count('data-label="Finding"') == selectors.PANEL_SIZE
    assert f"Findings ({selectors.PANEL_SIZE + 6})" in html
    assert f"The {selectors.PANEL_SIZE} most severe of {selectors.PANEL_SIZE + 6} findings" in html
    link = f"{reverse('findings:list')}?assessment={case.reference}"
    assert f'<a href="{link}">See all {selectors.PANEL_SIZE + 6} findings of {case.reference}</a>' in html


def test_a_small_case_shows_every_finding_and_no_see_all_link(case, evaluator):
    FindingFactory(assessment=case, author=evaluator, title="Only one")
    html = _panel(evaluator, case)
    assert "Only one" in html and "See all" not in html


def test_the_panel_counts_overdue_answers_in_its_one_aggregate(case, evaluator, lead):
    released_finding(
        assessment=case, author=evaluator, released_by=lead, response_due_at=timezone.now() - timedelta(days=1)
    )
    released_finding(assessment=case, author=evaluator, released_by=lead)
    assert selectors.assessment_finding_summary(user=lead, assessment=case).overdue == 1


def test_the_panel_costs_the_same_queries_at_n_and_3n(case, evaluator, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_with(n: int) -> int:
        while Finding.objects.filter(assessment=case).count() < n:
            FindingFactory(assessment=case, author=evaluator)
        # Each request reads the person and the case anew: nothing either kept from the last one.
        evaluator._policy_actor = None
        case.__dict__.pop("_on_case_answers", None)
        with CaptureQueriesContext(connection) as captured:
            _panel(evaluator, case)
        return len(captured)

    assert queries_with(selectors.PANEL_SIZE + 10) == queries_with(3 * (selectors.PANEL_SIZE + 10))


# --- The HTML report, paged ---------------------------------------------------------------------------


@pytest.fixture
def five_released(case, evaluator, lead):
    severities = ["low", "critical", "high", "critical", "medium"]
    return [
        released_finding(assessment=case, author=evaluator, released_by=lead, title=f"Finding {i}", severity=severity)
        for i, severity in enumerate(severities)
    ]


def test_the_html_report_is_paged_most_severe_first(case, lead, five_released, client_for, monkeypatch):
    monkeypatch.setattr(selectors, "REPORT_PAGE_SIZE", 2)
    client = client_for(lead)
    url = reverse("findings:report", args=[case.reference])
    first = client.get(url)
    assert [f.severity for f in first.context["report"].findings] == ["critical", "critical"]
    assert "Findings (5)" in first.text and "Findings 1 to 2 of 5, most severe first." in first.text
    assert "Page 1 of 3" in first.text
    last = client.get(url, {"page": 3})
    assert [f.severity for f in last.context["report"].findings] == ["low"]
    # Every page keeps the counts of the whole report.
    assert [(label, n) for _, label, n in last.context["report"].counts] == [
        ("Critical", 2),
        ("High", 1),
        ("Medium", 1),
        ("Low", 1),
    ]


def test_a_report_page_costs_the_same_queries_at_n_and_3n(case, evaluator, lead, client_for, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(selectors, "REPORT_PAGE_SIZE", 5)
    client = client_for(lead)
    url = reverse("findings:report", args=[case.reference])
    # The first view of the day is recorded in the case's history; the ones measured below are not.
    assert client.get(url).status_code == 200

    def queries_with(n: int) -> int:
        while Finding.objects.filter(assessment=case).count() < n:
            released_finding(assessment=case, author=evaluator, released_by=lead)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    assert queries_with(6) == queries_with(18)


# --- Long PDFs, built by a worker ---------------------------------------------------------------------


@pytest.fixture
def long_report(monkeypatch, five_released):
    """Five findings make a "long" report laid out two at a time."""
    monkeypatch.setattr(reports, "DIRECT_MAX", 3)
    monkeypatch.setattr(reports, "PART_SIZE", 2)
    return five_released


def _pdf_text(data: bytes) -> tuple[int, str]:
    pages = PdfReader(io.BytesIO(data)).pages
    return len(pages), "\n".join(page.extract_text() for page in pages)


def test_a_long_report_offers_a_background_build_instead_of_the_pdf(case, lead, long_report, client_for):
    client = client_for(lead)
    page = client.get(reverse("findings:report_pdf", args=[case.reference]))
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    assert "This report has 5 findings, so its PDF is built in the background." in page.text
    assert reverse("findings:report_build", args=[case.reference]) in page.text
    report = client.get(reverse("findings:report", args=[case.reference])).text
    assert "Build the PDF" in report and "Download PDF" not in report


def test_a_report_job_is_built_by_the_worker_in_parts_then_downloaded(
    case, lead, evaluator, long_report, client_for, django_capture_on_commit_callbacks
):
    client = client_for(lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("findings:report_build", args=[case.reference]))
    job = ReportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("findings:report_job", args=[job.public_id])
    assert (job.status, job.kind, job.requested_by, job.progress_done, job.progress_total) == (
        ReportJobStatus.DONE,
        ReportKind.FULL,
        lead,
        5,
        5,
    )
    assert AuditEvent.objects.filter(action="export", summary__contains="built in the background").exists()

    page = client.get(reverse("findings:report_job", args=[job.public_id]))
    assert "The PDF is ready: 5 findings" in page.text and "Refresh" not in page
    assert job.pdf.sha256 in page.text

    download = client_for(evaluator).get(reverse("findings:report_job_download", args=[job.public_id]))
    data = b"".join(download.streaming_content)
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert f'filename="{case.reference}-report.pdf"' in download["Content-Disposition"]
    pages, text = _pdf_text(data)
    assert all(f"Finding {i}" in text for i in range(5))
    assert f"{case.reference} · page 1 of {pages}" in text and f"page {pages} of {pages}" in text
    assert text.index("Finding 1") < text.index("Finding 0")  # critical before low
    assert AuditEvent.objects.filter(action="download", case_ref=case.reference).count() == 1


def test_the_pdf_is_laid_out_one_part_at_a_time_with_progress(case, long_report, monkeypatch):
    from xhtml2pdf import pisa

    parts = []
    create_pdf = pisa.CreatePDF
    monkeypatch.setattr(pisa, "CreatePDF", lambda source, *a, **k: parts.append(source) or create_pdf(source, *a, **k))
    seen = []
    reports.report_pdf_build(assessment=case, released_only=False, progress=lambda done, total: seen.append(done))
    assert seen == [0, 2, 4, 5]
    assert len(parts) == 3
    assert "Scope" in parts[0] and "Scope" not in parts[1]
    assert "Outcome" in parts[2] and "Outcome" not in parts[0]


def test_the_company_gets_only_its_released_report(
    case, lead, liaison_a, liaison_b, long_report, client_for, django_capture_on_commit_callbacks
):
    client = client_for(liaison_a)
    assert client.post(reverse("findings:report_build", args=[case.reference])).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("findings:report_company_build", args=[case.reference]))
    released = ReportJob.objects.get(kind=ReportKind.RELEASED)
    assert released.is_done
    assert client.get(reverse("findings:report_job_download", args=[released.public_id])).status_code == 200

    full = report_job_done(case, ReportKind.FULL, requested_by=lead)
    assert client.get(reverse("findings:report_job", args=[full.public_id])).status_code == 404
    assert client.get(reverse("findings:report_job_download", args=[full.public_id])).status_code == 404

    other = client_for(liaison_b)
    assert other.get(reverse("findings:report_job", args=[released.public_id])).status_code == 404
    assert other.get(reverse("findings:report_job_download", args=[released.public_id])).status_code == 404
    assert other.post(reverse("findings:report_company_build", args=[case.reference])).status_code == 404


def test_an_unchanged_case_reuses_its_job_and_a_change_builds_anew(case, lead, evaluator, long_report):
    first = reports.report_request(actor=lead, assessment=case, kind=ReportKind.FULL)
    again = reports.report_request(actor=lead, assessment=case, kind=ReportKind.FULL)
    assert again.pk == first.pk  # still queued and moving: the second person joins it
    assert reports.report_request(actor=lead, assessment=case, kind=ReportKind.RELEASED).pk != first.pk

    draft = FindingFactory(assessment=case, author=evaluator, title="A new draft")
    changed = reports.report_request(actor=lead, assessment=case, kind=ReportKind.FULL)
    assert changed.pk != first.pk
    services.finding_update(actor=evaluator, finding=draft, data={"title": "Renamed draft"})
    assert reports.report_request(actor=lead, assessment=case, kind=ReportKind.FULL).pk != changed.pk


def test_a_stalled_or_failed_job_is_not_reused(case, lead, long_report):
    job = reports.report_request(actor=lead, assessment=case, kind=ReportKind.FULL)
    ReportJob.objects.filter(pk=job.pk).update(updated_at=timezone.now() - reports.STALLED_AFTER - timedelta(1))
    stalled_replacement = reports.report_request(actor=lead, assessment=case, kind=ReportKind.FULL)
    assert stalled_replacement.pk != job.pk
    ReportJob.objects.filter(pk=stalled_replacement.pk).update(status=ReportJobStatus.FAILED)
    assert reports.report_request(actor=lead, assessment=case, kind=ReportKind.FULL).pk != stalled_replacement.pk


def test_a_redelivered_message_builds_nothing_twice(case, lead, long_report):
    job = reports.report_request(actor=lead, assessment=case, kind=ReportKind.FULL)
    assert reports.report_job_build(job_id=job.pk) == "done"
    assert reports.report_job_build(job_id=job.pk) == "not queued"
    assert ReportJob.objects.get(pk=job.pk).is_done


def test_progress_page_of_a_queued_and_a_running_job_refreshes_itself(case, lead, long_report, client_for):
    job = reports.report_request(actor=lead, assessment=case, kind=ReportKind.FULL)
    client = client_for(lead)
    page = client.get(reverse("findings:report_job", args=[job.public_id]))
    assert page["Refresh"] == "3"
    assert "Waiting for a worker to start the build." in page.text
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.text)

    ReportJob.objects.filter(pk=job.pk).update(status=ReportJobStatus.RUNNING, progress_done=2, progress_total=5)
    page = client.get(reverse("findings:report_job", args=[job.public_id]))
    assert "Building: 2 of 5 findings laid out." in page.text
    assert '<progress max="5" value="2"' in page.text
    assert client.get(reverse("findings:report_job_download", args=[job.public_id])).status_code == 404

    ReportJob.objects.filter(pk=job.pk).update(updated_at=timezone.now() - reports.STALLED_AFTER - timedelta(1))
    page = client.get(reverse("findings:report_job", args=[job.public_id]))
    assert "This build has not moved for a while." in page.text and "Ask for the PDF again" in page.text
    assert "Refresh" not in page


def test_a_build_that_fails_says_so_and_offers_to_ask_again(
    case, lead, long_report, client_for, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(html):
        raise RuntimeError("layout")

    monkeypatch.setattr(reports, "_render_part", broken)
    client = client_for(lead)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("findings:report_build", args=[case.reference]))
    job = ReportJob.objects.get()
    assert job.status == ReportJobStatus.FAILED and job.finished_at is not None
    page = client.get(reverse("findings:report_job", args=[job.public_id]))
    assert "The PDF could not be produced." in page.text and "Ask for the PDF again" in page.text
    assert "Refresh" not in page


def test_a_broker_that_refuses_the_message_fails_the_job_at_once(
    case, lead, long_report, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(reports, "enqueue", lambda name, *args: False)
    with django_capture_on_commit_callbacks(execute=True):
        job = reports.report_request(actor=lead, assessment=case, kind=ReportKind.FULL)
    job.refresh_from_db()
    assert job.status == ReportJobStatus.FAILED and "could not be queued" in job.error


def test_a_short_report_is_still_a_direct_pdf(case, lead, five_released, client_for):
    response = client_for(lead).get(reverse("findings:report_pdf", args=[case.reference]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pages, text = _pdf_text(response.content)
    assert f"{case.reference} · page 1 of {pages}" in text
    assert not ReportJob.objects.exists()


def test_withdrawn_findings_stay_out_of_the_built_report(case, lead, evaluator, long_report):
    FindingFactory(assessment=case, author=evaluator, title="Gone", status=FindingStatus.WITHDRAWN)
    _pages, text = _pdf_text(reports.report_pdf_build(assessment=case, released_only=False))
    assert "Gone" not in text and "Finding 4" in text


def test_the_daily_purge_removes_replaced_and_old_builds_with_their_files(
    case, lead, evaluator, long_report, django_capture_on_commit_callbacks
):
    first = reports.report_request(actor=lead, assessment=case, kind=ReportKind.FULL)
    reports.report_job_build(job_id=first.pk)
    FindingFactory(assessment=case, author=evaluator, title="A new draft")
    second = reports.report_request(actor=lead, assessment=case, kind=ReportKind.FULL)
    reports.report_job_build(job_id=second.pk)
    first_file = ReportJob.objects.get(pk=first.pk).pdf.file
    storage, first_name = first_file.storage, first_file.name
    assert storage.exists(first_name)
    now = timezone.now()

    # Just replaced: whoever is downloading the older copy still may.
    assert reports.report_jobs_purge(now=now) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert reports.report_jobs_purge(now=now + reports.SUPERSEDED_GRACE + timedelta(minutes=1)) == 1
    assert list(ReportJob.objects.values_list("pk", flat=True)) == [second.pk]
    assert not storage.exists(first_name)
    assert AuditEvent.objects.filter(action="export", case_ref=case.reference).count() == 2  # the trail stays

    with django_capture_on_commit_callbacks(execute=True):
        assert reports.report_jobs_purge(now=now + timedelta(days=8)) == 1
    assert not ReportJob.objects.exists()


def test_a_purged_job_page_answers_404_and_asking_again_builds_anew(case, lead, long_report, client_for):
    job = reports.report_request(actor=lead, assessment=case, kind=ReportKind.FULL)
    reports.report_job_build(job_id=job.pk)
    reports.report_jobs_purge(now=timezone.now() + timedelta(days=8))
    client = client_for(lead)
    assert client.get(reverse("findings:report_job", args=[job.public_id])).status_code == 404
    assert reports.report_request(actor=lead, assessment=case, kind=ReportKind.FULL).pk != job.pk
