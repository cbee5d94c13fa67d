"""The record pages read at a glance: days left beside due dates, the lifecycle step indicator,
confirmation before irreversible steps, the internal report's banner, a readable case history,
the company's response form, timeline types in words, and the missing-agreement warning.

Each test asserts what the person sees on the page (or what the database holds after a POST).
"""

from __future__ import annotations

import datetime
import re
from datetime import timedelta

import pytest
import time_machine
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from agreements.models import AgreementStatus
from agreements.tests.factories import AgreementFactory, NegotiationEntryFactory
from assessments.models import AssessmentStatus, TicketStatus
from assessments.tests.factories import AccessTicketFactory
from audit.models import AuditEvent
from audit.services import audit_record
from findings.models import FindingStatus
from findings.tests.factories import FindingFactory, released_finding

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    """The page's visible text, tags removed and spaces collapsed."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def _steps(response) -> list[tuple[str, str]]:
    """(label, state) of each step of the page's step indicator."""
    html = response.content.decode()
    found = []
    for classes, label in re.findall(
        r"<li class=\"usa-step-indicator__segment([^\"]*)\"[^>]*>\s*"
        r"<span class=\"usa-step-indicator__segment-label\">([^<]+)",
        html,
    ):
        state = "complete" if "--complete" in classes else "current" if "--current" in classes else "upcoming"
        found.append((label.strip(), state))
    return found


def _noon_in(days: int) -> datetime.datetime:
    """Noon, ``days`` calendar days from today on the portal's clock: days left are counted in
    calendar days, so a time of day near midnight would shift the count."""
    return timezone.make_aware(
        datetime.datetime.combine(timezone.localdate() + timedelta(days=days), datetime.time(12, 0))
    )


# --- Days left -------------------------------------------------------------------------------


def _due(value) -> str:
    return Template("{% load portal_dates %}{% due value %}").render(Context({"value": value}))


def test_due_says_days_left_due_today_and_overdue_by():
    today = timezone.localdate()
    assert "(5 days left)" in _due(today + timedelta(days=5))
    assert "(1 day left)" in _due(today + timedelta(days=1))
    assert "(due today)" in _due(today)
    late = _due(today - timedelta(days=3))
    assert "(overdue by 3 days)" in late and "portal-overdue" in late


def test_finding_page_shows_days_left_beside_the_response_due_date(case, lead, evaluator, lead2, client_for):
    due = _noon_in(10)
    finding = released_finding(assessment=case, author=evaluator, released_by=lead, response_due_at=due)
    text = _text(client_for(lead).get(reverse("findings:detail", args=[finding.reference])))
    assert "Company response due" in text and "(10 days left)" in text


def test_overdue_response_says_by_how_many_days(case, lead, evaluator, liaison_a, client_for):
    due = _noon_in(-2)
    finding = released_finding(assessment=case, author=evaluator, released_by=lead, response_due_at=due)
    text = _text(client_for(liaison_a).get(reverse("findings:detail", args=[finding.reference])))
    assert "(overdue by 2 days)" in text


def test_resolved_finding_shows_no_response_due_date(case, lead, evaluator, client_for):
    finding = released_finding(
        assessment=case, author=evaluator, released_by=lead, status=FindingStatus.RESOLVED, resolved_at=timezone.now()
    )
    text = _text(client_for(lead).get(reverse("findings:detail", args=[finding.reference])))
    assert "Company response due" not in text and "days left" not in text


def test_open_point_and_signature_due_dates_show_days_left(company_a, lead, client_for):
    from agreements.tests.factories import OpenPointFactory

    agreement = AgreementFactory(
        organisation=company_a,
        status=AgreementStatus.AWAITING_SIGNATURE,
        signature_due=timezone.localdate() + timedelta(days=4),
    )
    OpenPointFactory(agreement=agreement, owner=lead, due_date=timezone.localdate() - timedelta(days=1))
    text = _text(client_for(lead).get(reverse("agreements:detail", args=[agreement.reference])))
    assert "Both sides should sign by" in text and "(4 days left)" in text
    assert "(overdue by 1 day)" in text


# --- The lifecycle step indicator ---------------------------------------------------------------


def test_released_finding_shows_where_it_is_in_its_lifecycle(case, lead, evaluator, client_for):
    finding = released_finding(assessment=case, author=evaluator, released_by=lead)
    steps = _steps(client_for(lead).get(reverse("findings:detail", args=[finding.reference])))
    assert steps == [
        ("Draft", "complete"),
        ("In review", "complete"),
        ("Released to company", "current"),
        ("Company responded", "upcoming"),
        ("Resolved", "upcoming"),
    ]


def test_withdrawn_finding_shows_it_ended_off_the_path_after_release(case, lead, evaluator, client_for):
    finding = released_finding(assessment=case, author=evaluator, released_by=lead, status=FindingStatus.WITHDRAWN)
    response = client_for(lead).get(reverse("findings:detail", args=[finding.reference]))
    assert _steps(response) == [
        ("Draft", "complete"),
        ("In review", "complete"),
        ("Released to company", "complete"),
        ("Withdrawn", "current"),
    ]
    assert "Step 4 of 4" in _text(response) and "(ended here)" in _text(response)


def test_ticket_and_agreement_pages_show_their_lifecycle(case, evaluator, lead, client_for):
    ticket = AccessTicketFactory(assessment=case, requested_by=evaluator)
    ticket_steps = _steps(client_for(lead).get(reverse("assessments:ticket_detail", args=[ticket.reference])))
    assert ticket_steps[0] == ("Requested", "current") and [s[0] for s in ticket_steps] == [
        "Requested",
        "Approved",
        "Provisioned",
        "Active",
        "Expired",
    ]
    agreement = case.submission.agreement
    agreement_steps = _steps(client_for(lead).get(reverse("agreements:detail", args=[agreement.reference])))
    assert ("Active", "current") in agreement_steps and agreement_steps[0] == ("Draft", "complete")


def test_rejected_request_ends_after_requested(case, evaluator, lead, client_for):
    ticket = AccessTicketFactory(
        assessment=case,
        requested_by=evaluator,
        status=TicketStatus.REJECTED,
        decided_at=timezone.now(),
        decided_by=lead,
        ended_at=timezone.now(),
        end_reason="Not needed.",
    )
    steps = _steps(client_for(lead).get(reverse("assessments:ticket_detail", args=[ticket.reference])))
    assert steps == [("Requested", "complete"), ("Rejected", "current")]


def test_approved_ticket_shows_days_left_until_access_ends(case, evaluator, lead, client_for):
    now = timezone.now()
    ticket = AccessTicketFactory(
        assessment=case,
        requested_by=evaluator,
        status=TicketStatus.APPROVED,
        starts_at=now,
        ends_at=_noon_in(3),
        decided_at=now,
        decided_by=lead,
    )
    response = client_for(lead).get(reverse("assessments:ticket_detail", args=[ticket.reference]))
    assert "(3 days left)" in _text(response)
    assert ("Approved", "current") in _steps(response)


# --- Irreversible steps ask first ----------------------------------------------------------------


def test_move_to_reporting_asks_first_and_says_what_follows(case, lead, client_for):
    client = client_for(lead)
    detail = client.get(reverse("assessments:detail", args=[case.reference])).content.decode()
    url = reverse("assessments:advance", args=[case.reference])
    assert f'href="{url}"' in detail  # a link to the confirmation page, not a one-click form
    page = client.get(url)
    text = _text(page)
    assert page.status_code == 200
    assert "Move to reporting" in text and "cannot be undone" in text and "Testing is over" in text
    assert case.__class__.objects.get(pk=case.pk).status == AssessmentStatus.IN_PROGRESS


def test_a_post_without_the_confirmation_changes_nothing(case, lead, client_for):
    client = client_for(lead)
    events = AuditEvent.objects.count()
    response = client.post(
        reverse("assessments:advance", args=[case.reference]), {"to_status": AssessmentStatus.REPORTING}
    )
    assert response.status_code == 200 and "What follows" in _text(response)
    case.refresh_from_db()
    assert case.status == AssessmentStatus.IN_PROGRESS
    assert AuditEvent.objects.count() == events


def test_the_confirmed_post_moves_the_case(case, lead, client_for):
    response = client_for(lead).post(
        reverse("assessments:advance", args=[case.reference]),
        {"to_status": AssessmentStatus.REPORTING, "confirmed": "yes"},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == AssessmentStatus.REPORTING


def test_terminating_an_agreement_names_the_assessments_in_progress(case, admin_user, client_for):
    agreement = case.submission.agreement
    url = reverse("agreements:transition", args=[agreement.reference, "terminate"])
    text = _text(client_for(admin_user).get(url))
    assert "1 assessment in progress under this agreement" in text
    assert case.reference in text and "Alpha-Frontier 2.0, in progress" in text
    assert "They are not ended by this" in text


def test_terminate_without_the_confirmation_does_nothing_then_with_it_ends(case, admin_user, client_for):
    agreement = case.submission.agreement
    url = reverse("agreements:transition", args=[agreement.reference, "terminate"])
    client = client_for(admin_user)
    response = client.post(url, {"reason": "Breach of the access terms."})
    assert response.status_code == 200
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.ACTIVE
    assert client.post(url, {"reason": "Breach of the access terms.", "confirmed": "yes"}).status_code == 302
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.TERMINATED


def test_mark_as_expired_is_not_offered_while_the_agreement_runs(agreement_a, lead, client_for):
    assert agreement_a.expiry_date > timezone.localdate() + timedelta(days=300)
    client = client_for(lead)
    text = _text(client.get(reverse("agreements:detail", args=[agreement_a.reference])))
    assert "Mark as expired" not in text
    page = _text(client.get(reverse("agreements:transition", args=[agreement_a.reference, "expire"])))
    assert "This agreement runs until" in page and "days left" in page and "terminate it instead" in page


def test_mark_as_expired_is_offered_once_the_expiry_date_has_passed(company_a, lead, client_for):
    agreement = AgreementFactory(
        organisation=company_a,
        effective_date=timezone.localdate() - timedelta(days=400),
        expiry_date=timezone.localdate() - timedelta(days=1),
    )
    text = _text(client_for(lead).get(reverse("agreements:detail", args=[agreement.reference])))
    assert "Mark as expired" in text


def test_finding_moves_need_their_confirmation_page(case, evaluator, client_for):
    finding = FindingFactory(assessment=case, author=evaluator)
    client = client_for(evaluator)
    url = reverse("findings:submit", args=[finding.reference])
    assert f'href="{url}"' in client.get(reverse("findings:detail", args=[finding.reference])).content.decode()
    assert client.post(url).status_code == 200
    finding.refresh_from_db()
    assert finding.status == FindingStatus.DRAFT
    assert client.post(url, {"confirmed": "yes"}).status_code == 302
    finding.refresh_from_db()
    assert finding.status == FindingStatus.IN_REVIEW


# --- The full report ---------------------------------------------------------------------------


def test_full_report_says_it_is_internal_and_the_company_report_does_not(case, lead, evaluator, client_for):
    FindingFactory(assessment=case, author=evaluator, status=FindingStatus.IN_REVIEW)
    client = client_for(lead)
    full = _text(client.get(reverse("findings:report", args=[case.reference])))
    assert "Internal: not for the company" in full and "not been released" in full
    company = _text(client.get(reverse("findings:report_company", args=[case.reference])))
    assert "Internal: not for the company" not in company


# --- The case history ----------------------------------------------------------------------------


def _report_views(case) -> int:
    return AuditEvent.objects.filter(case_ref=case.reference, action="export", summary__startswith="Viewed").count()


def test_report_views_are_recorded_once_per_person_per_day(case, lead, evaluator, client_for):
    start = timezone.make_aware(datetime.datetime.combine(timezone.localdate(), datetime.time(9, 0)))
    url = reverse("findings:report", args=[case.reference])
    with time_machine.travel(start, tick=False):
        for _ in range(3):
            assert client_for(lead).get(url).status_code == 200
        client_for(lead).get(url + "?page=2")
        assert _report_views(case) == 1
        client_for(evaluator).get(url)
        assert _report_views(case) == 2  # another person: recorded
        client_for(lead).get(reverse("findings:report_company", args=[case.reference]))
        assert _report_views(case) == 3  # the other variant: recorded
    with time_machine.travel(start + timedelta(days=1), tick=False):
        client_for(lead).get(url)
        assert _report_views(case) == 4  # the next day: recorded again
    history = _text(client_for(lead).get(reverse("assessments:detail", args=[case.reference])))
    assert history.count("Viewed the full report (HTML)") == 3


def test_history_shows_names_and_pages(case, lead, client_for):
    from assessments.templatetags.assessment_tags import HISTORY_PAGE_SIZE

    # With what the case recorded when it was made, exactly two pages of events.
    notes = 2 * HISTORY_PAGE_SIZE - AuditEvent.objects.filter(case_ref=case.reference).count()
    assert notes > HISTORY_PAGE_SIZE
    for n in range(notes):
        audit_record(actor=lead, action="change", obj=case, case_ref=case.reference, summary=f"Plan note {n:02d}")
    client = client_for(lead)
    url = reverse("assessments:detail", args=[case.reference])
    first = _text(client.get(url))
    last = notes - 1
    assert lead.full_name in first and lead.email not in first.split("History", 1)[1]
    assert "Page 1 of 2" in first and f"Plan note {last:02d}" in first and "Plan note 00" not in first
    second = _text(client.get(url + "?history_page=2"))
    assert "Page 2 of 2" in second and "Plan note 00" in second and f"Plan note {last:02d}" not in second


# --- The company's response form ---------------------------------------------------------------------


def test_response_form_shows_the_finding_days_left_and_that_it_is_final(case, lead, evaluator, liaison_a, client_for):
    finding = released_finding(
        assessment=case,
        author=evaluator,
        released_by=lead,
        response_due_at=_noon_in(6),
        title="Exploit code in role-play",
    )
    text = _text(client_for(liaison_a).get(reverse("findings:respond", args=[finding.reference])))
    assert "The finding you are answering" in text and "Exploit code in role-play" in text
    assert "role-play framing" in text  # its summary
    assert "(6 days left)" in text
    assert "cannot be changed" in text


def test_a_failed_response_puts_focus_on_the_error_summary(case, lead, evaluator, liaison_a, client_for):
    finding = released_finding(assessment=case, author=evaluator, released_by=lead)
    response = client_for(liaison_a).post(
        reverse("findings:respond", args=[finding.reference]),
        {"disposition": "risk_accepted", "company_response": "", "planned_mitigation": "Soon."},
    )
    html = response.content.decode()
    summary = re.search(r'<div class="usa-alert usa-alert--error portal-error-summary"[^>]*>', html)
    assert summary and 'tabindex="-1"' in summary.group(0) and "autofocus" in summary.group(0)
    assert 'href="#id_company_response"' in html and "Your response was not sent" in _text(response)
    finding.refresh_from_db()
    assert finding.status == FindingStatus.RELEASED


# --- Timeline types in words ---------------------------------------------------------------------------


def test_timeline_entries_name_their_type(case, lead, negotiation, client_for):
    case_text = _text(client_for(lead).get(reverse("assessments:detail", args=[case.reference])))
    assert "Window Access window opens" in case_text and "Today Today" in case_text
    NegotiationEntryFactory(agreement=negotiation, author=lead)
    html = client_for(lead).get(reverse("agreements:detail", args=[negotiation.reference])).content.decode()
    assert re.search(r'<span class="usa-tag portal-kind-tag">(Proposal|Counter-proposal|Comment)</span>', html)


def test_a_big_case_shows_the_timeline_nearest_today_and_its_newest_tickets(case, lead, evaluator, client_for):
    """A case with many tickets and findings shows the entries nearest today and its ten newest
    tickets, says how many it leaves out, and shows everything on request."""
    from assessments.models import AccessTicket
    from assessments.selectors import TIMELINE_AROUND_NOW
    from assessments.views import CASE_PAGE_TICKETS

    start = timezone.now() - timedelta(days=60)
    for n in range(14):
        ticket = AccessTicketFactory(assessment=case, requested_by=lead)
        AccessTicket.objects.filter(pk=ticket.pk).update(requested_at=start + timedelta(days=n))
    tickets = list(AccessTicket.objects.filter(assessment=case).order_by("requested_at"))
    for n in range(12):
        finding = FindingFactory(assessment=case, author=evaluator, title=f"Finding number {n:02d}")
        type(finding).objects.filter(pk=finding.pk).update(created_at=start + timedelta(days=20 + n))
    url = reverse("assessments:detail", args=[case.reference])

    text = _text(client_for(lead).get(url))
    # The nearest past entries are the newest findings; the oldest tickets' requests are left out.
    assert f"Finding: Finding number {11:02d}" in text
    assert f"Finding: Finding number {11 - TIMELINE_AROUND_NOW:02d}" not in text
    assert f"{tickets[0].reference} requested" not in text
    hidden = 14 + 12 - TIMELINE_AROUND_NOW
    assert f"{hidden} earlier events not shown. Show the whole timeline" in text
    assert "Access window opens" in text and "Access window closes" in text and "Today Today" in text
    # The ticket table: the newest ten, and a link to all of them.
    assert tickets[-1].reference in text and f"{tickets[0].reference} " not in text.replace(" requested", "")
    see_all = f"See all 14 model-access tickets of {case.reference} (the {CASE_PAGE_TICKETS} newest are shown here)"
    assert see_all in text

    whole = _text(client_for(lead).get(url + "?timeline=all"))
    assert f"{tickets[0].reference} requested" in whole and "Finding: Finding number 00" in whole
    assert "earlier events not shown" not in whole and "Show only the events nearest today" in whole


def test_a_case_with_more_findings_than_its_timeline_dates_says_so_and_links_to_them(
    case, lead, evaluator, client_for, monkeypatch
):
    """The timeline dates a case's newest findings only: the page says so, whole timeline or not,
    and links to the findings list of the case, rather than calling a part the whole."""
    from urllib.parse import urlencode

    from findings import selectors as finding_selectors

    monkeypatch.setattr(finding_selectors, "TIMELINE_FINDINGS", 3)
    start = timezone.now() - timedelta(days=10)
    for n in range(4):
        finding = FindingFactory(assessment=case, author=evaluator, title=f"Finding number {n:02d}")
        type(finding).objects.filter(pk=finding.pk).update(created_at=start + timedelta(days=n))
    url = reverse("assessments:detail", args=[case.reference])
    note = f"The timeline dates the newest 3 findings of the case. See all findings of {case.reference}"
    link = reverse("findings:list") + "?" + urlencode({"assessment": case.reference})
    for page in (client_for(lead).get(url), client_for(lead).get(url + "?timeline=all")):
        text = _text(page)
        assert note in text
        assert f'href="{link}"' in page.content.decode().replace("&amp;", "&")
        assert "Finding: Finding number 03" in text and "Finding: Finding number 00" not in text
    # Exactly as many as it dates: nothing is left out, nothing to say.
    type(finding).objects.filter(assessment=case, title="Finding number 00").delete()
    assert "The timeline dates the newest" not in _text(client_for(lead).get(url))


def test_a_small_case_shows_its_whole_timeline_without_a_note(case, lead, client_for):
    ticket = AccessTicketFactory(assessment=case, requested_by=lead)
    text = _text(client_for(lead).get(reverse("assessments:detail", args=[case.reference])))
    assert f"{ticket.reference} requested" in text
    assert "not shown" not in text and "See all" not in text.split("Model access")[1].split("Findings")[0]


# --- A liaison without an active agreement --------------------------------------------------------------


def test_liaison_without_an_active_agreement_is_told_before_the_form(company_a, liaison_a, client_for):
    AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)
    response = client_for(liaison_a).get(reverse("assessments:submission_create"))
    text = _text(response)
    assert "Your company has no active agreement" in text and "See your company's agreements" in text
    assert "Submit model" not in text  # no form to fill in vain


def test_liaison_with_an_active_agreement_sees_the_form_without_the_warning(agreement_a, liaison_a, client_for):
    text = _text(client_for(liaison_a).get(reverse("assessments:submission_create")))
    assert "Submit model" in text and "no active agreement" not in text


def test_another_companys_liaison_gets_404_on_the_confirmation_pages(case, liaison_b, client_for):
    client = client_for(liaison_b)
    assert client.get(reverse("assessments:advance", args=[case.reference])).status_code == 404
    agreement = case.submission.agreement
    assert client.get(reverse("agreements:transition", args=[agreement.reference, "terminate"])).status_code == 404


def test_the_findings_list_shows_days_left_only_while_an_answer_is_awaited(case, evaluator, lead, client_for):
    from django.urls import reverse

    from findings.models import Finding, FindingStatus
    from findings.tests.factories import released_finding

    waiting = released_finding(assessment=case, author=evaluator, released_by=lead, title="Still waiting")
    answered = released_finding(assessment=case, author=evaluator, released_by=lead, title="Already resolved")
    Finding.objects.filter(pk=answered.pk).update(status=FindingStatus.RESOLVED)
    page = client_for(lead).get(reverse("findings:list"))
    rows = {
        title: row
        for row in page.text.split("<tr")[1:]
        for title in ("Still waiting", "Already resolved")
        if title in row
    }
    assert "days left" in rows["Still waiting"] and waiting.response_due_at is not None
    assert "days left" not in rows["Already resolved"] and "—" in rows["Already resolved"]
