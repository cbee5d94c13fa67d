"""The company's disposition: answering with one, the clock's "not answered", escalation, filters, timeline."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from core.errors import RuleViolation, TransitionNotAllowed
from findings import services
from findings.models import Finding, FindingStatus
from findings.states import FindingDisposition
from findings.tasks import mark_not_answered
from findings.tests.factories import released_finding
from reminders.models import Handoff

pytestmark = pytest.mark.django_db

API = "/api/v1/findings/"


def _released(case, evaluator, lead, **extra):
    return released_finding(assessment=case, author=evaluator, released_by=lead, **extra)


def _target(days: int = 30):
    return timezone.localdate() + timedelta(days=days)


# --- Answering with a disposition -----------------------------------------------------------


def test_will_mitigate_needs_a_plan_and_a_target_date(case, evaluator, lead, liaison_a):
    finding = _released(case, evaluator, lead)
    with pytest.raises(RuleViolation) as refused:
        services.finding_respond(actor=liaison_a, finding=finding, disposition="will_mitigate", response="We agree.")
    assert set(refused.value.errors) == {"planned_mitigation", "mitigation_target"}
    finding.refresh_from_db()
    assert finding.status == FindingStatus.RELEASED and finding.disposition == ""
    services.finding_respond(
        actor=liaison_a,
        finding=finding,
        disposition="will_mitigate",
        response="We agree.",
        planned_mitigation="Retrain the refusal head.",
        mitigation_target=_target(),
    )
    finding.refresh_from_db()
    assert finding.disposition == FindingDisposition.WILL_MITIGATE and finding.mitigation_target == _target()
    event = AuditEvent.objects.filter(object_id=finding.reference, action="transition").latest("occurred_at")
    assert event.summary == "The company responded: Accepted, will mitigate"


@pytest.mark.parametrize(
    "disposition", ["risk_accepted", "disputed", "needs_clarification"], ids=lambda d: d.replace("_", "-")
)
def test_each_other_disposition_needs_its_text_and_keeps_no_plan(case, evaluator, lead, liaison_a, disposition):
    finding = _released(case, evaluator, lead)
    with pytest.raises(RuleViolation) as refused:
        services.finding_respond(actor=liaison_a, finding=finding, disposition=disposition, response="  ")
    assert list(refused.value.errors) == ["company_response"]
    services.finding_respond(
        actor=liaison_a,
        finding=finding,
        disposition=disposition,
        response="Our reasons.",
        planned_mitigation="Ignored: no plan goes with this disposition.",
        mitigation_target=_target(),
    )
    finding.refresh_from_db()
    assert (finding.disposition, finding.planned_mitigation, finding.mitigation_target) == (disposition, "", None)


def test_the_company_cannot_choose_not_answered_or_an_unknown_disposition(case, evaluator, lead, liaison_a):
    finding = _released(case, evaluator, lead)
    for value in ("not_answered", "maybe", ""):
        with pytest.raises(RuleViolation) as refused:
            services.finding_respond(actor=liaison_a, finding=finding, disposition=value, response="x")
        assert list(refused.value.errors) == ["disposition"]


def test_the_form_keeps_what_was_typed_when_the_plan_is_missing(case, evaluator, lead, liaison_a, client_for):
    finding = _released(case, evaluator, lead)
    url = reverse("findings:respond", args=[finding.reference])
    response = client_for(liaison_a).post(url, {"disposition": "will_mitigate", "company_response": "We agree."})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Describe the planned mitigation." in page and "Give the date the mitigation will be in place." in page
    assert "We agree.</textarea>" in page
    assert re.search(r'<input type="radio" name="disposition" value="will_mitigate"[^>]* checked>', page)
    finding.refresh_from_db()
    assert finding.status == FindingStatus.RELEASED


def test_a_dispute_through_the_api_carries_evidence_through_the_files(case, evaluator, lead, liaison_a, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    finding = _released(case, evaluator, lead)
    log = SimpleUploadedFile("run-log.txt", b"attempts,successes\n20,1\n", content_type="text/plain")
    response = client_for(liaison_a).post(
        f"{API}{finding.reference}/respond/",
        {
            "disposition": "disputed",
            "company_response": "Our run gives 1 in 20.",
            "files": [log],
            "no_classified_information": True,
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["disposition"] == "disputed" and [f["name"] for f in body["files"]] == ["run-log.txt"]


def test_the_api_refuses_a_plan_without_a_date_with_field_errors(case, evaluator, lead, liaison_a, client_for):
    finding = _released(case, evaluator, lead)
    response = client_for(liaison_a).post(
        f"{API}{finding.reference}/respond/",
        {"disposition": "will_mitigate", "company_response": "Yes.", "planned_mitigation": "Retrain."},
        content_type="application/json",
    )
    assert response.status_code == 400 and list(response.json()["errors"]) == ["mitigation_target"]


# --- Not answered by the due date -------------------------------------------------------------


def test_the_clock_marks_a_missed_due_date_once_and_tells_the_team(case, evaluator, lead, liaison_a):
    finding = _released(case, evaluator, lead, response_due_at=timezone.now() + timedelta(days=2))
    answered = _released(case, evaluator, lead, status=FindingStatus.COMPANY_RESPONDED, disposition="disputed")
    assert services.findings_mark_not_answered() == 0
    with time_machine.travel(timezone.now() + timedelta(days=3), tick=False):
        assert mark_not_answered() == 1
        assert mark_not_answered() == 0  # idempotent: nothing is marked twice
    finding.refresh_from_db()
    answered.refresh_from_db()
    assert finding.disposition == FindingDisposition.NOT_ANSWERED and finding.not_answered_at is not None
    assert finding.status == FindingStatus.RELEASED  # the company may still answer
    assert answered.disposition == "disputed"
    event = AuditEvent.objects.get(object_id=finding.reference, summary__startswith="Not answered")
    assert event.actor is None
    told = set(
        Handoff.objects.filter(title__startswith="Not answered by the due date").values_list("recipient", flat=True)
    )
    assert set(told) == {lead.pk, evaluator.pk}


def test_a_late_answer_replaces_not_answered_and_says_it_was_late(case, evaluator, lead, liaison_a):
    finding = _released(case, evaluator, lead, response_due_at=timezone.now() + timedelta(hours=1))
    with time_machine.travel(timezone.now() + timedelta(days=1), tick=False):
        services.findings_mark_not_answered()
        services.finding_respond(actor=liaison_a, finding=finding, disposition="risk_accepted", response="No uplift.")
    finding.refresh_from_db()
    assert finding.disposition == FindingDisposition.RISK_ACCEPTED
    assert AuditEvent.objects.filter(summary="The company responded (after the due date): Accepted, risk accepted")


def test_asking_again_starts_a_new_round_without_a_disposition(case, evaluator, lead, liaison_a):
    finding = _released(case, evaluator, lead)
    services.finding_respond(actor=liaison_a, finding=finding, disposition="needs_clarification", response="Which?")
    services.finding_reopen(actor=lead, finding=finding, note="The default sandbox image.")
    finding.refresh_from_db()
    assert finding.status == FindingStatus.RELEASED and finding.disposition == ""
    assert finding.company_response == "Which?"  # the earlier answer stays on the record


# --- Escalation ---------------------------------------------------------------------------------


def _not_answered(case, evaluator, lead):
    return _released(
        case,
        evaluator,
        lead,
        disposition=FindingDisposition.NOT_ANSWERED,
        not_answered_at=timezone.now(),
        response_due_at=timezone.now() - timedelta(days=1),
    )


def test_a_lead_escalates_once_and_the_programme_is_told(case, evaluator, lead, admin_user):
    finding = _not_answered(case, evaluator, lead)
    with pytest.raises(PermissionDenied):
        services.finding_escalate(actor=evaluator, finding=finding, note="Please chase.")
    services.finding_escalate(actor=lead, finding=finding, note="Two reminders went unanswered.")
    finding.refresh_from_db()
    assert finding.escalated_by == lead and finding.escalation_note == "Two reminders went unanswered."
    assert Handoff.objects.filter(recipient=admin_user, title__startswith="Finding escalated").exists()
    with pytest.raises(TransitionNotAllowed, match="already escalated"):
        services.finding_escalate(actor=lead, finding=finding, note="Again.")


def test_an_accepted_answer_cannot_be_escalated(case, evaluator, lead):
    finding = _released(case, evaluator, lead, status=FindingStatus.COMPANY_RESPONDED, disposition="risk_accepted")
    with pytest.raises(TransitionNotAllowed):
        services.finding_escalate(actor=lead, finding=finding, note="x")


def test_escalation_through_the_page_the_api_and_the_admin(case, evaluator, lead, admin_user, client_for):
    by_page, by_api, by_admin = (_not_answered(case, evaluator, lead) for _ in range(3))
    detail = client_for(lead).get(reverse("findings:detail", args=[by_page.reference])).content.decode()
    assert reverse("findings:escalate", args=[by_page.reference]) in detail
    url = reverse("findings:escalate", args=[by_page.reference])
    kept = client_for(lead).post(url, {"confirmed": "yes", "note": ""})
    assert kept.status_code == 200 and by_page.reference in kept.content.decode()
    assert client_for(lead).post(url, {"confirmed": "yes", "note": "No answer."}).status_code == 302
    response = client_for(lead).post(
        f"{API}{by_api.reference}/escalate/", {"note": "No answer."}, content_type="application/json"
    )
    assert response.status_code == 200
    assert client_for(lead).post(f"{API}{by_api.reference}/escalate/", {"note": "x"}).status_code == 409
    client_for(admin_user).post(
        reverse("admin:findings_finding_changelist"),
        {"action": "escalate_selected", "_selected_action": [by_admin.pk], "note": "Programme follow-up."},
    )
    assert Finding.objects.filter(escalated_at__isnull=False).count() == 3


def test_another_company_gets_404_on_escalation(case, evaluator, lead, liaison_b, liaison_a, client_for):
    finding = _not_answered(case, evaluator, lead)
    assert client_for(liaison_b).get(reverse("findings:escalate", args=[finding.reference])).status_code == 404
    assert client_for(liaison_b).post(f"{API}{finding.reference}/escalate/", {"note": "x"}).status_code == 404
    assert client_for(liaison_a).post(f"{API}{finding.reference}/escalate/", {"note": "x"}).status_code == 403


# --- Lists, export, API filter, timeline, report ---------------------------------------------------


@pytest.fixture
def one_of_each(case, evaluator, lead):
    made = {
        value: _released(
            case, evaluator, lead, title=f"Finding {value}", status=FindingStatus.COMPANY_RESPONDED, disposition=value
        )
        for value in ("will_mitigate", "risk_accepted", "disputed", "needs_clarification")
    }
    made["not_answered"] = _released(case, evaluator, lead, title="Finding not_answered", disposition="not_answered")
    made["awaiting"] = _released(case, evaluator, lead, title="Finding awaiting")
    return made


def test_the_list_and_its_export_filter_by_disposition(one_of_each, lead, client_for):
    client = client_for(lead)
    for value, finding in one_of_each.items():
        page = client.get(reverse("findings:list"), {"disposition": value}).content.decode()
        shown = [f for f in one_of_each.values() if f.reference in page]
        assert shown == [finding], value
    export = b"".join(client.get(reverse("findings:export"), {"disposition": "disputed"}).streaming_content).decode()
    # The first and last lines are the handling-marking banner; the rows lie between them.
    rows = list(csv.DictReader(io.StringIO("\n".join(export.splitlines()[1:-1]))))
    assert [(r["Reference"], r["Company disposition"]) for r in rows] == [
        (one_of_each["disputed"].reference, "Disputed")
    ]


def test_the_api_filters_by_disposition_and_refuses_an_unknown_one(one_of_each, liaison_a, client_for):
    client = client_for(liaison_a)
    body = client.get(API, {"disposition": "not_answered"}).json()
    assert [f["reference"] for f in body["results"]] == [one_of_each["not_answered"].reference]
    response = client.get(API, {"disposition": "maybe"})
    assert response.status_code == 400 and "disposition" in response.json()["errors"]


def test_the_report_shows_and_filters_by_disposition(one_of_each, case, liaison_a, client_for):
    client = client_for(liaison_a)
    page = client.get(reverse("findings:report_company", args=[case.reference])).content.decode()
    assert "Company disposition:</strong> Disputed" in page and "Not answered by the due date" in page
    filtered = client.get(reverse("findings:report_company", args=[case.reference]), {"disposition": "disputed"})
    text = filtered.content.decode()
    assert one_of_each["disputed"].reference in text and one_of_each["risk_accepted"].reference not in text
    pdf = client.get(reverse("findings:report_company_pdf", args=[case.reference]), {"disposition": "disputed"})
    from findings.tests.test_reports import _pdf_text

    _, pdf_text = _pdf_text(b"".join(pdf.streaming_content) if pdf.streaming else pdf.content)
    assert "Company disposition: Disputed" in pdf_text and one_of_each["risk_accepted"].reference not in pdf_text


def test_the_timeline_shows_each_step_and_hides_escalation_from_the_company(
    case, evaluator, lead, liaison_a, client_for
):
    finding = services.finding_create(
        actor=evaluator, assessment=case, title="Timeline", risk_domain="cyber", severity="low", summary="S."
    )
    services.finding_submit_for_review(actor=evaluator, finding=finding)
    services.finding_release(actor=lead, finding=finding)
    services.finding_respond(actor=liaison_a, finding=finding, disposition="disputed", response="No.")
    services.finding_escalate(actor=lead, finding=finding, note="Internal reason.")
    url = reverse("findings:detail", args=[finding.reference])
    centre = client_for(lead).get(url).content.decode()
    company = client_for(liaison_a).get(url).content.decode()
    for text in ("Released to the company", "The company responded: Disputed"):
        assert text in centre and text in company
    assert "Escalated to the programme" in centre and "Internal reason." in centre
    assert "Escalated" not in company and "Internal reason." not in company and "Submitted for review" not in company


def test_the_migration_gives_earlier_answers_a_disposition(case, evaluator, lead):
    from importlib import import_module

    from django.apps import apps

    migrate = import_module("findings.migrations.0007_finding_dispositions").answered_findings_get_a_disposition
    responded = FindingStatus.COMPANY_RESPONDED
    with_plan = _released(case, evaluator, lead, status=responded, company_response="Yes.", planned_mitigation="v2")
    no_plan = _released(case, evaluator, lead, status=FindingStatus.RESOLVED, company_response="No uplift.")
    waiting = _released(case, evaluator, lead)

    migrate(apps, None)

    for finding in (with_plan, no_plan, waiting):
        finding.refresh_from_db()
    assert with_plan.disposition == FindingDisposition.WILL_MITIGATE
    assert no_plan.disposition == FindingDisposition.RISK_ACCEPTED
    assert waiting.disposition == "" and no_plan.company_response == "No uplift."


def test_a_finding_with_a_disposition_can_still_be_withdrawn(case, evaluator, lead):
    finding = _released(case, evaluator, lead, status=FindingStatus.COMPANY_RESPONDED, disposition="disputed")
    services.finding_withdraw(actor=lead, finding=finding, reason="Duplicate of an earlier finding.")
    finding.refresh_from_db()
    assert finding.status == FindingStatus.WITHDRAWN and finding.disposition == "disputed"
