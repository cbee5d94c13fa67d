"""/api/v1/agreements/<reference>/meetings/ and /documents/: the negotiation record through the API."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from agreements.models import AgreementDocument, Meeting
from agreements.tests.factories import AgreementDocumentFactory, pdf_bytes
from audit.models import AuditEvent


def _url(agreement, tail: str) -> str:
    return f"/api/v1/agreements/{agreement.reference}/{tail}"


def _pdf(name: str = "redline.pdf", extra: bytes = b"redline") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf_bytes(extra), content_type="application/pdf")


# --- Meetings ---------------------------------------------------------------------------


def test_lead_records_a_meeting_and_both_sides_read_it(api, lead, liaison_a, negotiation):
    held = (timezone.now() - datetime.timedelta(days=2)).replace(microsecond=0)
    response = api(lead).post(
        _url(negotiation, "meetings/"),
        {
            "held_at": held.isoformat(),
            "attendees": ["Lena Lead (centre)", "Alex Alpha (Alpha AI)"],
            "minutes": "Agreed a 21-day window.",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["attendees"] == ["Lena Lead (centre)", "Alex Alpha (Alpha AI)"]
    meeting = Meeting.objects.get(agreement=negotiation)
    assert meeting.recorded_by == lead
    assert meeting.attendees == "Lena Lead (centre)\nAlex Alpha (Alpha AI)"
    rows = api(liaison_a).get(_url(negotiation, "meetings/")).json()
    assert [(r["id"], r["minutes"], r["recorded_by"]) for r in rows] == [
        (str(meeting.public_id), "Agreed a 21-day window.", lead.full_name)
    ]
    assert AuditEvent.objects.filter(action=AuditEvent.Action.CREATE, object_id=str(meeting.public_id)).exists()


def test_planned_meeting_or_missing_minutes_is_400_naming_the_fields(api, lead, negotiation):
    future = (timezone.now() + datetime.timedelta(days=5)).isoformat()
    past = (timezone.now() - datetime.timedelta(days=1)).isoformat()
    cases = [
        ({"held_at": future, "attendees": ["Lena Lead"], "minutes": "Planned agenda."}, {"held_at"}),
        ({"held_at": past, "attendees": ["Lena Lead"], "minutes": " "}, {"minutes"}),
        ({"held_at": past, "attendees": [], "minutes": "Minutes."}, {"attendees"}),
        ({"held_at": "0134-10-03T14:34:31Z", "attendees": ["Lena Lead"], "minutes": "Minutes."}, {"held_at"}),
    ]
    for data, fields in cases:
        response = api(lead).post(_url(negotiation, "meetings/"), data, format="json")
        assert response.status_code == 400
        assert set(response.json()["errors"]) == fields
    assert not Meeting.objects.exists()


def test_liaison_cannot_record_a_meeting(api, liaison_a, negotiation):
    response = api(liaison_a).post(
        _url(negotiation, "meetings/"),
        {"held_at": timezone.now().isoformat(), "attendees": ["A"], "minutes": "M"},
        format="json",
    )
    assert response.status_code == 403
    assert not Meeting.objects.exists()


# --- Documents --------------------------------------------------------------------------


def test_liaison_uploads_a_document_as_multipart_and_it_is_listed_with_a_download_url(api, liaison_a, negotiation):
    client = api(liaison_a)
    response = client.post(
        _url(negotiation, "documents/"),
        {"no_classified_information": True, "file": _pdf(), "kind": "draft", "description": "Company redline"},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    document = AgreementDocument.objects.get()
    assert (document.uploaded_by, document.content_type, document.original_name) == (
        liaison_a,
        "application/pdf",
        "redline.pdf",
    )
    body = response.json()
    assert body["sha256"] == document.sha256 and "file" not in body
    listed = client.get(_url(negotiation, "documents/")).json()
    assert [row["id"] for row in listed] == [str(document.public_id)]
    assert listed[0]["download_url"].endswith(_url(negotiation, f"documents/{document.public_id}/"))


def test_oversize_upload_is_400_on_the_file_field_and_nothing_is_stored(api, lead, negotiation, settings):
    settings.UPLOAD_MAX_BYTES = 1024
    response = api(lead).post(
        _url(negotiation, "documents/"),
        {"no_classified_information": True, "file": _pdf("big.pdf", b"x" * 4096), "kind": "draft"},
        format="multipart",
    )
    assert response.status_code == 400
    assert "the limit is" in response.json()["errors"]["file"][0]
    assert not AgreementDocument.objects.exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("evil.pdf", b"<html><script>alert(1)</script></html>"),
        ("picture.pdf", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),
        ("notes.txt", b"plain words"),
    ],
)
def test_wrong_type_judged_by_content_is_400_and_nothing_is_stored(api, lead, negotiation, name, content):
    upload = SimpleUploadedFile(name, content, content_type="application/pdf")
    response = api(lead).post(
        _url(negotiation, "documents/"),
        {"no_classified_information": True, "file": upload, "kind": "draft"},
        format="multipart",
    )
    assert response.status_code == 400
    assert "is not an accepted file type" in response.json()["errors"]["file"][0]
    assert not AgreementDocument.objects.exists()


def test_upload_without_a_file_or_as_json_is_400_naming_the_field(api, lead, negotiation):
    missing = api(lead).post(_url(negotiation, "documents/"), {"kind": "draft"}, format="multipart")
    assert missing.status_code == 400 and "file" in missing.json()["errors"]
    as_json = api(lead).post(_url(negotiation, "documents/"), {"kind": "draft"}, format="json")
    assert as_json.status_code == 415
    assert not AgreementDocument.objects.exists()


def test_download_returns_the_file_as_an_audited_attachment(api, liaison_a, agreement_a, lead):
    document = AgreementDocumentFactory(agreement=agreement_a, uploaded_by=lead)
    response = api(liaison_a).get(_url(agreement_a, f"documents/{document.public_id}/"), HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == document.content_type
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == document.file.open("rb").read()
    event = AuditEvent.objects.get(action=AuditEvent.Action.DOWNLOAD, object_id=str(document.public_id))
    assert event.actor == liaison_a and event.case_ref == agreement_a.reference


def test_liaison_of_other_company_gets_404_on_meetings_and_documents(api, liaison_b, agreement_a, lead):
    document = AgreementDocumentFactory(agreement=agreement_a, uploaded_by=lead)
    client = api(liaison_b)
    assert client.get(_url(agreement_a, "meetings/")).status_code == 404
    assert client.get(_url(agreement_a, "documents/")).status_code == 404
    upload = client.post(
        _url(agreement_a, "documents/"),
        {"no_classified_information": True, "file": _pdf(), "kind": "draft"},
        format="multipart",
    )
    assert upload.status_code == 404
    download = client.get(_url(agreement_a, f"documents/{document.public_id}/"))
    assert download.status_code == 404
    assert download["Content-Type"] == "application/json"
    assert AgreementDocument.objects.count() == 1
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD).exists()


def test_document_through_another_agreements_address_is_404(api, lead, agreement_a, agreement_b):
    document = AgreementDocumentFactory(agreement=agreement_a, uploaded_by=lead)
    response = api(lead).get(_url(agreement_b, f"documents/{document.public_id}/"))
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD).exists()
