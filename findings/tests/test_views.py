"""The findings pages as each person sees them."""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from findings.markdown import render_markdown
from findings.models import Finding, FindingEvidence, FindingStatus
from findings.tests.factories import CommentFactory, FindingFactory, released_finding
from tests.query_budgets import BUDGETS

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _form(case, **extra):
    data = {
        "title": "Synthesis route uplift",
        "risk_domain": "biological",
        "severity": "critical",
        "summary": "Gives a step-by-step route when asked as a chemistry tutor.",
        "details": "Seen in *all* runs.",
        "reproduction_steps": "Ask as a tutor.",
        "recommended_action": "Refuse tutor framings.",
    }
    data.update(extra)
    return data


# --- Recording through the form -----------------------------------------------------------


def test_evaluator_records_a_finding_with_evidence_kept_with_its_hash(case, evaluator, client_for):
    upload = SimpleUploadedFile("screen.png", PNG, content_type="image/png")
    response = client_for(evaluator).post(
        reverse("findings:create", args=[case.reference]),
        {**_form(case), "no_classified_information": True, "evidence": [upload]},
    )
    finding = Finding.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("findings:detail", args=[finding.reference])
    evidence = FindingEvidence.objects.get(finding=finding)
    assert evidence.original_name == "screen.png" and evidence.content_type == "image/png"
    assert len(evidence.sha256) == 64 and evidence.uploaded_by == evaluator


def test_form_shows_the_severity_rubric_beside_each_choice(case, evaluator, client_for):
    page = client_for(evaluator).get(reverse("findings:create", args=[case.reference])).content.decode()
    assert "Critical — Gives meaningful uplift" in page
    assert "Informational — An observation with no direct risk" in page


def test_a_failing_form_keeps_what_was_typed_and_asks_for_files_again(case, evaluator, client_for):
    upload = SimpleUploadedFile("notes.txt", b"plain notes\n", content_type="text/plain")
    response = client_for(evaluator).post(
        reverse("findings:create", args=[case.reference]),
        {**_form(case, title=""), "no_classified_information": True, "evidence": [upload]},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Gives a step-by-step route when asked as a chemistry tutor." in page
    assert re.search(r'value="critical"[^>]*checked', page)
    assert "choose the file(s) again" in page
    assert not Finding.objects.exists()


def test_a_file_of_the_wrong_type_is_refused_by_content(case, evaluator, client_for):
    fake = SimpleUploadedFile("report.pdf", b"MZ\x90\x00 this is an executable", content_type="application/pdf")
    response = client_for(evaluator).post(
        reverse("findings:create", args=[case.reference]),
        {**_form(case), "no_classified_information": True, "evidence": [fake]},
    )
    assert response.status_code == 200
    assert "is not an accepted file type" in response.content.decode()
    assert not Finding.objects.exists()


def test_a_file_over_the_size_limit_is_refused(case, evaluator, client_for, settings):
    settings.UPLOAD_MAX_BYTES = 1024
    big = SimpleUploadedFile("big.txt", b"a" * 2048, content_type="text/plain")
    response = client_for(evaluator).post(
        reverse("findings:create", args=[case.reference]),
        {**_form(case), "no_classified_information": True, "evidence": [big]},
    )
    assert "the limit is" in response.content.decode()
    assert not Finding.objects.exists()


# --- Markdown -------------------------------------------------------------------------------


def test_script_and_javascript_links_in_details_do_not_survive(case, evaluator, client_for):
    finding = FindingFactory(
        assessment=case,
        author=evaluator,
        details='Text <script>alert("x")</script> [click](javascript:alert(1)) '
        "<img src=x onerror=alert(1)> [ok](https://example.org) **bold**",
    )
    page = client_for(evaluator).get(reverse("findings:detail", args=[finding.reference])).content.decode()
    assert "<script>alert" not in page
    assert 'href="javascript:' not in page and "(javascript:alert(1))" in page  # shown, never a link
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page  # shown as text
    assert '<a href="https://example.org" rel="noopener noreferrer nofollow">ok</a>' in page
    assert "<strong>bold</strong>" in page


def test_markdown_shows_raw_html_as_text():
    html = render_markdown('<div onclick="x()">hi</div>\n\n[m](mailto:a@b.example) [d](data:text/html,x)')
    assert "<div" not in html and "&lt;div" in html
    assert 'href="mailto:a@b.example"' in html
    assert 'href="data:' not in html and "(data:text/html,x)" in html  # shown, never a link


# --- What the company sees -----------------------------------------------------------------


def test_liaison_gets_404_for_a_draft_of_their_own_company(case, evaluator, liaison_a, client_for):
    for status in (FindingStatus.DRAFT, FindingStatus.IN_REVIEW, FindingStatus.WITHDRAWN):
        finding = FindingFactory(assessment=case, author=evaluator, status=status)
        response = client_for(liaison_a).get(reverse("findings:detail", args=[finding.reference]))
        assert response.status_code == 404, status


def test_liaison_sees_released_finding_but_not_internal_comments(case, evaluator, lead, liaison_a, client_for):
    finding = released_finding(assessment=case, author=evaluator, released_by=lead, title="Released one")
    CommentFactory(finding=finding, author=lead, body="Internal: the lead thinks this is borderline", internal=True)
    CommentFactory(finding=finding, author=lead, body="Shared: please answer by Friday", internal=False)
    page = client_for(liaison_a).get(reverse("findings:detail", args=[finding.reference])).content.decode()
    assert "Released one" in page
    assert "please answer by Friday" in page
    assert "borderline" not in page
    assert "Internal: only the centre team" not in page  # no internal checkbox for the company


def test_liaison_list_shows_only_released_findings_of_their_company(
    case, case_b, evaluator, evaluator_other, lead, lead2, liaison_a, client_for
):
    FindingFactory(assessment=case, author=evaluator, title="Draft of A")
    released_finding(assessment=case, author=evaluator, released_by=lead, title="Released of A")
    released_finding(assessment=case_b, author=evaluator_other, released_by=lead2, title="Released of B")
    page = client_for(liaison_a).get(reverse("findings:list")).content.decode()
    assert "Released of A" in page
    assert "Draft of A" not in page and "Released of B" not in page


def test_liaison_responds_through_the_form(case, evaluator, lead, liaison_a, client_for):
    from findings.services import finding_release

    finding = finding_release(
        actor=lead, finding=FindingFactory(assessment=case, author=evaluator, status=FindingStatus.IN_REVIEW)
    )
    upload = SimpleUploadedFile("plan.txt", b"Retraining plan\n", content_type="text/plain")
    response = client_for(liaison_a).post(
        reverse("findings:respond", args=[finding.reference]),
        {
            "disposition": "will_mitigate",
            "company_response": "We agree.",
            "planned_mitigation": "Retrain in 2.1",
            "mitigation_target": (timezone.localdate() + timedelta(days=30)).isoformat(),
            "no_classified_information": True,
            "files": [upload],
        },
    )
    assert response.status_code == 302
    finding.refresh_from_db()
    assert finding.status == FindingStatus.COMPANY_RESPONDED
    assert finding.evidence.get().side == "company"


# --- Transitions through the pages -----------------------------------------------------------


def test_author_sees_no_release_button_and_posting_release_is_403(case, lead, client_for):
    finding = FindingFactory(assessment=case, author=lead, status=FindingStatus.IN_REVIEW)
    client = client_for(lead)
    page = client.get(reverse("findings:detail", args=[finding.reference])).content.decode()
    assert "Release to the company" not in page
    assert client.post(reverse("findings:release", args=[finding.reference])).status_code == 403


def test_lead_releases_through_the_page_with_a_chosen_date(case, evaluator, lead, client_for):
    finding = FindingFactory(assessment=case, author=evaluator, status=FindingStatus.IN_REVIEW)
    due = timezone.localdate() + timedelta(days=40)
    response = client_for(lead).post(
        reverse("findings:release", args=[finding.reference]), {"response_due": due.isoformat(), "confirmed": "yes"}
    )
    assert response.status_code == 302
    finding.refresh_from_db()
    assert finding.status == FindingStatus.RELEASED and timezone.localdate(finding.response_due_at) == due


def test_illegal_transition_shows_the_message(case, evaluator, client_for):
    finding = FindingFactory(assessment=case, author=evaluator, status=FindingStatus.IN_REVIEW)
    response = client_for(evaluator).post(
        reverse("findings:submit", args=[finding.reference]), {"confirmed": "yes"}, follow=True
    )
    assert "it can be submitted for review only when it is “draft”" in response.content.decode()


# --- Lists -------------------------------------------------------------------------------------


def test_list_filters_by_severity_domain_status_overdue_and_search(case, evaluator, lead, client_for):
    from django.utils import timezone

    FindingFactory(assessment=case, author=evaluator, title="Bio uplift", risk_domain="biological", severity="critical")
    FindingFactory(assessment=case, author=evaluator, title="Cyber nuisance", severity="low")
    released_finding(
        assessment=case,
        author=evaluator,
        released_by=lead,
        title="Late answer",
        response_due_at=timezone.now() - timezone.timedelta(days=1),
    )
    client = client_for(evaluator)

    def titles(query):
        return [f.title for f in client.get(reverse("findings:list") + "?" + query).context["findings"]]

    assert titles("severity=critical") == ["Bio uplift"]
    assert titles("risk_domain=biological") == ["Bio uplift"]
    assert titles("status=released") == ["Late answer"]
    assert titles("overdue=1") == ["Late answer"]
    assert titles("q=nuisance") == ["Cyber nuisance"]
    assert titles("sort=severity")[0] == "Bio uplift"


def test_list_query_count_stays_flat(case, evaluator, lead, client_for, django_assert_max_num_queries):
    for i in range(30):
        released_finding(assessment=case, author=evaluator, released_by=lead, title=f"F{i}")
    client = client_for(evaluator)
    client.get(reverse("findings:list"))  # warm the session and caches
    with django_assert_max_num_queries(BUDGETS["findings:list"]["evaluator"]):
        response = client.get(reverse("findings:list"))
    assert len(response.context["findings"]) == 25


def test_findings_panel_counts_by_severity_and_domain(case, evaluator, lead, django_assert_max_num_queries):
    for severity, domain in [("critical", "biological"), ("critical", "cyber"), ("low", "cyber")]:
        FindingFactory(assessment=case, author=evaluator, severity=severity, risk_domain=domain)
    request = RequestFactory().get("/")
    request.user = evaluator
    template = Template("{% load findings_tags %}{% findings_panel assessment %}")
    # The panel's one aggregate, its findings, and the evaluator's buttons each asking if they are on the case.
    with django_assert_max_num_queries(5):
        html = template.render(Context({"request": request, "assessment": case, "user": evaluator}))
    assert "Findings (3)" in html
    assert "Record a finding" in html
    summary = {label: n for _, label, n in _summary(evaluator, case).by_severity}
    assert summary["Critical"] == 2 and summary["Low"] == 1 and summary["High"] == 0
    assert {label: n for _, label, n in _summary(evaluator, case).by_domain} == {"Cyber": 2, "Biological": 1}


def _summary(user, case):
    from findings.selectors import assessment_finding_summary

    return assessment_finding_summary(user=user, assessment=case)


# --- The report ---------------------------------------------------------------------------------


@pytest.fixture
def report_case(case, evaluator, lead):
    FindingFactory(assessment=case, author=evaluator, title="Draft only", severity="medium")
    FindingFactory(assessment=case, author=evaluator, title="Under review", status=FindingStatus.IN_REVIEW)
    FindingFactory(assessment=case, author=evaluator, title="Withdrawn one", status=FindingStatus.WITHDRAWN)
    released_finding(assessment=case, author=evaluator, released_by=lead, title="Out in the open", severity="critical")
    released_finding(
        assessment=case,
        author=evaluator,
        released_by=lead,
        title="Answered one",
        status=FindingStatus.COMPANY_RESPONDED,
        company_response="Patched in 2.0.1",
    )
    return case


def test_full_report_has_every_finding_but_withdrawn(report_case, lead, client_for):
    report = client_for(lead).get(reverse("findings:report", args=[report_case.reference])).context["report"]
    assert sorted(f.title for f in report.findings) == [
        "Answered one",
        "Draft only",
        "Out in the open",
        "Under review",
    ]
    assert report.by_severity[0][1] == "Critical"


def test_company_report_has_exactly_the_released_findings(report_case, liaison_a, client_for):
    response = client_for(liaison_a).get(reverse("findings:report_company", args=[report_case.reference]))
    assert sorted(f.title for f in response.context["report"].findings) == ["Answered one", "Out in the open"]
    page = response.content.decode()
    assert "Patched in 2.0.1" in page
    assert "Draft only" not in page and "Under review" not in page and "Withdrawn one" not in page


def test_liaison_cannot_have_the_full_report(report_case, liaison_a, client_for):
    client = client_for(liaison_a)
    assert client.get(reverse("findings:report", args=[report_case.reference])).status_code == 403
    assert client.get(reverse("findings:report_pdf", args=[report_case.reference])).status_code == 403


def test_pdf_report_is_a_pdf_and_its_download_is_audited(report_case, lead, client_for):
    response = client_for(lead).get(reverse("findings:report_company_pdf", args=[report_case.reference]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert "attachment" in response["Content-Disposition"]
    event = AuditEvent.objects.get(action="export", case_ref=report_case.reference)
    assert "released-findings report (PDF)" in event.summary


def test_evidence_download_is_audited(case, evaluator, client_for):
    from findings.services import finding_create

    upload = SimpleUploadedFile("log.txt", b"run 1: refused\n", content_type="text/plain")
    finding = finding_create(
        actor=evaluator,
        assessment=case,
        title="t",
        risk_domain="cyber",
        severity="low",
        summary="s",
        evidence=[upload],
        attested=True,
    )
    evidence = finding.evidence.get()
    response = client_for(evaluator).get(reverse("findings:evidence_download", args=[evidence.public_id]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"run 1: refused\n"
    assert AuditEvent.objects.filter(action="download", case_ref=case.reference).exists()


def test_assessment_page_shows_the_findings_panel(case, evaluator, lead, liaison_a, client_for):
    FindingFactory(assessment=case, author=evaluator, title="Draft on the case page")
    released_finding(assessment=case, author=evaluator, released_by=lead, title="Released on the case page")
    url = reverse("assessments:detail", kwargs={"reference": case.reference})
    page = client_for(evaluator).get(url).content.decode()
    assert "Record a finding" in page and "Draft on the case page" in page
    page = client_for(liaison_a).get(url).content.decode()
    assert "Released on the case page" in page
    assert "Draft on the case page" not in page and "Record a finding" not in page
