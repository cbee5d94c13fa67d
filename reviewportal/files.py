"""Uploaded files: checked by content, stored privately, served only after a policy check.

* ``validate_upload`` checks size and type *by content* (magic numbers via the
  ``filetype`` package; plain-text kinds must decode as UTF-8 and must not be
  HTML), and computes SHA-256 while reading.
* ``StoredFile`` is the abstract model every uploaded file extends: random
  name outside any web root, original name, type, size, SHA-256, uploader.
* ``file_response`` serves a stored file as an attachment with ``nosniff`` and
  ``no-store``, and records the download in the audit trail. Callers fetch the
  object through ``accounts.permissions.get_object_for`` first.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.http import FileResponse

# Kind name → (MIME type, extension). Binary kinds are recognised by their magic numbers.
BINARY_KINDS = {
    "pdf": ("application/pdf", "pdf"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    "doc": ("application/msword", "doc"),
    "odt": ("application/vnd.oasis.opendocument.text", "odt"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "png": ("image/png", "png"),
    "jpeg": ("image/jpeg", "jpg"),
    "gif": ("image/gif", "gif"),
    "webp": ("image/webp", "webp"),
    "zip": ("application/zip", "zip"),
}
# Plain-text kinds have no magic number: they are recognised by extension *and* by content.
TEXT_KINDS = {
    "txt": ("text/plain", "txt"),
    "csv": ("text/csv", "csv"),
    "json": ("application/json", "json"),
    "md": ("text/markdown", "md"),
    "log": ("text/plain", "log"),
}

AGREEMENT_DOCUMENT_KINDS = frozenset({"pdf", "docx", "doc", "odt"})
EVIDENCE_KINDS = frozenset(
    {"pdf", "docx", "xlsx", "png", "jpeg", "gif", "webp", "txt", "csv", "json", "md", "log", "zip"}
)

_HTML_MARKERS = (b"<!doctype html", b"<html", b"<script", b"<body", b"<iframe", b"<svg")


def private_storage() -> FileSystemStorage:
    """Storage under PRIVATE_UPLOAD_ROOT, which no web server serves directly."""
    return FileSystemStorage(location=settings.PRIVATE_UPLOAD_ROOT, base_url=None)


def random_upload_path(instance: models.Model, filename: str) -> str:
    """A random name with no user-supplied part; the original name is kept in the row."""
    return f"{instance._meta.app_label}/{uuid.uuid4().hex}"


@dataclass(frozen=True)
class UploadInfo:
    kind: str
    content_type: str
    size: int
    sha256: str
    original_name: str


def _describe(kinds: frozenset[str]) -> str:
    return ", ".join(sorted(k.upper() for k in kinds))


def validate_upload(uploaded, *, allowed: frozenset[str], max_bytes: int | None = None) -> UploadInfo:
    """Check an uploaded file and return what will be stored about it.

    Raises ``ValidationError`` with a message for the uploader when the file is
    too large, empty, or not one of the ``allowed`` kinds judged by its content.
    """
    limit = max_bytes or settings.UPLOAD_MAX_BYTES
    name = (getattr(uploaded, "name", "") or "file").rsplit("/", 1)[-1][:200]
    size = uploaded.size
    if size == 0:
        raise ValidationError("The file is empty.", code="empty")
    if size > limit:
        raise ValidationError(
            f"The file is {size / 1048576:.1f} MB; the limit is {limit / 1048576:.0f} MB.", code="too_large"
        )
    digest = hashlib.sha256()
    head = b""
    uploaded.seek(0)
    for chunk in uploaded.chunks():
        if len(head) < 8192:
            head += chunk[: 8192 - len(head)]
        digest.update(chunk)
    uploaded.seek(0)

    kind = _kind_from_content(head, name)
    if kind is None or kind not in allowed:
        raise ValidationError(
            f"“{name}” is not an accepted file type (judged by its content). Accepted: {_describe(allowed)}.",
            code="bad_type",
        )
    content_type = (BINARY_KINDS.get(kind) or TEXT_KINDS[kind])[0]
    return UploadInfo(kind=kind, content_type=content_type, size=size, sha256=digest.hexdigest(), original_name=name)


def _kind_from_content(head: bytes, name: str) -> str | None:
    guess = filetype.guess(head)
    if guess is not None:
        for kind, (mime, _ext) in BINARY_KINDS.items():
            if guess.mime == mime:
                return kind
        return None
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in TEXT_KINDS:
        return None
    if b"\x00" in head:
        return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # The 8 KiB sample may cut a multi-byte character; trim up to 3 bytes and retry.
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return None
    lowered = text.lower().encode()
    if any(marker in lowered for marker in _HTML_MARKERS):
        return None
    return extension


class StoredFile(models.Model):
    """Fields every uploaded file keeps. Subclasses add the owner foreign key."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    file = models.FileField(storage=private_storage, upload_to=random_upload_path, max_length=200)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=120)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return self.original_name

    def fill_from(self, uploaded, info: UploadInfo, *, user) -> None:
        """Copy the checked upload and its description onto this (unsaved) row."""
        self.file = uploaded
        self.original_name = info.original_name
        self.content_type = info.content_type
        self.size = info.size
        self.sha256 = info.sha256
        self.uploaded_by = user


def file_response(request, stored: StoredFile, *, case_ref: str = "") -> FileResponse:
    """Serve ``stored`` as a download and record it. The caller has already checked access."""
    from audit.services import audit_record

    audit_record(
        actor=request.user,
        action="download",
        obj=stored,
        request=request,
        case_ref=case_ref,
        summary=f"Downloaded {stored.original_name} (sha256 {stored.sha256[:12]}…)",
    )
    response = FileResponse(
        stored.file.open("rb"), as_attachment=True, filename=stored.original_name, content_type=stored.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
