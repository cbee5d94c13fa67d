"""Handling markings of findings, their files and comments, and the reports and exports that carry them.

Through the form, the API and the admin: what each person sees (the banner at the top and bottom of
the page, PDF and email), who may raise or lower a marking, and the unclassified attestation kept
with every file a person attaches.
"""

from __future__ import annotations

import io

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AuditEvent
from core.markings import UNCLASSIFIED_STATEMENT, HandlingMarking
from findings import services
from findings.models import Finding, FindingComment, FindingEvidence, FindingStatus, ReportJob, ReportKind
from findings.tests.factories import FindingFactory, released_finding

pytestmark = pytest.mark.django_db


def _marking(code: str) -> HandlingMarking:
    return HandlingMarking.objects.get(code=code)


def _banners(html: str, code: str) -> int:
    return html.count(f'data-marking="{code}"')


def _form(**extra) -> dict:
    return {
        "title": "Exploit code on request",
        "risk_domain": "cyber",
        "severity": "high",
        "summary": "Writes working exploit code when asked in a role-play framing.",
        **extra,
    }


def _txt(name="transcript.txt") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"user: hello\nmodel: hi\n", content_type="text/plain")


# --- The default, from the agreement's trade-secret terms --------------------------------------


def test_a_new_finding_takes_the_marking_its_agreement_gives_the_companys_material(case, evaluator):
    agreement = case.submission.agreement
    agreement.default_marking = "CUI"
    agreement.save(update_fields=["default_marking"])
    finding = services.finding_create(
        actor=evaluator, assessment=case, title="t", risk_domain="cyber", severity="low", summary="s"
    )
    assert finding.marking.code == "CUI"
    comment = services.finding_comment_add(actor=evaluator, finding=finding, body="Noted.", internal=True)
    assert comment.marking.code == "CUI"


def test_without_a_term_the_programme_default_applies(case, evaluator):
    finding = services.finding_create(
        actor=evaluator, assessment=case, title="t", risk_domain="cyber", severity="low", summary="s"
    )
    assert finding.marking == HandlingMarking.objects.get(is_default=True)
    assert finding.marking.code == "CBI"


# --- The unclassified attestation -----------------------------------------------------------


def test_attaching_evidence_without_the_unclassified_confirmation_is_refused_and_keeps_what_was_typed(
    case, evaluator, client_for
):
    response = client_for(evaluator).post(reverse("findings:create", args=[case.reference]), _form(evidence=[_txt()]))
    assert response.status_code == 200
    assert "Confirm that the files hold no classified information." in response.text
    assert "Exploit code on request" in response.text
    assert not Finding.objects.exists() and not FindingEvidence.objects.exists()


def test_the_confirmation_is_recorded_with_each_file_who_when_and_the_words(case, evaluator, client_for):
    response = client_for(evaluator).post(
        reverse("findings:create", args=[case.reference]),
        _form(evidence=[_txt()], no_classified_information="on"),
    )
    assert response.status_code == 302
    evidence = FindingEvidence.objects.get()
    assert evidence.attested_by == evaluator and evidence.attested_at is not None
    assert evidence.attestation == UNCLASSIFIED_STATEMENT
    assert evidence.marking == evidence.finding.marking
    page = client_for(evaluator).get(reverse("findings:detail", args=[evidence.finding.reference]))
    assert f"Confirmed unclassified by {evaluator.full_name}" in page.text


def test_the_api_requires_the_confirmation_field_for_evidence(case, evaluator, api):
    finding = FindingFactory(assessment=case, author=evaluator)
    response = api(evaluator).post(
        f"/api/v1/findings/{finding.reference}/evidence/", {"files": [_txt()]}, format="multipart"
    )
    assert response.status_code == 400
    assert "no_classified_information" in response.json()["errors"]
    assert not FindingEvidence.objects.exists()


def test_the_company_confirms_too_when_it_answers_with_files(case, evaluator, lead, liaison_a, client_for):
    finding = released_finding(assessment=case, author=evaluator, released_by=lead)
    url = reverse("findings:respond", args=[finding.reference])
    refused = client_for(liaison_a).post(
        url, {"disposition": "disputed", "company_response": "See the file.", "files": [_txt("fix.txt")]}
    )
    assert refused.status_code == 200 and "Confirm that the files hold no classified information." in refused.text
    assert not FindingEvidence.objects.exists()
    done = client_for(liaison_a).post(
        url,
        {
            "disposition": "disputed",
            "company_response": "See the file.",
            "files": [_txt("fix.txt")],
            "no_classified_information": "on",
        },
    )
    assert done.status_code == 302
    assert FindingEvidence.objects.get().attested_by == liaison_a


# --- Banners on pages --------------------------------------------------------------------------


def test_the_finding_page_shows_its_banner_at_top_and_bottom_and_the_most_restrictive_of_what_it_shows(
    case, evaluator, lead, liaison_a, client_for
):
    finding = released_finding(assessment=case, author=evaluator, released_by=lead)
    FindingComment.objects.create(finding=finding, author=lead, body="Shared", internal=False, marking=_marking("CBI"))
    page = client_for(liaison_a).get(reverse("findings:detail", args=[finding.reference]))
    assert _banners(page.text, "CBI") == 2
    assert "COMPANY PROPRIETARY / CONFIDENTIAL BUSINESS INFORMATION" in page.text
    # An internal comment marked higher raises the centre's page, never the company's (which does not show it).
    FindingComment.objects.create(finding=finding, author=lead, body="Internal", internal=True, marking=_marking("CUI"))
    assert _banners(client_for(lead).get(reverse("findings:detail", args=[finding.reference])).text, "CUI") == 2
    company_page = client_for(liaison_a).get(reverse("findings:detail", args=[finding.reference])).text
    assert _banners(company_page, "CUI") == 0 and _banners(company_page, "CBI") == 2


def test_the_list_page_carries_the_most_restrictive_marking_of_its_rows(case, evaluator, client_for):
    FindingFactory(assessment=case, author=evaluator, title="Plain", marking=_marking("PUBLIC"))
    FindingFactory(assessment=case, author=evaluator, title="Controlled", marking=_marking("CUI"))
    page = client_for(evaluator).get(reverse("findings:list"))
    assert _banners(page.text, "CUI") == 2
    only_public = client_for(evaluator).get(reverse("findings:list") + "?q=Plain")
    assert _banners(only_public.text, "PUBLIC") == 2 and _banners(only_public.text, "CUI") == 0


def test_a_list_page_carries_the_marking_of_the_rows_it_shows_and_the_export_of_all(case, evaluator, client_for):
    # Most severe first: a page of critical public findings, then a low controlled one on page 2.
    FindingFactory.create_batch(25, assessment=case, author=evaluator, severity="critical", marking=_marking("PUBLIC"))
    FindingFactory(assessment=case, author=evaluator, severity="low", title="Controlled", marking=_marking("CUI"))
    client = client_for(evaluator)
    first = client.get(reverse("findings:list")).text
    assert "Controlled" not in first
    assert _banners(first, "PUBLIC") == 2 and _banners(first, "CUI") == 0
    second = client.get(reverse("findings:list") + "?page=2").text
    assert "Controlled" in second and _banners(second, "CUI") == 2
    export = client.get(reverse("findings:export"))
    assert export["X-Handling-Marking"] == "CUI"


# --- Raising and lowering ---------------------------------------------------------------------


def test_an_evaluator_raises_a_marking_through_the_form_and_it_is_audited(case, evaluator, client_for):
    finding = FindingFactory(assessment=case, author=evaluator)
    response = client_for(evaluator).post(reverse("findings:marking", args=[finding.reference]), {"marking": "CUI"})
    assert response.status_code == 302
    finding.refresh_from_db()
    assert finding.marking.code == "CUI"
    event = AuditEvent.objects.get(summary__startswith="Raised the handling marking")
    assert event.actor == evaluator and event.changes == {"marking": {"from": "CBI", "to": "CUI"}}
    assert event.case_ref == case.reference


def test_an_evaluator_may_not_lower_a_marking(case, evaluator, client_for):
    finding = FindingFactory(assessment=case, author=evaluator, marking=_marking("CUI"))
    response = client_for(evaluator).post(
        reverse("findings:marking", args=[finding.reference]), {"marking": "PUBLIC", "reason": "Looks harmless."}
    )
    assert response.status_code == 403
    finding.refresh_from_db()
    assert finding.marking.code == "CUI"
    assert not AuditEvent.objects.filter(summary__startswith="Lowered").exists()
    # The refusal itself is on the record.
    assert AuditEvent.objects.filter(actor=evaluator, action=AuditEvent.Action.DENIED).exists()


def test_the_lead_lowers_a_marking_with_a_reason_and_it_is_audited(case, evaluator, lead, client_for):
    finding = FindingFactory(assessment=case, author=evaluator, marking=_marking("CUI"))
    url = reverse("findings:marking", args=[finding.reference])
    no_reason = client_for(lead).post(url, {"marking": "PUBLIC"})
    assert no_reason.status_code == 200 and "A reason is required to lower a marking." in no_reason.text
    finding.refresh_from_db()
    assert finding.marking.code == "CUI"
    done = client_for(lead).post(url, {"marking": "PUBLIC", "reason": "The company agreed to publish it."})
    assert done.status_code == 302
    finding.refresh_from_db()
    assert finding.marking.code == "PUBLIC"
    event = AuditEvent.objects.get(summary__startswith="Lowered the handling marking")
    assert event.actor == lead and "The company agreed to publish it." in event.summary


def test_through_the_api_the_evaluator_is_refused_lowering_and_the_lead_may(case, evaluator, lead, api):
    finding = FindingFactory(assessment=case, author=evaluator, marking=_marking("CUI"))
    url = f"/api/v1/findings/{finding.reference}/marking/"
    refused = api(evaluator).post(url, {"marking": "CBI", "reason": "x"}, format="json")
    assert refused.status_code == 403
    missing = api(lead).post(url, {"marking": "CBI"}, format="json")
    assert missing.status_code == 400 and "reason" in missing.json()["errors"]
    unknown = api(lead).post(url, {"marking": "SECRET"}, format="json")
    assert unknown.status_code == 400 and "marking" in unknown.json()["errors"]
    done = api(lead).post(url, {"marking": "CBI", "reason": "Over-marked."}, format="json")
    assert done.status_code == 200 and done.json()["marking"]["code"] == "CBI"


def test_the_company_may_raise_its_own_response_files_but_not_the_centres(case, evaluator, lead, liaison_a, api):
    finding = released_finding(assessment=case, author=evaluator, released_by=lead)
    theirs = FindingEvidence.objects.create(
        finding=finding,
        side="company",
        file=_txt("fix.txt"),
        original_name="fix.txt",
        content_type="text/plain",
        size=1,
        sha256="0" * 64,
        uploaded_by=liaison_a,
    )
    ours = FindingEvidence.objects.create(
        finding=finding,
        side="centre",
        file=_txt(),
        original_name="t.txt",
        content_type="text/plain",
        size=1,
        sha256="0" * 64,
        uploaded_by=evaluator,
    )
    base = f"/api/v1/findings/{finding.reference}/files"
    assert (
        api(liaison_a).post(f"{base}/{theirs.public_id}/marking/", {"marking": "CUI"}, format="json").status_code == 200
    )
    assert (
        api(liaison_a).post(f"{base}/{ours.public_id}/marking/", {"marking": "CUI"}, format="json").status_code == 403
    )
    theirs.refresh_from_db()
    ours.refresh_from_db()
    assert (theirs.marking.code, ours.marking.code) == ("CUI", "CBI")


def test_another_companys_liaison_gets_404_on_every_marking_address(case, evaluator, lead, liaison_b, api, client_for):
    finding = released_finding(assessment=case, author=evaluator, released_by=lead)
    evidence = FindingEvidence.objects.create(
        finding=finding,
        side="centre",
        file=_txt(),
        original_name="t.txt",
        content_type="text/plain",
        size=1,
        sha256="0" * 64,
        uploaded_by=evaluator,
    )
    comment = FindingComment.objects.create(finding=finding, author=lead, body="Shared", internal=False)
    for url in (
        reverse("findings:marking", args=[finding.reference]),
        reverse("findings:evidence_marking", args=[evidence.public_id]),
        reverse("findings:comment_marking", args=[comment.public_id]),
    ):
        assert client_for(liaison_b).get(url).status_code == 404
    for path in ("marking/", f"files/{evidence.public_id}/marking/", f"comments/{comment.public_id}/marking/"):
        response = api(liaison_b).post(
            f"/api/v1/findings/{finding.reference}/{path}", {"marking": "CUI"}, format="json"
        )
        assert response.status_code == 404
    finding.refresh_from_db()
    assert finding.marking.code == "CBI"


# --- The admin ------------------------------------------------------------------------------


def test_the_admin_shows_the_marking_read_only_and_its_action_goes_through_the_service(
    case, evaluator, admin_user, client_for
):
    finding = FindingFactory(assessment=case, author=evaluator)
    client = client_for(admin_user)
    page = client.get(reverse("admin:findings_finding_change", args=[finding.pk]))
    assert page.status_code == 200
    assert 'name="marking"' not in page.text.split('id="changelist-form"')[0]  # shown, not an input
    changelist = reverse("admin:findings_finding_changelist")
    client.post(changelist, {"action": "set_marking_selected", "_selected_action": [finding.pk], "marking": "PUBLIC"})
    finding.refresh_from_db()
    assert finding.marking.code == "CBI"  # lowering without a reason is refused
    client.post(
        changelist,
        {"action": "set_marking_selected", "_selected_action": [finding.pk], "marking": "PUBLIC", "note": "Agreed."},
    )
    finding.refresh_from_db()
    assert finding.marking.code == "PUBLIC"
    assert AuditEvent.objects.filter(actor=admin_user, summary__startswith="Lowered the handling marking").exists()


# --- Reports, exports and emails carry the marking -----------------------------------------------


def test_the_csv_export_carries_the_most_restrictive_marking_it_contains(case, evaluator, client_for):
    FindingFactory(assessment=case, author=evaluator, title="Plain", marking=_marking("PUBLIC"))
    FindingFactory(assessment=case, author=evaluator, title="Controlled", marking=_marking("CUI"))
    response = client_for(evaluator).get(reverse("findings:export"))
    lines = b"".join(response.streaming_content).decode().strip().splitlines()
    assert lines[0] == lines[-1] == "[CONTROLLED UNCLASSIFIED INFORMATION]"
    assert response["X-Handling-Marking"] == "CUI"
    assert lines[1].endswith("Handling marking")
    assert {line.rsplit(",", 1)[1] for line in lines[2:-1]} == {"PUBLIC", "CUI"}
    only_public = client_for(evaluator).get(reverse("findings:export") + "?q=Plain")
    assert b"".join(only_public.streaming_content).decode().splitlines()[0] == "[PUBLIC]"


def test_the_report_page_and_pdf_carry_the_most_restrictive_marking_of_their_findings(
    case, evaluator, lead, client_for
):
    from pypdf import PdfReader

    released_finding(
        assessment=case, author=evaluator, released_by=lead, title="Public one", marking=_marking("PUBLIC")
    )
    FindingFactory(assessment=case, author=evaluator, title="Controlled draft", marking=_marking("CUI"))
    full = client_for(lead).get(reverse("findings:report", args=[case.reference]))
    assert _banners(full.text, "CUI") == 2
    assert "Controlled unclassified (CUI): the most restrictive marking" in full.text
    # The company's variant holds only the released (public) finding, so it carries that marking.
    company = client_for(lead).get(reverse("findings:report_company", args=[case.reference]))
    assert _banners(company.text, "PUBLIC") == 2 and _banners(company.text, "CUI") == 0
    pdf = client_for(lead).get(reverse("findings:report_pdf", args=[case.reference]))
    pages = PdfReader(io.BytesIO(pdf.content)).pages
    assert all(page.extract_text().count("CONTROLLED UNCLASSIFIED INFORMATION") == 2 for page in pages)


def test_a_report_built_in_the_background_keeps_its_marking(case, evaluator, lead, django_capture_on_commit_callbacks):
    from findings.reports import report_request

    FindingFactory(assessment=case, author=evaluator, marking=_marking("CUI"))
    with django_capture_on_commit_callbacks(execute=True):
        job = report_request(actor=lead, assessment=case, kind=ReportKind.FULL)
    assert ReportJob.objects.get(pk=job.pk).marking.code == "CUI"


def test_an_email_about_a_finding_carries_its_banner(
    case, evaluator, lead, liaison_a, django_capture_on_commit_callbacks
):
    finding = FindingFactory(assessment=case, author=evaluator, status=FindingStatus.IN_REVIEW, marking=_marking("CUI"))
    with django_capture_on_commit_callbacks(execute=True):
        services.finding_release(actor=lead, finding=finding)
    (message,) = [m for m in mail.outbox if liaison_a.email in m.to]
    assert message.body.startswith("[CONTROLLED UNCLASSIFIED INFORMATION]")
    assert message.body.rstrip().endswith("[CONTROLLED UNCLASSIFIED INFORMATION]")
    html = message.alternatives[0][0]
    assert html.count('data-marking="CUI"') == 2 and "background-color: #54278f" in html


def test_a_reminder_of_a_findings_response_due_date_carries_its_banner(
    case, evaluator, lead, liaison_a, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from reminders.services import reminders_scan

    finding = FindingFactory(assessment=case, author=evaluator, status=FindingStatus.IN_REVIEW, marking=_marking("CUI"))
    due = timezone.now() + timedelta(days=10)
    services.finding_release(actor=lead, finding=finding, response_due_at=due)
    mail.outbox.clear()
    with time_machine.travel(due - timedelta(days=7), tick=False), django_capture_on_commit_callbacks(execute=True):
        reminders_scan()
    from reminders.models import DeliveryStatus, Reminder

    assert Reminder.objects.filter(recipient=liaison_a, status=DeliveryStatus.SENT).exists()
    # The reminder (and the release's hand-off, delivered by the same scan) each carry the banner.
    messages = [m for m in mail.outbox if liaison_a.email in m.to]
    assert messages and all(finding.reference in m.body for m in messages)
    assert all(m.body.startswith("[CONTROLLED UNCLASSIFIED INFORMATION]") for m in messages)
    assert all(m.alternatives[0][0].count('data-marking="CUI"') == 2 for m in messages)


def test_the_page_of_a_report_built_in_the_background_shows_its_banner(case, evaluator, lead, client_for):
    from findings.tests.factories import report_job_done

    job = report_job_done(case, ReportKind.FULL, requested_by=lead)
    ReportJob.objects.filter(pk=job.pk).update(marking=_marking("CUI"))
    page = client_for(lead).get(reverse("findings:report_job", args=[job.public_id]))
    assert _banners(page.text, "CUI") == 2
