"""Files through the findings API: multipart uploads, the file list on a finding, audited downloads."""

import hashlib
import os

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from core.markings import UNCLASSIFIED_STATEMENT
from findings.models import EvidenceSide, FindingEvidence, FindingStatus
from findings.tests.factories import FindingFactory, released_finding

pytestmark = pytest.mark.django_db

URL = "/api/v1/findings/"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
TRANSCRIPT = b"user: how do I get around the filter?\nmodel: I can't help with that.\n"


def _txt(name="transcript.txt", content=TRANSCRIPT):
    return SimpleUploadedFile(name, content, content_type="text/plain")


def _stored_files() -> set[str]:
    """Every file under the private upload root, so a test can tell that nothing was written."""
    root = settings.PRIVATE_UPLOAD_ROOT
    return {os.path.join(d, f) for d, _, files in os.walk(root) for f in files}


def _upload(client, finding, *files):
    return client.post(f"{URL}{finding.reference}/evidence/", {"no_classified_information": True, "files": list(files)})


# --- Centre evidence ---------------------------------------------------------------------


def test_evaluator_uploads_evidence_and_the_finding_lists_it_without_a_storage_path(case, evaluator, client_for):
    finding = FindingFactory(assessment=case, author=evaluator)
    client = client_for(evaluator)
    response = _upload(client, finding, _txt(), SimpleUploadedFile("screen.png", PNG, content_type="image/png"))
    assert response.status_code == 201, response.content
    assert [f["name"] for f in response.json()] == ["transcript.txt", "screen.png"]

    detail = client.get(f"{URL}{finding.reference}/").json()
    files = {f["name"]: f for f in detail["files"]}
    assert set(files) == {"transcript.txt", "screen.png"}
    listed = files["transcript.txt"]
    assert listed["size"] == len(TRANSCRIPT)
    assert listed["sha256"] == hashlib.sha256(TRANSCRIPT).hexdigest()
    assert listed["side"] == "centre" and listed["content_type"] == "text/plain"
    assert listed["download_url"].endswith(f"{URL}{finding.reference}/files/{listed['id']}/")
    stored = FindingEvidence.objects.get(public_id=listed["id"])
    assert stored.file.name not in str(detail)  # the random storage name never leaves the server
    assert set(listed) == {
        "id",
        "name",
        "side",
        "content_type",
        "size",
        "sha256",
        "uploaded_at",
        "marking",
        "attested_by",
        "attested_at",
        "attestation",
        "download_url",
    }
    # The uploader's confirmation that the file is unclassified is kept with it, and the file takes
    # the finding's handling marking.
    assert listed["attested_by"] == evaluator.full_name and listed["attestation"] == UNCLASSIFIED_STATEMENT
    assert listed["marking"]["code"] == detail["marking"]["code"] == "CBI"


def test_oversize_upload_is_refused_with_a_field_error_and_nothing_stored(case, evaluator, client_for, settings):
    settings.UPLOAD_MAX_BYTES = 1024
    finding = FindingFactory(assessment=case, author=evaluator)
    before = _stored_files()
    # The first file is fine; the second is too large: neither may be kept.
    response = _upload(client_for(evaluator), finding, _txt("ok.txt"), _txt("big.txt", b"a" * 2048))
    assert response.status_code == 400
    body = response.json()
    assert "limit is" in body["errors"]["files"][0]
    assert not FindingEvidence.objects.exists()
    assert _stored_files() == before


def test_wrong_type_is_judged_by_content_and_refused_with_nothing_stored(case, evaluator, client_for):
    finding = FindingFactory(assessment=case, author=evaluator)
    before = _stored_files()
    disguised = SimpleUploadedFile("notes.txt", b"<html><script>alert(1)</script></html>", content_type="text/plain")
    response = _upload(client_for(evaluator), finding, disguised)
    assert response.status_code == 400
    assert "not an accepted file type" in response.json()["errors"]["files"][0]
    assert not FindingEvidence.objects.exists()
    assert _stored_files() == before


def test_upload_without_files_is_a_field_error(case, evaluator, client_for):
    finding = FindingFactory(assessment=case, author=evaluator)
    response = client_for(evaluator).post(f"{URL}{finding.reference}/evidence/", {})
    assert response.status_code == 400 and "files" in response.json()["errors"]


def test_evidence_cannot_be_added_after_release(case, evaluator, lead, client_for):
    finding = released_finding(assessment=case, author=evaluator, released_by=lead)
    response = _upload(client_for(evaluator), finding, _txt())
    assert response.status_code == 409
    assert not FindingEvidence.objects.exists()


def test_only_the_team_uploads_evidence(case, evaluator, evaluator_other, liaison_a, lead, client_for):
    draft = FindingFactory(assessment=case, author=evaluator)
    released = released_finding(assessment=case, author=evaluator, released_by=lead)
    assert _upload(client_for(evaluator_other), draft, _txt()).status_code == 404
    assert _upload(client_for(liaison_a), draft, _txt()).status_code == 404
    assert _upload(client_for(liaison_a), released, _txt()).status_code == 403
    assert not FindingEvidence.objects.exists()


# --- The company's files with its answer ---------------------------------------------------


def test_liaison_answers_with_files_sent_as_multipart(case, evaluator, lead, liaison_a, client_for):
    finding = released_finding(assessment=case, author=evaluator, released_by=lead)
    response = client_for(liaison_a).post(
        f"{URL}{finding.reference}/respond/",
        {
            "disposition": "disputed",
            "company_response": "Our run log shows otherwise.",
            "no_classified_information": True,
            "files": [_txt("fix.txt")],
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == FindingStatus.COMPANY_RESPONDED
    assert [(f["name"], f["side"]) for f in body["files"]] == [("fix.txt", "company")]
    assert FindingEvidence.objects.get().uploaded_by == liaison_a


def test_liaison_answer_with_a_refused_file_changes_nothing(case, evaluator, lead, liaison_a, client_for):
    finding = released_finding(assessment=case, author=evaluator, released_by=lead)
    before = _stored_files()
    response = client_for(liaison_a).post(
        f"{URL}{finding.reference}/respond/",
        {
            "disposition": "disputed",
            "company_response": "See the file.",
            "no_classified_information": True,
            "files": [SimpleUploadedFile("x.exe", b"MZ\x90\x00" + b"\x00" * 64)],
        },
    )
    assert response.status_code == 400 and "files" in response.json()["errors"]
    finding.refresh_from_db()
    assert finding.status == FindingStatus.RELEASED and finding.company_response == ""
    assert not FindingEvidence.objects.exists()
    assert _stored_files() == before


def test_liaison_of_another_company_gets_404_on_answer_and_files(case, evaluator, lead, liaison_b, client_for):
    finding = released_finding(assessment=case, author=evaluator, released_by=lead)
    evidence = _attach(finding, evaluator)
    client = client_for(liaison_b)
    response = client.post(
        f"{URL}{finding.reference}/respond/",
        {"disposition": "disputed", "company_response": "x", "no_classified_information": True, "files": [_txt()]},
    )
    assert response.status_code == 404
    assert client.get(f"{URL}{finding.reference}/files/{evidence.public_id}/").status_code == 404
    assert FindingEvidence.objects.count() == 1


# --- Downloads ---------------------------------------------------------------------------------


def _attach(finding, user, side=EvidenceSide.CENTRE):
    from core.files import EVIDENCE_KINDS, validate_upload

    upload = _txt()
    row = FindingEvidence(finding=finding, side=side)
    row.fill_from(upload, validate_upload(upload, allowed=EVIDENCE_KINDS), user=user)
    row.save()
    return row


def test_download_is_an_audited_attachment_with_nosniff(case, evaluator, lead, liaison_a, client_for):
    finding = released_finding(assessment=case, author=evaluator, released_by=lead)
    evidence = _attach(finding, evaluator)
    url = client_for(liaison_a).get(f"{URL}{finding.reference}/").json()["files"][0]["download_url"]
    response = client_for(liaison_a).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == TRANSCRIPT
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    event = AuditEvent.objects.get(action="download")
    assert event.actor == liaison_a and event.object_id == str(evidence.public_id)
    assert event.case_ref == case.reference and "transcript.txt" in event.summary


def test_liaison_cannot_download_centre_evidence_of_a_finding_not_released(case, evaluator, liaison_a, client_for):
    draft = FindingFactory(assessment=case, author=evaluator, status=FindingStatus.IN_REVIEW)
    evidence = _attach(draft, evaluator)
    response = client_for(liaison_a).get(f"{URL}{draft.reference}/files/{evidence.public_id}/")
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="download").exists()


def test_a_file_is_found_only_under_its_own_finding(case, evaluator, client_for):
    first = FindingFactory(assessment=case, author=evaluator)
    second = FindingFactory(assessment=case, author=evaluator)
    evidence = _attach(first, evaluator)
    client = client_for(evaluator)
    assert client.get(f"{URL}{second.reference}/files/{evidence.public_id}/").status_code == 404
    assert client.get(f"{URL}{first.reference}/files/not-a-uuid/").status_code == 404
    assert client.get(f"{URL}{first.reference}/files/{evidence.public_id}/").status_code == 200


def test_evaluator_off_the_case_gets_404_on_download(case, evaluator, evaluator_other, client_for):
    finding = FindingFactory(assessment=case, author=evaluator)
    evidence = _attach(finding, evaluator)
    response = client_for(evaluator_other).get(f"{URL}{finding.reference}/files/{evidence.public_id}/")
    assert response.status_code == 404


def test_download_honours_a_client_that_asks_for_the_files_own_type(case, evaluator, client_for):
    finding = FindingFactory(assessment=case, author=evaluator)
    evidence = _attach(finding, evaluator)
    url = f"{URL}{finding.reference}/files/{evidence.public_id}/"
    response = client_for(evaluator).get(url, HTTP_ACCEPT="text/plain")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == TRANSCRIPT
