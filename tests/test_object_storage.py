"""Files in an S3-compatible object store: a real S3 server on 127.0.0.1, not a mock inside the process.

The tests start moto's S3 server in a thread on a free port and point the ``"private"``
storage at a fresh bucket on it, as ``S3_BUCKET``/``S3_ENDPOINT_URL`` would in production.
They then go through the portal as people do (upload on a page or through the API,
download through the permission-checked views) and look at the bucket with their own
S3 client: what was stored, under which name, with which bytes. Nothing is written to
``PRIVATE_UPLOAD_ROOT`` meanwhile.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import uuid

import boto3
import pytest
from django.urls import reverse
from moto.server import ThreadedMotoServer

from agreements.models import AgreementDocument
from agreements.tests.factories import pdf_bytes
from audit.models import AuditEvent
from findings import reports
from findings.models import FindingEvidence, ReportJob
from findings.tests.factories import FindingFactory, released_finding

pytestmark = pytest.mark.django_db

TRANSCRIPT = b"user: how do I get around the filter?\nmodel: I can't help with that.\n"
CREDENTIALS = {"access_key": "rehearsal", "secret_key": "rehearsal-secret"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def s3_server():
    """moto's S3 server, over HTTP on 127.0.0.1, for this module's tests."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_server, settings):
    """A new bucket, and the private storage pointed at it (the settings S3_BUCKET and S3_ENDPOINT_URL make)."""
    name = f"portal-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id=CREDENTIALS["access_key"],
        aws_secret_access_key=CREDENTIALS["secret_key"],
    )
    client.create_bucket(Bucket=name)
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "core.s3.PrivateS3Storage",
            "OPTIONS": {
                "bucket_name": name,
                "endpoint_url": s3_server,
                "region_name": "us-east-1",
                "addressing_style": "path",
                "file_overwrite": True,
                "max_memory_size": 2 * 1024 * 1024,
                **CREDENTIALS,
            },
        },
    }
    client.bucket_name = name
    return client


def _objects(bucket) -> dict[str, bytes]:
    listing = bucket.list_objects_v2(Bucket=bucket.bucket_name).get("Contents", [])
    return {
        item["Key"]: bucket.get_object(Bucket=bucket.bucket_name, Key=item["Key"])["Body"].read() for item in listing
    }


def _local_files(settings) -> set[str]:
    root = settings.PRIVATE_UPLOAD_ROOT
    return {os.path.join(d, f) for d, _, files in os.walk(root) for f in files}


def _evidence_url(evidence: FindingEvidence) -> str:
    return reverse("findings:evidence_download", kwargs={"public_id": evidence.public_id})


def _upload_evidence(client, finding, name="transcript.txt", content=TRANSCRIPT) -> FindingEvidence:
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        f"/api/v1/findings/{finding.reference}/evidence/",
        {"no_classified_information": True, "files": [SimpleUploadedFile(name, content, content_type="text/plain")]},
    )
    assert response.status_code == 201, response.content
    return FindingEvidence.objects.get(public_id=response.json()[0]["id"])


# --- Upload ---------------------------------------------------------------------------------------


def test_evidence_uploaded_through_the_api_lands_in_the_bucket_with_its_checksum(
    bucket, settings, case, evaluator, client_for
):
    before = _local_files(settings)
    finding = FindingFactory(assessment=case, author=evaluator)
    evidence = _upload_evidence(client_for(evaluator), finding)

    stored = _objects(bucket)
    assert list(stored) == [evidence.file.name]
    assert evidence.file.name.startswith("findings/") and "transcript" not in evidence.file.name
    assert stored[evidence.file.name] == TRANSCRIPT
    assert (evidence.size, evidence.sha256) == (len(TRANSCRIPT), hashlib.sha256(TRANSCRIPT).hexdigest())
    assert _local_files(settings) == before  # nothing on this machine's disk


def test_an_agreement_document_uploaded_on_the_page_lands_in_the_bucket(bucket, agreement_a, liaison_a, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    content = pdf_bytes()
    response = client_for(liaison_a).post(
        reverse("agreements:document_upload", kwargs={"reference": agreement_a.reference}),
        {
            "no_classified_information": True,
            "file": SimpleUploadedFile("Signed terms.pdf", content, content_type="application/pdf"),
            "kind": "draft",
        },
    )
    assert response.status_code == 302, response.content
    document = AgreementDocument.objects.get(agreement=agreement_a)
    assert _objects(bucket) == {document.file.name: content}
    assert document.sha256 == hashlib.sha256(content).hexdigest() and document.size == len(content)


def test_a_report_built_in_the_background_is_stored_in_the_bucket_and_downloaded(
    bucket, case, lead, evaluator, client_for, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(reports, "DIRECT_MAX", 0)  # every report is built by the worker
    released_finding(assessment=case, author=evaluator, released_by=lead, title="Refusal bypass")
    client = client_for(lead)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("findings:report_build", args=[case.reference]))
    job = ReportJob.objects.get()
    stored = _objects(bucket)
    assert list(stored) == [job.pdf.file.name] and stored[job.pdf.file.name].startswith(b"%PDF")
    assert job.pdf.sha256 == hashlib.sha256(stored[job.pdf.file.name]).hexdigest()

    download = client.get(reverse("findings:report_job_download", args=[job.public_id]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == stored[job.pdf.file.name]


# --- Download -------------------------------------------------------------------------------------


def test_the_team_downloads_from_the_bucket_through_the_audited_view(bucket, case, evaluator, lead, client_for):
    finding = FindingFactory(assessment=case, author=evaluator)
    evidence = _upload_evidence(client_for(evaluator), finding)

    response = client_for(lead).get(_evidence_url(evidence))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == TRANSCRIPT
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff" and "no-store" in response["Cache-Control"]
    event = AuditEvent.objects.get(action=AuditEvent.Action.DOWNLOAD)
    assert (event.actor, event.case_ref) == (lead, case.reference)


def test_the_company_downloads_its_released_finding_files_and_another_company_gets_404(
    bucket, case, evaluator, lead, liaison_a, liaison_b, client_for
):
    finding = released_finding(assessment=case, author=evaluator, released_by=lead)
    evidence = FindingEvidence(finding=finding)
    from django.core.files.base import ContentFile

    from core.files import UploadInfo

    info = UploadInfo("txt", "text/plain", len(TRANSCRIPT), hashlib.sha256(TRANSCRIPT).hexdigest(), "t.txt")
    evidence.fill_from(ContentFile(TRANSCRIPT, name="t.txt"), info, user=evaluator)
    evidence.save()

    mine = client_for(liaison_a).get(_evidence_url(evidence))
    assert mine.status_code == 200 and b"".join(mine.streaming_content) == TRANSCRIPT
    other = client_for(liaison_b).get(_evidence_url(evidence))
    assert other.status_code == 404
    api = client_for(liaison_b).get(f"/api/v1/findings/{finding.reference}/files/{evidence.public_id}/")
    assert api.status_code == 404
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD, actor=liaison_b).count() == 0


def test_a_file_gone_from_the_bucket_is_refused_with_410_recorded_and_logged(
    bucket, case, evaluator, lead, client_for, caplog
):
    finding = FindingFactory(assessment=case, author=evaluator)
    evidence = _upload_evidence(client_for(evaluator), finding)
    bucket.delete_object(Bucket=bucket.bucket_name, Key=evidence.file.name)

    with caplog.at_level(logging.ERROR, logger="audit.downloads"):
        response = client_for(lead).get(_evidence_url(evidence))
    assert response.status_code == 410
    assert "This file is no longer in storage" in response.text and "transcript.txt" in response.text
    event = AuditEvent.objects.get(action=AuditEvent.Action.DENIED)
    assert event.actor == lead and "refused" in event.summary and "not in storage" in event.summary
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD).exists()
    assert any("refused" in record.getMessage() for record in caplog.records)


def test_a_file_changed_in_the_bucket_is_refused_with_409_on_the_page_and_the_api(
    bucket, case, evaluator, lead, client_for
):
    finding = FindingFactory(assessment=case, author=evaluator)
    evidence = _upload_evidence(client_for(evaluator), finding)
    tampered = TRANSCRIPT.replace(b"can't", b"can")
    bucket.put_object(Bucket=bucket.bucket_name, Key=evidence.file.name, Body=tampered)

    client = client_for(lead)
    page = client.get(_evidence_url(evidence))
    assert page.status_code == 409
    assert "no longer matches the one that was uploaded" in page.text
    api = client.get(f"/api/v1/findings/{finding.reference}/files/{evidence.public_id}/")
    assert api.status_code == 409 and api.json()["code"] == "file_changed"
    events = AuditEvent.objects.filter(action=AuditEvent.Action.DENIED, actor=lead)
    assert events.count() == 2
    assert all(hashlib.sha256(tampered).hexdigest() in e.summary for e in events)
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD).exists()


def test_a_file_changed_on_the_local_disk_is_refused_too(case, evaluator, lead, client_for):
    """Without S3 the same check guards the local folder."""
    finding = FindingFactory(assessment=case, author=evaluator)
    evidence = _upload_evidence(client_for(evaluator), finding)
    with open(evidence.file.path, "ab") as handle:
        handle.write(b"appended")
    response = client_for(lead).get(_evidence_url(evidence))
    assert response.status_code == 409
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DENIED, actor=lead).exists()


def test_the_private_storage_hands_out_no_urls(bucket):
    from core.files import private_storage

    with pytest.raises(NotImplementedError):
        private_storage().url("findings/anything")
