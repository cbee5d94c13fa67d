"""Handling markings and the unclassified attestation of imported Inspect logs (evaluation runs).

A log is evidence like any other file: the uploader confirms it holds no classified information,
it takes its agreement's default marking, the case team may raise it, a lead on the case or an admin
may lower it with a reason, and its pages carry the banner. Through the page, the API and the admin.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from core.markings import UNCLASSIFIED_STATEMENT, HandlingMarking
from findings.evaluation_models import EvaluationRun
from findings.tests.factories import FindingFactory
from findings.tests.inspect_logs import MOCK_NOTE, stored_run, upload

pytestmark = pytest.mark.django_db


def _marking(code: str) -> HandlingMarking:
    return HandlingMarking.objects.get(code=code)


def _banners(html: str, code: str) -> int:
    return html.count(f'data-marking="{code}"')


def _agreement_marks(case, code: str) -> None:
    agreement = case.submission.agreement
    agreement.default_marking = code
    agreement.save(update_fields=["default_marking"])


def _cui_run(case, evaluator) -> EvaluationRun:
    run = stored_run(assessment=case, actor=evaluator)
    EvaluationRun.objects.filter(pk=run.pk).update(marking=_marking("CUI"))
    run.refresh_from_db()
    return run


# --- The attestation and the default marking, on upload ------------------------------------------


def test_the_import_page_refuses_a_log_without_the_confirmation_and_keeps_the_note(
    case, evaluator, client_for, inspect_log_files
):
    url = reverse("findings:run_list", args=[case.reference])
    refused = client_for(evaluator).post(url, {"file": upload(inspect_log_files.eval), "model_note": MOCK_NOTE})
    assert refused.status_code == 400
    assert "Confirm that the file holds no classified information." in refused.text
    assert MOCK_NOTE in refused.text  # what was typed is kept
    assert not EvaluationRun.objects.exists()


def test_a_log_imported_through_the_page_records_the_attestation_and_the_agreements_marking(
    case, evaluator, client_for, inspect_log_files
):
    _agreement_marks(case, "CUI")
    response = client_for(evaluator).post(
        reverse("findings:run_list", args=[case.reference]),
        {"file": upload(inspect_log_files.eval), "model_note": MOCK_NOTE, "no_classified_information": "on"},
    )
    assert response.status_code == 302
    run = EvaluationRun.objects.get()
    assert run.marking.code == "CUI"
    assert run.attested_by == evaluator and run.attested_at is not None and run.attestation == UNCLASSIFIED_STATEMENT
    page = client_for(evaluator).get(response["Location"])
    assert _banners(page.text, "CUI") == 2  # top and bottom
    assert f"Confirmed by {evaluator.full_name}" in page.text
    assert "I confirm this file holds no classified information." in page.text


def test_without_a_term_a_log_takes_the_programme_default(case, evaluator, api, inspect_log_files):
    response = api(evaluator).post(
        reverse("evaluation-run-list"),
        {
            "assessment": case.reference,
            "file": upload(inspect_log_files.json),
            "model_note": MOCK_NOTE,
            "no_classified_information": "true",
        },
        format="multipart",
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["marking"]["code"] == "CBI" and body["attestation"] == UNCLASSIFIED_STATEMENT
    assert EvaluationRun.objects.get().marking == HandlingMarking.objects.get(is_default=True)


def test_the_api_refuses_a_log_without_or_with_a_false_confirmation(case, evaluator, api, inspect_log_files):
    url = reverse("evaluation-run-list")
    body = {"assessment": case.reference, "file": upload(inspect_log_files.json), "model_note": MOCK_NOTE}
    missing = api(evaluator).post(url, body, format="multipart")
    assert missing.status_code == 400 and "no_classified_information" in missing.json()["errors"]
    body["file"] = upload(inspect_log_files.json)
    false = api(evaluator).post(url, {**body, "no_classified_information": "false"}, format="multipart")
    assert false.status_code == 400
    assert false.json()["errors"]["no_classified_information"] == [
        "Confirm that the file holds no classified information."
    ]
    assert not EvaluationRun.objects.exists()


# --- Raising and lowering ---------------------------------------------------------------------------


def test_an_evaluator_raises_a_runs_marking_through_the_page_and_it_is_audited(case, evaluator, client_for):
    run = stored_run(assessment=case, actor=evaluator)
    url = reverse("findings:run_marking", args=[run.public_id])
    page = client_for(evaluator).get(url)
    assert page.status_code == 200 and _banners(page.text, "CBI") == 2 and run.original_name in page.text
    response = client_for(evaluator).post(url, {"marking": "CUI"})
    assert response["Location"] == reverse("findings:run_detail", args=[run.public_id])
    run.refresh_from_db()
    assert run.marking.code == "CUI"
    event = AuditEvent.objects.get(summary__startswith="Raised the handling marking")
    assert event.actor == evaluator and event.changes == {"marking": {"from": "CBI", "to": "CUI"}}
    assert event.case_ref == case.reference and event.object_id == str(run.public_id)


def test_an_evaluator_may_not_lower_a_runs_marking(case, evaluator, client_for, api):
    run = _cui_run(case, evaluator)
    page = client_for(evaluator).post(
        reverse("findings:run_marking", args=[run.public_id]), {"marking": "PUBLIC", "reason": "Harmless."}
    )
    assert page.status_code == 403
    by_api = api(evaluator).post(
        f"/api/v1/evaluation-runs/{run.public_id}/marking/", {"marking": "PUBLIC", "reason": "Harmless."}, format="json"
    )
    assert by_api.status_code == 403
    run.refresh_from_db()
    assert run.marking.code == "CUI"
    assert not AuditEvent.objects.filter(summary__startswith="Lowered").exists()


def test_the_lead_lowers_a_runs_marking_with_a_reason_and_it_is_audited(case, evaluator, lead, client_for):
    run = _cui_run(case, evaluator)
    url = reverse("findings:run_marking", args=[run.public_id])
    no_reason = client_for(lead).post(url, {"marking": "PUBLIC"})
    assert no_reason.status_code == 200 and "A reason is required to lower a marking." in no_reason.text
    run.refresh_from_db()
    assert run.marking.code == "CUI"
    done = client_for(lead).post(url, {"marking": "PUBLIC", "reason": "Synthetic prompts only."})
    assert done.status_code == 302
    run.refresh_from_db()
    assert run.marking.code == "PUBLIC"
    event = AuditEvent.objects.get(summary__startswith="Lowered the handling marking")
    assert event.actor == lead and "Synthetic prompts only." in event.summary and event.case_ref == case.reference


def test_through_the_api_the_lead_lowers_and_the_run_shows_its_marking(case, evaluator, lead, api):
    run = _cui_run(case, evaluator)
    url = f"/api/v1/evaluation-runs/{run.public_id}/marking/"
    no_reason = api(lead).post(url, {"marking": "PUBLIC"}, format="json")
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["errors"]
    unknown = api(lead).post(url, {"marking": "TOP"}, format="json")
    assert unknown.status_code == 400 and "marking" in unknown.json()["errors"]
    done = api(lead).post(url, {"marking": "PUBLIC", "reason": "Synthetic prompts only."}, format="json")
    assert done.status_code == 200 and done.json()["marking"]["code"] == "PUBLIC"
    detail = api(lead).get(reverse("evaluation-run-detail", args=[run.public_id])).json()
    assert detail["marking"]["code"] == "PUBLIC"
    assert AuditEvent.objects.filter(actor=lead, summary__startswith="Lowered the handling marking").exists()


def test_another_company_and_an_evaluator_off_the_case_get_404_on_the_marking_page_and_api(
    case, evaluator, evaluator_other, liaison_a, liaison_b, client_for, api
):
    run = stored_run(assessment=case, actor=evaluator)
    for user in (liaison_b, liaison_a, evaluator_other):
        page = client_for(user).get(reverse("findings:run_marking", args=[run.public_id]))
        assert page.status_code == 404
        posted = client_for(user).post(reverse("findings:run_marking", args=[run.public_id]), {"marking": "CUI"})
        assert posted.status_code == 404
        by_api = api(user).post(f"/api/v1/evaluation-runs/{run.public_id}/marking/", {"marking": "CUI"}, format="json")
        assert by_api.status_code == 404
    run.refresh_from_db()
    assert run.marking.code == "CBI"


# --- The banner ----------------------------------------------------------------------------------------


def test_the_runs_list_carries_the_most_restrictive_marking_of_its_runs(case, evaluator, client_for):
    stored_run(assessment=case, actor=evaluator)
    listing = client_for(evaluator).get(reverse("findings:run_list", args=[case.reference]))
    assert _banners(listing.text, "CBI") == 2
    _cui_run(case, evaluator)
    listing = client_for(evaluator).get(reverse("findings:run_list", args=[case.reference]))
    assert _banners(listing.text, "CUI") == 2 and _banners(listing.text, "CBI") == 0


def test_a_finding_citing_a_more_restricted_run_carries_the_runs_marking(case, evaluator, client_for):
    run = _cui_run(case, evaluator)
    finding = FindingFactory(
        assessment=case,
        author=evaluator,
        evaluation_run=run,
        cited_samples=[run.sample_ids[0]],
        marking=_marking("CBI"),
    )
    page = client_for(evaluator).get(reverse("findings:detail", args=[finding.reference]))
    assert page.status_code == 200
    assert _banners(page.text, "CUI") == 2 and _banners(page.text, "CBI") == 0


# --- The admin -----------------------------------------------------------------------------------------


def test_the_admin_shows_a_runs_marking_read_only_and_its_action_goes_through_the_service(
    case, evaluator, admin_user, client_for
):
    run = stored_run(assessment=case, actor=evaluator)
    client = client_for(admin_user)
    page = client.get(reverse("admin:findings_evaluationrun_change", args=[run.pk]))
    assert page.status_code == 200 and 'name="marking"' not in page.text
    changelist = reverse("admin:findings_evaluationrun_changelist")
    client.post(changelist, {"action": "set_marking_selected", "_selected_action": [run.pk], "marking": "PUBLIC"})
    run.refresh_from_db()
    assert run.marking.code == "CBI"  # lowering without a reason is refused
    client.post(
        changelist,
        {"action": "set_marking_selected", "_selected_action": [run.pk], "marking": "PUBLIC", "note": "Agreed."},
    )
    run.refresh_from_db()
    assert run.marking.code == "PUBLIC"
    assert AuditEvent.objects.filter(actor=admin_user, summary__startswith="Lowered the handling marking").exists()
