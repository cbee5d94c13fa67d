"""The agreement's default handling marking (a structured term) and the markings of its documents.

Through the terms form and the API, the document upload form and API (which need the unclassified
confirmation), the document marking page and the admin action.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from agreements.models import AgreementDocument, AgreementStatus, AgreementVersion
from agreements.tests.factories import AgreementDocumentFactory, AgreementFactory, pdf_bytes
from audit.models import AuditEvent
from core.markings import UNCLASSIFIED_STATEMENT, HandlingMarking

pytestmark = pytest.mark.django_db

LIST = "/api/v1/agreements/"


def _pdf(name="redline.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf_bytes(), content_type="application/pdf")


def _terms(**extra) -> dict:
    return {
        "title": "Pilot agreement",
        "max_window_days": 30,
        "release_notice_days": 14,
        "risk_consequence": "consultation",
        "risk_domains": ["cyber"],
        **extra,
    }


# --- The default marking, a structured term -------------------------------------------------


def test_the_default_marking_is_a_term_changed_through_the_terms_form_with_a_version(client_for, lead, company_a):
    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)
    client = client_for(lead)
    form = client.get(reverse("agreements:edit_terms", args=[agreement.reference])).text
    assert "Default handling marking" in form and "Controlled unclassified" in form
    response = client.post(
        reverse("agreements:edit_terms", args=[agreement.reference]),
        _terms(default_marking="CUI", note="Results quote model outputs"),
    )
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.default_marking == "CUI"
    version = AgreementVersion.objects.filter(agreement=agreement).order_by("-number").first()
    assert "default_marking" in version.changed_clauses and version.terms["default_marking"] == "CUI"
    detail = client.get(reverse("agreements:detail", args=[agreement.reference])).text
    assert "Default handling marking" in detail and "Controlled unclassified" in detail


def test_an_unknown_marking_is_a_field_error_in_the_api(api, lead, company_a):
    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)
    response = api(lead).patch(f"{LIST}{agreement.reference}/", {"default_marking": "TOP-SECRET"}, format="json")
    assert response.status_code == 400 and "default_marking" in response.json()["errors"]
    done = api(lead).patch(f"{LIST}{agreement.reference}/", {"default_marking": "PUBLIC"}, format="json")
    assert done.status_code == 200 and done.json()["default_marking"] == "PUBLIC"


# --- Documents: attestation and marking ----------------------------------------------------------


def test_uploading_a_document_needs_the_unclassified_confirmation(client_for, liaison_a, company_a):
    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING, default_marking="CUI")
    url = reverse("agreements:document_upload", args=[agreement.reference])
    refused = client_for(liaison_a).post(url, {"file": _pdf(), "kind": "draft", "description": "Our redline"})
    assert refused.status_code == 200 and 'value="Our redline"' in refused.text
    assert not AgreementDocument.objects.exists()
    done = client_for(liaison_a).post(
        url, {"file": _pdf(), "kind": "draft", "description": "Our redline", "no_classified_information": "on"}
    )
    assert done.status_code == 302
    document = AgreementDocument.objects.get()
    assert document.marking.code == "CUI"  # the agreement's default marking
    assert (document.attested_by, document.attestation) == (liaison_a, UNCLASSIFIED_STATEMENT)


def test_the_api_upload_refuses_a_missing_confirmation_with_a_field_error(api, lead, company_a):
    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)
    response = api(lead).post(
        f"{LIST}{agreement.reference}/documents/", {"file": _pdf(), "kind": "draft"}, format="multipart"
    )
    assert response.status_code == 400 and "no_classified_information" in response.json()["errors"]
    assert not AgreementDocument.objects.exists()
    done = api(lead).post(
        f"{LIST}{agreement.reference}/documents/",
        {"file": _pdf(), "kind": "draft", "no_classified_information": True},
        format="multipart",
    )
    assert done.status_code == 201
    body = done.json()
    assert body["marking"]["code"] == "CBI" and body["attestation"] == UNCLASSIFIED_STATEMENT


def test_the_agreement_page_carries_the_most_restrictive_document_marking(client_for, liaison_a, lead, agreement_a):
    AgreementDocumentFactory(agreement=agreement_a, uploaded_by=lead)
    AgreementDocumentFactory(agreement=agreement_a, uploaded_by=lead, marking=HandlingMarking.objects.get(code="CUI"))
    page = client_for(liaison_a).get(reverse("agreements:detail", args=[agreement_a.reference])).text
    assert page.count('data-marking="CUI"') == 2 and "CONTROLLED UNCLASSIFIED INFORMATION" in page


def test_the_company_raises_but_may_not_lower_and_the_lead_lowers_with_a_reason(
    client_for, liaison_a, lead, agreement_a
):
    document = AgreementDocumentFactory(agreement=agreement_a, uploaded_by=lead)
    url = reverse("agreements:document_marking", args=[agreement_a.reference, document.public_id])
    assert client_for(liaison_a).post(url, {"marking": "CUI"}).status_code == 302
    document.refresh_from_db()
    assert document.marking.code == "CUI"
    refused = client_for(liaison_a).post(url, {"marking": "PUBLIC", "reason": "We published it."})
    assert refused.status_code == 403
    document.refresh_from_db()
    assert document.marking.code == "CUI"
    assert (
        client_for(lead).post(url, {"marking": "PUBLIC", "reason": "Published with the agreement."}).status_code == 302
    )
    document.refresh_from_db()
    assert document.marking.code == "PUBLIC"
    event = AuditEvent.objects.get(summary__startswith="Lowered the handling marking")
    assert event.actor == lead and event.changes == {"marking": {"from": "CUI", "to": "PUBLIC"}}


def test_another_companys_liaison_gets_404_on_the_document_marking_page_and_api(
    client_for, api, liaison_b, lead, agreement_a
):
    document = AgreementDocumentFactory(agreement=agreement_a, uploaded_by=lead)
    url = reverse("agreements:document_marking", args=[agreement_a.reference, document.public_id])
    assert client_for(liaison_b).get(url).status_code == 404
    response = api(liaison_b).post(
        f"{LIST}{agreement_a.reference}/documents/{document.public_id}/marking/", {"marking": "CUI"}, format="json"
    )
    assert response.status_code == 404
    document.refresh_from_db()
    assert document.marking.code == "CBI"


def test_the_admin_action_sets_a_documents_marking_through_the_service(client_for, admin_user, lead, agreement_a):
    document = AgreementDocumentFactory(agreement=agreement_a, uploaded_by=lead)
    client = client_for(admin_user)
    page = client.get(reverse("admin:agreements_agreementdocument_change", args=[document.pk]))
    assert page.status_code == 200 and "Company proprietary / CBI" in page.text
    client.post(
        reverse("admin:agreements_agreementdocument_changelist"),
        {"action": "set_marking_selected", "_selected_action": [document.pk], "marking": "CUI"},
    )
    document.refresh_from_db()
    assert document.marking.code == "CUI"
    assert AuditEvent.objects.filter(actor=admin_user, summary__startswith="Raised the handling marking").exists()
