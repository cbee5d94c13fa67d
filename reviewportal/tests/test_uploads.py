"""Uploads are judged by content, capped in size, stored under random names outside the web root,
and served only as attachments that browsers will not sniff or render."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from agreements.tests.factories import AgreementDocumentFactory, pdf_bytes
from audit.models import AuditEvent
from core.files import AGREEMENT_DOCUMENT_KINDS, EVIDENCE_KINDS, validate_upload


def test_an_html_file_renamed_pdf_is_refused():
    upload = SimpleUploadedFile(
        "terms.pdf", b"<!DOCTYPE html><html><script>alert(1)</script></html>", "application/pdf"
    )
    with pytest.raises(ValidationError) as refused:
        validate_upload(upload, allowed=AGREEMENT_DOCUMENT_KINDS)
    assert "not an accepted file type" in str(refused.value)


@pytest.mark.parametrize("name", ["notes.txt", "notes.md", "data.csv"])
def test_html_disguised_as_text_is_refused(name):
    upload = SimpleUploadedFile(name, b"Hello\n<script>fetch('/api/v1/')</script>", "text/plain")
    with pytest.raises(ValidationError):
        validate_upload(upload, allowed=EVIDENCE_KINDS)


def test_a_real_pdf_is_accepted_whatever_its_name_says():
    info = validate_upload(
        SimpleUploadedFile("scan.bin", pdf_bytes(), "application/octet-stream"), allowed=AGREEMENT_DOCUMENT_KINDS
    )
    assert (info.kind, info.content_type) == ("pdf", "application/pdf")
    assert len(info.sha256) == 64


def test_an_oversize_file_is_refused_with_the_limit_named():
    upload = SimpleUploadedFile("big.pdf", pdf_bytes(b"0" * 2048), "application/pdf")
    with pytest.raises(ValidationError) as refused:
        validate_upload(upload, allowed=AGREEMENT_DOCUMENT_KINDS, max_bytes=1024)
    assert refused.value.code == "too_large"


def test_stored_files_get_random_names_outside_the_static_root(db):
    document = AgreementDocumentFactory(original_name="Board minutes.pdf")
    stored_path = document.file.path
    assert "Board minutes" not in stored_path
    assert stored_path.startswith(str(settings.PRIVATE_UPLOAD_ROOT))
    assert not stored_path.startswith(str(settings.STATIC_ROOT))


def test_a_download_is_an_unsniffable_uncached_attachment_and_is_audited(client_for, liaison_a, agreement_a):
    document = AgreementDocumentFactory(agreement=agreement_a, original_name="draft.pdf")
    url = reverse(
        "agreements:document_download", kwargs={"reference": agreement_a.reference, "document_id": document.public_id}
    )
    response = client_for(liaison_a).get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    event = AuditEvent.objects.get(action=AuditEvent.Action.DOWNLOAD)
    assert event.actor == liaison_a
