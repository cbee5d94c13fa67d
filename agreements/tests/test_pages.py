"""Agreement pages: what each person sees, forms that keep what was typed, uploads, isolation between companies."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from agreements.models import AgreementDocument, AgreementStatus, AgreementVersion, OpenPointStatus
from agreements.tests.factories import (
    AgreementDocumentFactory,
    AgreementFactory,
    AgreementVersionFactory,
    OpenPointFactory,
    pdf_bytes,
)
from audit.models import AuditEvent
from tests.query_budgets import BUDGETS


def _url(name, agreement, **kwargs):
    return reverse(f"agreements:{name}", kwargs={"reference": agreement.reference, **kwargs})


# --- List ----------------------------------------------------------------------------------


def test_liaison_list_shows_only_their_company(client_for, liaison_a, agreement_a, agreement_b):
    response = client_for(liaison_a).get(reverse("agreements:list"))
    assert response.status_code == 200
    assert agreement_a.reference in response.text
    assert agreement_b.reference not in response.text


def test_list_filters_by_status_company_and_overdue_points(client_for, lead, company_a, company_b, liaison_a):
    negotiating = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)
    active_b = AgreementFactory(organisation=company_b, status=AgreementStatus.ACTIVE)
    overdue = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)
    OpenPointFactory(agreement=overdue, owner=lead, due_date=datetime.date.today() - datetime.timedelta(days=2))
    OpenPointFactory(agreement=negotiating, owner=lead)  # not overdue
    client = client_for(lead)

    by_status = client.get(reverse("agreements:list"), {"status": "negotiating"}).text
    assert negotiating.reference in by_status and active_b.reference not in by_status

    by_company = client.get(reverse("agreements:list"), {"organisation": company_b.public_id}).text
    assert active_b.reference in by_company and negotiating.reference not in by_company

    by_overdue = client.get(reverse("agreements:list"), {"overdue": "on"}).text
    assert overdue.reference in by_overdue and negotiating.reference not in by_overdue


def test_list_is_paginated_within_a_query_budget(client_for, lead, company_a, django_assert_max_num_queries):
    for _ in range(25):
        AgreementFactory(organisation=company_a)
    client = client_for(lead)
    client.get(reverse("agreements:list"))  # warm the session
    with django_assert_max_num_queries(BUDGETS["agreements:list"]["lead"]):
        response = client.get(reverse("agreements:list"))
    assert "Page 1 of 2" in response.text
    assert "25 agreements" in response.text


def test_empty_list_says_so(client_for, liaison_b):
    response = client_for(liaison_b).get(reverse("agreements:list"))
    assert "No agreements" in response.text


# --- Detail and isolation ------------------------------------------------------------------


def test_detail_shows_terms_timeline_open_points_documents_and_signatures(client_for, lead, liaison_a, company_a):
    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING, max_window_days=21)
    OpenPointFactory(agreement=agreement, owner=liaison_a, title="Data retention after the window")
    AgreementDocumentFactory(agreement=agreement, uploaded_by=lead, original_name="draft-v2.pdf")
    response = client_for(liaison_a).get(_url("detail", agreement))
    assert response.status_code == 200
    text = response.text
    assert "21 days" in text
    assert "Data retention after the window" in text
    assert "draft-v2.pdf" in text
    assert "Not signed" in text
    assert "Add proposal or comment" in text
    assert "Edit terms" not in text, "only centre staff change the agreed terms"
    assert 'style="' not in text and "<script>" not in text


@pytest.mark.parametrize("name", ["detail", "edit_terms", "compare", "entry_add", "document_upload", "sign"])
def test_liaison_of_other_company_gets_404_on_every_agreement_page(client_for, liaison_b, agreement_a, name):
    AgreementVersionFactory(agreement=agreement_a, number=1)
    response = client_for(liaison_b).get(_url(name, agreement_a))
    assert response.status_code == 404
    assert agreement_a.title not in response.text


def test_liaison_of_other_company_cannot_download_the_document(client_for, liaison_b, agreement_a, lead):
    document = AgreementDocumentFactory(agreement=agreement_a, uploaded_by=lead)
    response = client_for(liaison_b).get(_url("document_download", agreement_a, document_id=document.public_id))
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD).exists()


def test_download_serves_the_file_and_records_it(client_for, liaison_a, agreement_a, lead):
    document = AgreementDocumentFactory(agreement=agreement_a, uploaded_by=lead)
    response = client_for(liaison_a).get(_url("document_download", agreement_a, document_id=document.public_id))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert response["Content-Disposition"].startswith("attachment")
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD, actor=liaison_a).count() == 1


# --- Forms -----------------------------------------------------------------------------------


def test_create_form_keeps_what_was_typed_and_names_the_field(client_for, lead, company_a):
    response = client_for(lead).post(
        reverse("agreements:create"),
        {
            "organisation": company_a.public_id,
            "title": "Pilot agreement",
            "max_window_days": 45,
            "release_notice_days": 14,
            "risk_consequence": "consultation",
            "trade_secret_terms": "Weights never leave the company.",
        },
    )
    assert response.status_code == 200
    assert "Ensure this value is less than or equal to 30" in response.text
    assert "Weights never leave the company." in response.text
    assert 'value="Pilot agreement"' in response.text


def test_create_then_edit_terms_makes_versions_and_compare_highlights_them(client_for, lead, company_a):
    client = client_for(lead)
    data = {
        "organisation": company_a.public_id,
        "title": "Pilot agreement",
        "max_window_days": 30,
        "release_notice_days": 14,
        "risk_consequence": "consultation",
        "risk_domains": ["cyber"],
    }
    response = client.post(reverse("agreements:create"), data)
    assert response.status_code == 302
    agreement = company_a.agreements.get()
    data.pop("organisation")
    response = client.post(_url("edit_terms", agreement), {**data, "max_window_days": 14, "note": "Company asked"})
    assert response.status_code == 302
    assert list(AgreementVersion.objects.filter(agreement=agreement).values_list("number", flat=True)) == [2, 1]
    page = client.get(_url("compare", agreement), {"from": 1, "to": 2}).text
    assert "1 clause changed between version 1 and version 2" in page
    assert "portal-diff-changed" in page
    assert "14 days" in page and "30 days" in page


def test_transition_page_refuses_with_a_clear_message(client_for, lead, company_a, liaison_a):
    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)
    OpenPointFactory(agreement=agreement, owner=liaison_a)
    due = (datetime.date.today() + datetime.timedelta(days=5)).isoformat()
    response = client_for(lead).post(
        _url("transition", agreement, transition="submit_for_signature"),
        {"signature_due": due, "confirmed": "yes"},
        follow=True,
    )
    assert "Resolve the 1 open point" in response.text
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.NEGOTIATING


def test_liaison_resolves_their_open_point(client_for, liaison_a, company_a):
    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)
    point = OpenPointFactory(agreement=agreement, owner=liaison_a)
    response = client_for(liaison_a).post(
        _url("open_point_resolve", agreement, point_id=point.public_id), {"resolution": "Agreed 90 days."}
    )
    assert response.status_code == 302
    point.refresh_from_db()
    assert point.status == OpenPointStatus.RESOLVED


def test_sign_page_signs_for_the_company(client_for, liaison_a, company_a):
    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.AWAITING_SIGNATURE)
    response = client_for(liaison_a).post(
        _url("sign", agreement),
        {"signer_name": "Alex Alpha", "capacity": "General Counsel", "confirm": "on"},
        follow=True,
    )
    assert "becomes active when the other side signs" in response.text
    assert agreement.signatures.get().side == "company"


# --- Uploads ---------------------------------------------------------------------------------


def test_upload_of_a_pdf_is_stored_with_its_hash_and_uploader(client_for, liaison_a, company_a):
    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)
    upload = SimpleUploadedFile("redline.pdf", pdf_bytes(b"redline"), content_type="application/pdf")
    response = client_for(liaison_a).post(
        _url("document_upload", agreement), {"no_classified_information": True, "file": upload, "kind": "draft"}
    )
    assert response.status_code == 302
    document = AgreementDocument.objects.get()
    assert document.uploaded_by == liaison_a
    assert document.content_type == "application/pdf"
    assert len(document.sha256) == 64
    assert document.file.name.startswith("agreements/") and "redline" not in document.file.name


def test_oversize_upload_gets_a_clear_error_and_nothing_is_stored(client_for, lead, company_a, settings):
    settings.UPLOAD_MAX_BYTES = 1024
    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)
    upload = SimpleUploadedFile("big.pdf", pdf_bytes(b"x" * 4096), content_type="application/pdf")
    response = client_for(lead).post(
        _url("document_upload", agreement),
        {"no_classified_information": True, "file": upload, "kind": "draft", "description": "Full draft"},
    )
    assert response.status_code == 200
    assert "the limit is" in response.text
    assert "choose the file again" in response.text
    assert 'value="Full draft"' in response.text
    assert not AgreementDocument.objects.exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("evil.pdf", b"<html><script>alert(1)</script></html>"),
        ("picture.pdf", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),
        ("notes.txt", b"plain words"),
    ],
)
def test_wrong_type_judged_by_content_is_refused_and_nothing_is_stored(client_for, lead, company_a, name, content):
    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)
    upload = SimpleUploadedFile(name, content, content_type="application/pdf")
    response = client_for(lead).post(
        _url("document_upload", agreement), {"no_classified_information": True, "file": upload, "kind": "draft"}
    )
    assert response.status_code == 200
    assert "is not an accepted file type" in response.text
    assert not AgreementDocument.objects.exists()


def test_open_point_form_adds_a_point_owned_by_the_chosen_liaison(client_for, lead, liaison_a, company_a):
    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)
    due = (datetime.date.today() + datetime.timedelta(days=10)).isoformat()
    response = client_for(lead).post(
        _url("open_point_add", agreement), {"title": "Incident contacts", "owner": liaison_a.public_id, "due_date": due}
    )
    assert response.status_code == 302
    point = agreement.open_points.get()
    assert point.owner == liaison_a and point.due_date.isoformat() == due


def test_open_point_form_does_not_offer_another_companys_liaison(client_for, lead, liaison_b, company_a):
    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)
    response = client_for(lead).post(
        _url("open_point_add", agreement), {"title": "X", "owner": liaison_b.public_id, "due_date": "2030-01-01"}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.text
    assert liaison_b.full_name not in response.text
    assert not agreement.open_points.exists()


def test_counter_proposal_form_answers_a_proposal(client_for, lead, liaison_a, company_a):
    from agreements.tests.factories import NegotiationEntryFactory

    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)
    proposal = NegotiationEntryFactory(agreement=agreement, author=lead)
    response = client_for(liaison_a).post(
        _url("entry_add", agreement),
        {"kind": "counter_proposal", "clause": "max_window_days", "responds_to": proposal.public_id, "text": "14 days"},
    )
    assert response.status_code == 302
    counter = agreement.entries.get(kind="counter_proposal")
    assert counter.responds_to == proposal and counter.author_side == "company"
    page = client_for(liaison_a).get(_url("detail", agreement)).text
    assert "Counter-proposal on maximum assessment window" in page


def test_detail_page_stays_within_a_query_budget(client_for, lead, liaison_a, company_a, django_assert_max_num_queries):
    from agreements.tests.factories import NegotiationEntryFactory

    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)
    for number in (1, 2, 3):
        AgreementVersionFactory(agreement=agreement, number=number)
    for _ in range(5):
        NegotiationEntryFactory(agreement=agreement, author=liaison_a)
        OpenPointFactory(agreement=agreement, owner=liaison_a)
        AgreementDocumentFactory(agreement=agreement, uploaded_by=lead)
    client = client_for(lead)
    client.get(_url("detail", agreement))
    with django_assert_max_num_queries(BUDGETS["agreements:detail"]["lead"]):
        response = client.get(_url("detail", agreement))
    assert response.status_code == 200


def test_admin_shows_an_agreement_with_its_negotiation_record_read_only(client_for, admin_user, lead, company_a):
    from agreements.tests.factories import NegotiationEntryFactory

    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)
    NegotiationEntryFactory(agreement=agreement, author=lead, text="Thirty days, enclave only.")
    AgreementVersionFactory(agreement=agreement, number=1)
    client = client_for(admin_user)
    changelist = client.get(reverse("admin:agreements_agreement_changelist"), {"status__exact": "negotiating"})
    assert agreement.reference in changelist.text
    page = client.get(reverse("admin:agreements_agreement_change", args=[agreement.pk]))
    assert page.status_code == 200
    assert "Thirty days, enclave only." in page.text
    assert 'name="_save"' not in page.text, "terms change only through the service, which makes a version"


def test_moving_an_open_point_moves_its_deadline(client_for, lead, liaison_a, company_a):
    from agreements import services
    from reminders.models import Deadline, DeadlineKind

    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)
    point = services.open_point_add(
        actor=lead, agreement=agreement, title="Logs", owner=liaison_a, due_date=datetime.date.today()
    )
    later = datetime.date.today() + datetime.timedelta(days=20)
    response = client_for(lead).post(
        _url("open_point_edit", agreement, point_id=point.public_id),
        {"owner": lead.public_id, "due_date": later.isoformat()},
    )
    assert response.status_code == 302
    deadline = Deadline.objects.get(owner_id=point.pk, kind=DeadlineKind.OPEN_POINT_DUE)
    assert list(deadline.recipients.all()) == [lead]
    assert deadline.revision == 2


def test_liaison_cannot_move_a_point_they_do_not_own(client_for, lead, liaison_a, company_a):
    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)
    point = OpenPointFactory(agreement=agreement, owner=lead)
    response = client_for(liaison_a).get(_url("open_point_edit", agreement, point_id=point.public_id))
    assert response.status_code == 403
