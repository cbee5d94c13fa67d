"""Recommendations on a finding: proposed, issued with the release, followed to verification."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from core.errors import RuleViolation, TransitionNotAllowed
from findings import services
from findings.models import FindingEvidence, FindingStatus, Recommendation
from findings.queue import queue_items_for
from findings.states import RecommendationStatus
from findings.tests.factories import FindingFactory, recommendation_in, released_finding
from reminders.models import Deadline, Handoff

pytestmark = pytest.mark.django_db

API = "/api/v1/recommendations/"


def _deadline(recommendation):
    return Deadline.objects.filter(owner_id=recommendation.pk, owner_type__model="recommendation").first()


def _log():
    return SimpleUploadedFile("retrain-log.txt", b"run,refusals\n1,20/20\n", content_type="text/plain")


def test_a_recommendation_goes_from_proposal_to_verification(case, evaluator, lead, liaison_a, liaison_b):
    finding = FindingFactory(assessment=case, author=evaluator)
    recommendation = services.recommendation_add(
        actor=evaluator, finding=finding, kind="safeguard", text="Add a refusal safeguard for the CTF framing."
    )
    assert recommendation.status == RecommendationStatus.PROPOSED and _deadline(recommendation) is None
    services.finding_submit_for_review(actor=evaluator, finding=finding)
    services.finding_release(actor=lead, finding=finding)
    recommendation.refresh_from_db()
    assert recommendation.status == RecommendationStatus.ISSUED
    deadline = _deadline(recommendation)
    assert deadline.is_open and set(deadline.recipients.all()) == {liaison_a}
    assert deadline.title.startswith(f"Acknowledge recommendation {recommendation.reference}")

    with pytest.raises(PermissionDenied):
        services.recommendation_acknowledge(actor=evaluator, recommendation=recommendation)
    recommendation = services.recommendation_acknowledge(actor=liaison_a, recommendation=recommendation)
    implement_by = timezone.localdate() + timedelta(days=20)
    recommendation = services.recommendation_accept(
        actor=liaison_a, recommendation=recommendation, implement_by=implement_by
    )
    assert timezone.localdate(recommendation.due_at) == implement_by
    assert timezone.localdate(_deadline(recommendation).due_at) == implement_by
    recommendation = services.recommendation_implement(
        actor=liaison_a, recommendation=recommendation, note="Retrained.", files=[_log()], attested=True
    )
    assert FindingEvidence.objects.get(recommendation=recommendation).side == "company"
    deadline = _deadline(recommendation)
    assert set(deadline.recipients.all()) == {lead, evaluator} and deadline.title.startswith("Verify")
    told = Handoff.objects.filter(title__startswith="Recommendation reported implemented")
    assert set(told.values_list("recipient", flat=True)) == {lead.pk, evaluator.pk}

    with pytest.raises(PermissionDenied):
        services.recommendation_verify(actor=liaison_a, recommendation=recommendation)
    recommendation = services.recommendation_verify(actor=lead, recommendation=recommendation, note="Re-ran it.")
    assert recommendation.status == RecommendationStatus.VERIFIED and recommendation.due_at is None
    assert not _deadline(recommendation).is_open
    assert Handoff.objects.filter(recipient=liaison_a, title__startswith="Recommendation verified").exists()


def test_declining_needs_a_reason_and_ends_it(case, evaluator, lead, liaison_a):
    recommendation = recommendation_in(
        released_finding(assessment=case, author=evaluator, released_by=lead), "acknowledged"
    )
    with pytest.raises(RuleViolation) as refused:
        services.recommendation_decline(actor=liaison_a, recommendation=recommendation, reason=" ")
    assert list(refused.value.errors) == ["reason"]
    recommendation = services.recommendation_decline(
        actor=liaison_a, recommendation=recommendation, reason="No uplift."
    )
    assert recommendation.status == RecommendationStatus.DECLINED and recommendation.decline_reason == "No uplift."
    with pytest.raises(TransitionNotAllowed):
        services.recommendation_accept(actor=liaison_a, recommendation=recommendation)


def test_not_verified_goes_back_to_the_company_with_a_new_due_date(case, evaluator, lead, liaison_a):
    finding = released_finding(assessment=case, author=evaluator, released_by=lead)
    recommendation = recommendation_in(finding, "implemented")
    recommendation = services.recommendation_not_verify(actor=evaluator, recommendation=recommendation, note="Still.")
    assert recommendation.status == RecommendationStatus.NOT_VERIFIED
    assert set(_deadline(recommendation).recipients.all()) == {liaison_a}
    recommendation = services.recommendation_implement(actor=liaison_a, recommendation=recommendation, note="Fixed.")
    assert recommendation.status == RecommendationStatus.IMPLEMENTED


def test_recommendations_are_added_only_while_the_centre_works_on_the_finding(case, evaluator, lead, liaison_a):
    released = released_finding(assessment=case, author=evaluator, released_by=lead)
    with pytest.raises(TransitionNotAllowed):
        services.recommendation_add(actor=evaluator, finding=released, kind="safeguard", text="Late.")
    with pytest.raises(RuleViolation) as refused:
        services.recommendation_add(
            actor=evaluator, finding=FindingFactory(assessment=case, author=evaluator), kind="nope", text=""
        )
    assert set(refused.value.errors) == {"kind", "text"}


def test_the_company_never_sees_a_proposal_nor_another_company_s_recommendations(
    case, case_b, evaluator, evaluator_other, lead, lead2, liaison_a, liaison_b, client_for
):
    proposal = recommendation_in(FindingFactory(assessment=case, author=evaluator))
    issued = recommendation_in(released_finding(assessment=case, author=evaluator, released_by=lead), "issued")
    other = recommendation_in(released_finding(assessment=case_b, author=evaluator_other, released_by=lead2), "issued")
    listed = [r["reference"] for r in client_for(liaison_a).get(API).json()["results"]]
    assert listed == [issued.reference]
    assert client_for(liaison_a).get(f"{API}{proposal.public_id}/").status_code == 404
    client = client_for(liaison_b)
    for step in ("acknowledge", "accept", "decline", "implement"):
        page = reverse(f"findings:recommendation_{step}", args=[issued.public_id])
        assert client.get(page).status_code == 404, step
        assert client.post(f"{API}{issued.public_id}/{step}/", {"note": "x", "reason": "x"}).status_code == 404, step
    for step, path in (("verify", "verify"), ("not_verify", "not-verify")):
        page = reverse(f"findings:recommendation_{step}", args=[other.public_id])
        assert client_for(evaluator).get(page).status_code == 404
        assert client_for(evaluator).post(f"{API}{other.public_id}/{path}/", {"note": "x"}).status_code == 404
    client = client_for(liaison_b)  # the test client is one: log the other company's liaison in again
    assert client.get(f"/api/v1/findings/{issued.finding.reference}/recommendations/").status_code == 404
    assert client.get(reverse("findings:recommendation_add", args=[proposal.finding.reference])).status_code == 404


def test_the_forms_add_acknowledge_and_implement_with_evidence(case, evaluator, lead, liaison_a, client_for):
    finding = FindingFactory(assessment=case, author=evaluator)
    add = reverse("findings:recommendation_add", args=[finding.reference])
    kept = client_for(evaluator).post(add, {"kind": "release_delay", "text": ""})
    assert kept.status_code == 200 and 'value="release_delay" selected' in kept.content.decode()
    client_for(evaluator).post(add, {"kind": "release_delay", "text": "Hold the release until it is verified."})
    recommendation = Recommendation.objects.get(finding=finding)
    services.finding_submit_for_review(actor=evaluator, finding=finding)
    services.finding_release(actor=lead, finding=finding)

    company = client_for(liaison_a)
    detail = company.get(reverse("findings:detail", args=[finding.reference])).content.decode()
    assert "Hold the release until it is verified." in detail and "Awaiting acknowledgement" in detail
    assert "days left" in detail
    acknowledge = reverse("findings:recommendation_acknowledge", args=[recommendation.public_id])
    assert acknowledge in detail
    assert company.post(acknowledge, {"confirmed": "yes"}).status_code == 302
    accept = reverse("findings:recommendation_accept", args=[recommendation.public_id])
    assert company.post(accept, {"confirmed": "yes", "implement_by": ""}).status_code == 302
    implement = reverse("findings:recommendation_implement", args=[recommendation.public_id])
    refused = company.post(implement, {"confirmed": "yes", "note": ""})
    assert refused.status_code == 200 and "Nothing was changed" in refused.content.decode()
    unattested = company.post(implement, {"confirmed": "yes", "note": "Release moved.", "files": [_log()]})
    assert "Confirm that the files hold no classified information." in unattested.content.decode()
    done = company.post(
        implement,
        {"confirmed": "yes", "note": "Release moved.", "files": [_log()], "no_classified_information": "on"},
    )
    assert done.status_code == 302
    recommendation.refresh_from_db()
    assert recommendation.status == RecommendationStatus.IMPLEMENTED
    assert recommendation.evidence.get().original_name == "retrain-log.txt"


def test_the_api_adds_and_steps_with_field_errors_and_conflicts(case, evaluator, lead, liaison_a, client_for):
    finding = FindingFactory(assessment=case, author=evaluator)
    created = client_for(evaluator).post(
        f"/api/v1/findings/{finding.reference}/recommendations/",
        {"kind": "access_restriction", "text": "Restrict fine-tuning access."},
        content_type="application/json",
    )
    assert created.status_code == 201 and created.json()["status"] == "proposed"
    public_id = created.json()["id"]
    services.finding_submit_for_review(actor=evaluator, finding=finding)
    services.finding_release(actor=lead, finding=finding)
    company = client_for(liaison_a)
    assert company.post(f"{API}{public_id}/accept/").status_code == 409  # acknowledge first
    body = company.post(f"{API}{public_id}/acknowledge/").json()
    assert (body["status"], body["turn"], body["stage"]) == ("acknowledged", "company", "Accept or decline")
    refused = company.post(f"{API}{public_id}/decline/", {}, content_type="application/json")
    assert refused.status_code == 400 and list(refused.json()["errors"]) == ["reason"]
    declined = company.post(f"{API}{public_id}/decline/", {"reason": "Not needed."}, content_type="application/json")
    assert declined.json()["status"] == "declined" and declined.json()["turn"] is None


def test_the_admin_verifies_through_the_service(case, evaluator, lead, admin_user, client_for):
    recommendation = recommendation_in(
        released_finding(assessment=case, author=evaluator, released_by=lead), "implemented"
    )
    client = client_for(admin_user)
    change = client.get(reverse("admin:findings_recommendation_change", args=[recommendation.pk])).content.decode()
    assert 'name="status"' not in change
    client.post(
        reverse("admin:findings_recommendation_changelist"),
        {"action": "verify_selected", "_selected_action": [recommendation.pk], "note": "Checked in the lab."},
    )
    recommendation.refresh_from_db()
    assert recommendation.status == RecommendationStatus.VERIFIED and recommendation.verified_by == admin_user


def test_both_sides_find_their_stage_in_their_action_queue(case, evaluator, lead, liaison_a):
    finding = released_finding(assessment=case, author=evaluator, released_by=lead)
    to_answer = recommendation_in(finding, "issued")
    to_verify = recommendation_in(finding, "implemented")
    recommendation_in(finding, "verified")
    company = [i.reference for i in queue_items_for(actor=liaison_a, limit=20) if "recommendation" in i.kind]
    centre = [i.reference for i in queue_items_for(actor=lead, limit=20) if "recommendation" in i.kind]
    assert company == [to_answer.reference] and centre == [to_verify.reference]


def test_the_case_page_and_the_report_list_recommendations_with_their_state(
    case, evaluator, lead, liaison_a, client_for
):
    finding = released_finding(assessment=case, author=evaluator, released_by=lead, status=FindingStatus.RELEASED)
    recommendation_in(finding, "declined", decline_reason="Monitoring suffices.", text="Delay the release.")
    recommendation_in(finding, "accepted", due_at=timezone.now() + timedelta(days=12), text="Restrict access.")
    proposal = recommendation_in(FindingFactory(assessment=case, author=evaluator), text="Still a proposal.")
    client = client_for(liaison_a)
    page = client.get(reverse("assessments:detail", args=[case.reference])).content.decode()
    assert "Restrict access." in page and "Implement — the company" in page and "12 days left" in page
    assert proposal.text not in page
    report = client.get(reverse("findings:report_company", args=[case.reference])).content.decode()
    assert "Declined because: Monitoring suffices." in report and "Accepted, implement due" in report
    from findings.tests.test_reports import _pdf_text

    pdf = client.get(reverse("findings:report_company_pdf", args=[case.reference]))
    _, text = _pdf_text(b"".join(pdf.streaming_content) if pdf.streaming else pdf.content)
    assert "Restrict access." in text and "Declined" in text and proposal.text not in text
    full = client_for(lead).get(reverse("findings:report", args=[case.reference])).content.decode()
    assert "Still a proposal." in full and "Proposed" in full


def test_withdrawing_the_finding_stops_its_recommendations(case, evaluator, lead, liaison_a):
    finding = FindingFactory(assessment=case, author=evaluator)
    recommendation = services.recommendation_add(actor=evaluator, finding=finding, kind="other", text="Report back.")
    services.finding_submit_for_review(actor=evaluator, finding=finding)
    services.finding_release(actor=lead, finding=finding)
    assert _deadline(recommendation).is_open
    services.finding_withdraw(actor=lead, finding=finding, reason="Harness error.")
    assert not _deadline(recommendation).is_open
    assert [i for i in queue_items_for(actor=liaison_a, limit=20) if "recommendation" in i.kind] == []
    recommendation.refresh_from_db()
    with pytest.raises((PermissionDenied, TransitionNotAllowed)):
        services.recommendation_acknowledge(actor=liaison_a, recommendation=recommendation)
