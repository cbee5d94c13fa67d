"""Uploads are judged on their whole content, through the real upload paths.

A text file is read to its end (in chunks) for HTML, binary data and broken
UTF-8; a file that starts like a PDF must parse as one; a long file name is
shortened without losing its extension. Each refusal shows its reason and
leaves nothing behind: no row and no file on disk.
"""

from __future__ import annotations

import html
import os

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from agreements.demo import demo_pdf
from agreements.models import AgreementDocument
from core.files import StoredFile
from findings.models import Finding, FindingEvidence
from findings.tests.factories import FindingFactory

pytestmark = pytest.mark.django_db

CHUNK = UploadedFile.DEFAULT_CHUNK_SIZE  # the size in which an upload is read
LOG_LINE = b"2026-05-01T10:00:00Z model: I can't help with that request.\n"
HTML_AFTER_8_KIB = LOG_LINE * 400 + b"<script>fetch('/api/v1/findings/')</script>\n"
# An HTML page with PDF magic bytes in front, with and without the end-of-file marker a PDF has.
HTML_BEHIND_PDF_MAGIC = b"%PDF-1.7\n<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>\n"
HTML_BEHIND_PDF_MAGIC_AND_TRAILER = HTML_BEHIND_PDF_MAGIC + b"trailer\n<< /Root 1 0 R >>\nstartxref\n9\n%%EOF\n"


def _stored_files() -> set[str]:
    root = settings.PRIVATE_UPLOAD_ROOT
    return {os.path.join(folder, name) for folder, _, names in os.walk(root) for name in names}


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _file(name: str, content: bytes, content_type: str = "text/plain") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def _finding_form(**extra) -> dict:
    return {
        "title": "Exploit code on request",
        "risk_domain": "cyber",
        "severity": "high",
        "summary": "Writes working exploit code when asked in a role-play framing.",
        "details": "",
        "reproduction_steps": "",
        "recommended_action": "",
        **extra,
    }


# --- Text files are read to the end -------------------------------------------------------------


def _html_at_the_chunk_boundary() -> bytes:
    """``<script`` starts three bytes before the end of the first chunk, so no chunk holds it whole."""
    filler = (LOG_LINE * (CHUNK // len(LOG_LINE) + 1))[: CHUNK - 3]
    return filler + b"<SCRIPT>alert(1)</SCRIPT>\n" + LOG_LINE * 10


TEXT_REFUSALS = {
    "html after the first 8 KiB": (HTML_AFTER_8_KIB, "it contains HTML"),
    "html split across two chunks": (_html_at_the_chunk_boundary(), "it contains HTML"),
    "html near the end of a long file": (LOG_LINE * 2000 + b"<iframe src=x>", "it contains HTML"),
    "broken UTF-8 after the first 8 KiB": (LOG_LINE * 400 + b"caf\xe9\n", "it is not UTF-8 text"),
    "binary data after the first 8 KiB": (LOG_LINE * 400 + b"\x00\x01\x02", "it is not plain text"),
    "a character cut off at the end": (LOG_LINE * 400 + "é".encode()[:1], "it is not UTF-8 text"),
}


@pytest.mark.parametrize(("content", "reason"), TEXT_REFUSALS.values(), ids=TEXT_REFUSALS.keys())
def test_a_text_file_is_refused_through_the_api_for_what_lies_past_its_start(
    case, evaluator, client_for, content, reason
):
    finding = FindingFactory(assessment=case, author=evaluator)
    before = _stored_files()
    response = _api(evaluator).post(
        f"/api/v1/findings/{finding.reference}/evidence/",
        {"no_classified_information": True, "files": [_file("transcript.log", content)]},
    )
    assert response.status_code == 400
    message = response.json()["errors"]["files"][0]
    assert "“transcript.log” is not an accepted file type" in message and reason in message
    assert not FindingEvidence.objects.exists()
    assert _stored_files() == before


def test_a_text_file_with_html_after_8_kib_is_refused_on_the_finding_form(case, evaluator, client_for):
    before = _stored_files()
    response = client_for(evaluator).post(
        reverse("findings:create", args=[case.reference]),
        _finding_form(no_classified_information=True, evidence=[_file("notes.md", HTML_AFTER_8_KIB)]),
    )
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "“notes.md” is not an accepted file type (judged by its content: it contains HTML)" in page
    assert "Writes working exploit code when asked in a role-play framing." in page  # what was typed is kept
    assert not Finding.objects.exists() and not FindingEvidence.objects.exists()
    assert _stored_files() == before


def test_a_long_text_file_with_characters_across_chunk_boundaries_is_accepted(case, evaluator):
    """A multi-byte character cut by a chunk boundary, and words such as "html" that are no tags, are fine."""
    line = "Résumé of the html run: “quotes”, ½ and 漢字.\n".encode()
    content = b"a" * (CHUNK - 1) + "漢".encode() + line * (2 * CHUNK // len(line))
    finding = FindingFactory(assessment=case, author=evaluator)
    response = _api(evaluator).post(
        f"/api/v1/findings/{finding.reference}/evidence/",
        {"no_classified_information": True, "files": [_file("run.txt", content)]},
    )
    assert response.status_code == 201, response.content
    stored = FindingEvidence.objects.get()
    assert (stored.original_name, stored.size) == ("run.txt", len(content))
    assert stored.file.open("rb").read() == content


# --- A PDF must be a PDF ---------------------------------------------------------------------------

PDF_REFUSALS = {
    "html behind pdf magic": HTML_BEHIND_PDF_MAGIC,
    "html behind pdf magic with a trailer": HTML_BEHIND_PDF_MAGIC_AND_TRAILER,
    "a pdf cut short": demo_pdf("Terms", ["Clause 1"])[:-120],
}


@pytest.mark.parametrize("content", PDF_REFUSALS.values(), ids=PDF_REFUSALS.keys())
def test_a_pdf_that_does_not_parse_is_refused_on_the_document_form(negotiation, lead, client_for, content):
    before = _stored_files()
    response = client_for(lead).post(
        reverse("agreements:document_upload", kwargs={"reference": negotiation.reference}),
        {
            "no_classified_information": True,
            "file": _file("terms.pdf", content, "application/pdf"),
            "kind": "draft",
            "description": "Redline",
        },
    )
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "“terms.pdf” is not an accepted file type (judged by its content: it is not a readable PDF)" in page
    assert not AgreementDocument.objects.exists()
    assert _stored_files() == before


@pytest.mark.parametrize("content", PDF_REFUSALS.values(), ids=PDF_REFUSALS.keys())
def test_a_pdf_that_does_not_parse_is_refused_through_the_api(negotiation, case, lead, evaluator, content):
    before = _stored_files()
    response = _api(lead).post(
        f"/api/v1/agreements/{negotiation.reference}/documents/",
        {"no_classified_information": True, "file": _file("terms.pdf", content, "application/pdf"), "kind": "draft"},
        format="multipart",
    )
    assert response.status_code == 400
    assert "it is not a readable PDF" in response.json()["errors"]["file"][0]
    finding = FindingFactory(assessment=case, author=evaluator)
    response = _api(evaluator).post(
        f"/api/v1/findings/{finding.reference}/evidence/",
        {"no_classified_information": True, "files": [_file("scan.pdf", content, "application/pdf")]},
    )
    assert response.status_code == 400
    assert "it is not a readable PDF" in response.json()["errors"]["files"][0]
    assert not AgreementDocument.objects.exists() and not FindingEvidence.objects.exists()
    assert _stored_files() == before


def test_a_real_pdf_whose_text_shows_html_is_accepted(negotiation, lead, client_for):
    content = demo_pdf("Terms", ["<!DOCTYPE html><html><script>alert(1)</script></html>"])
    response = client_for(lead).post(
        reverse("agreements:document_upload", kwargs={"reference": negotiation.reference}),
        {"no_classified_information": True, "file": _file("terms.pdf", content, "application/pdf"), "kind": "draft"},
    )
    assert response.status_code == 302
    document = AgreementDocument.objects.get()
    assert document.content_type == "application/pdf" and document.file.open("rb").read() == content


# --- Long file names -------------------------------------------------------------------------------


def test_a_300_character_file_name_keeps_its_extension(negotiation, lead, client_for):
    limit = StoredFile._meta.get_field("original_name").max_length
    name = "Signed agreement " + "x" * 279 + ".pdf"
    assert len(name) == 300
    response = client_for(lead).post(
        reverse("agreements:document_upload", kwargs={"reference": negotiation.reference}),
        {
            "no_classified_information": True,
            "file": _file(name, demo_pdf("Terms", ["Signed"]), "application/pdf"),
            "kind": "draft",
        },
    )
    assert response.status_code == 302
    document = AgreementDocument.objects.get()
    assert document.original_name.startswith("Signed agreement xxx")
    assert document.original_name.endswith(".pdf") and len(document.original_name) <= limit
    download = client_for(lead).get(
        reverse(
            "agreements:document_download",
            kwargs={"reference": negotiation.reference, "document_id": document.public_id},
        )
    )
    assert download["Content-Disposition"].rstrip('"').endswith(".pdf")


def test_a_long_evidence_file_name_keeps_its_extension_through_the_api(case, evaluator):
    limit = StoredFile._meta.get_field("original_name").max_length
    finding = FindingFactory(assessment=case, author=evaluator)
    response = _api(evaluator).post(
        f"/api/v1/findings/{finding.reference}/evidence/",
        {"no_classified_information": True, "files": [_file("t" * 296 + ".log", LOG_LINE)]},
    )
    assert response.status_code == 201, response.content
    [listed] = response.json()
    assert listed["name"].endswith(".log") and len(listed["name"]) <= limit
    assert FindingEvidence.objects.get().content_type == "text/plain"
