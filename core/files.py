"""Uploaded files: checked by content and stored privately (served by ``audit.downloads``).

* ``validate_upload`` checks size and type *by content* (magic numbers via the
  ``filetype`` package; a PDF must also parse as one, with pypdf in strict
  mode; plain-text kinds must decode as UTF-8 and hold no HTML or binary data
  from the first byte to the last), and computes SHA-256 while reading. The
  file is read in chunks, never whole into memory.
* ``StoredFile`` is the abstract model every uploaded file extends: random
  name outside any web root, original name, type, size, SHA-256, uploader.
* ``private_storage`` is where those files live: the ``"private"`` entry of
  ``STORAGES``, an S3-compatible bucket when ``S3_BUCKET`` is set (every web
  node and worker sees the same files), the folder ``PRIVATE_UPLOAD_ROOT``
  otherwise. Neither is ever served directly and neither hands out URLs.
* ``open_verified`` opens a stored file for a download and checks its size and
  SHA-256 against the row first, so a changed or missing file is refused
  rather than served.

Serving a download records it in the audit trail, so it lives a layer up, in
``audit.downloads.file_response``.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import uuid
from dataclasses import dataclass

import filetype
import pypdf
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.core.signals import setting_changed
from django.db import models
from django.dispatch import receiver
from django.utils.functional import LazyObject, empty

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
# Enough of the file to recognise its kind by its magic numbers.
_HEAD_BYTES = 8192


PRIVATE_STORAGE_ALIAS = "private"
_READ_CHUNK = 64 * 1024


class PrivateFileSystemStorage(FileSystemStorage):
    """The folder ``PRIVATE_UPLOAD_ROOT`` (read when used, so a test may point it elsewhere); no URLs."""

    @property
    def base_location(self) -> str:
        return str(self._location or settings.PRIVATE_UPLOAD_ROOT)

    @property
    def location(self) -> str:
        return os.path.abspath(self.base_location)

    def url(self, name: str | None) -> str:
        raise NotImplementedError("Private files are served only by the permission-checked download views.")


class _PrivateStorage(LazyObject):
    """``storages["private"]``, looked up when first used and again after ``STORAGES`` changes.

    The file fields keep this one object; what it stands for follows the settings, as Django's own
    ``default_storage`` does, so tests can switch between the folder and the object store.
    """

    def _setup(self) -> None:
        self._wrapped = storages[PRIVATE_STORAGE_ALIAS]


_private = _PrivateStorage()


def private_storage() -> Storage:
    """Where uploaded and generated files live: the ``"private"`` entry of ``STORAGES``.

    The file fields name this function (and so do their migrations); the backend behind it is
    chosen by the settings: S3 when ``S3_BUCKET`` is set, ``PRIVATE_UPLOAD_ROOT`` otherwise.
    """
    return _private


@receiver(setting_changed)
def _forget_private_storage(*, setting: str, **kwargs) -> None:
    if setting in ("STORAGES", "PRIVATE_UPLOAD_ROOT"):
        _private._wrapped = empty


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
    The original name is kept, shortened to fit the model's field if need be
    (keeping its extension).
    """
    limit = max_bytes or settings.UPLOAD_MAX_BYTES
    full_name = (getattr(uploaded, "name", "") or "file").rsplit("/", 1)[-1]
    name = shortened_file_name(full_name, StoredFile._meta.get_field("original_name").max_length)
    size = uploaded.size
    if size == 0:
        raise ValidationError("The file is empty.", code="empty")
    if size > limit:
        raise ValidationError(
            f"The file is {size / 1048576:.1f} MB; the limit is {limit / 1048576:.0f} MB.", code="too_large"
        )
    extension = full_name.rsplit(".", 1)[-1].lower() if "." in full_name else ""
    digest = hashlib.sha256()
    head = b""
    text = _TextScan() if extension in TEXT_KINDS else None
    uploaded.seek(0)
    for chunk in uploaded.chunks():
        if len(head) < _HEAD_BYTES:
            head += chunk[: _HEAD_BYTES - len(head)]
        digest.update(chunk)
        if text is not None:
            text.feed(chunk)
    uploaded.seek(0)

    kind, problem = _kind_from_content(head, extension, text)
    if kind == "pdf" and not _parses_as_pdf(uploaded):
        kind, problem = None, "it is not a readable PDF"
    if kind is None or kind not in allowed:
        reason = f": {problem}" if problem else ""
        raise ValidationError(
            f"“{name}” is not an accepted file type (judged by its content{reason}). Accepted: {_describe(allowed)}.",
            code="bad_type",
        )
    content_type = (BINARY_KINDS.get(kind) or TEXT_KINDS[kind])[0]
    return UploadInfo(kind=kind, content_type=content_type, size=size, sha256=digest.hexdigest(), original_name=name)


def shortened_file_name(name: str, max_length: int) -> str:
    """``name`` cut to ``max_length`` characters, keeping its extension and marking the cut with "…"."""
    if len(name) <= max_length:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension) > 16:
        return name[: max_length - 1] + "…"
    return f"{stem[: max_length - len(extension) - 2]}….{extension}"


def _kind_from_content(head: bytes, extension: str, text: _TextScan | None) -> tuple[str | None, str]:
    """The kind of file, or None and why not (the reason may be empty)."""
    guess = filetype.guess(head)
    if guess is not None:
        for kind, (mime, _ext) in BINARY_KINDS.items():
            if guess.mime == mime:
                return kind, ""
        return None, ""
    if text is None:
        return None, ""
    problem = text.close()
    return (None, problem) if problem else (extension, "")


class _TextScan:
    """Judges a text file chunk by chunk, to its last byte: UTF-8, no NUL byte, no HTML.

    A character or an HTML marker may be cut by a chunk boundary: the decoder
    keeps an unfinished character for the next chunk, and the end of each chunk
    is kept to be searched again with the start of the next.
    """

    _OVERLAP = max(len(marker) for marker in _HTML_MARKERS) - 1

    def __init__(self):
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._tail = b""
        self.problem = ""

    def feed(self, chunk: bytes) -> None:
        if self.problem:
            return
        if b"\x00" in chunk:
            self.problem = "it is not plain text"
            return
        try:
            self._decoder.decode(chunk)
        except UnicodeDecodeError:
            self.problem = "it is not UTF-8 text"
            return
        window = self._tail + chunk.lower()
        if any(marker in window for marker in _HTML_MARKERS):
            self.problem = "it contains HTML"
            return
        self._tail = window[-self._OVERLAP :]

    def close(self) -> str:
        """Why the file is not accepted as text, or "" when it is."""
        if not self.problem:
            try:
                self._decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                self.problem = "it is not UTF-8 text"
        return self.problem


def _parses_as_pdf(uploaded) -> bool:
    """Whether ``uploaded`` reads as a PDF (strictly), not merely starts with ``%PDF-``.

    An HTML page with ``%PDF-`` in front has the magic number but no PDF
    structure. pypdf reads the file where it lies (in memory or the temporary
    file Django wrote) and fetches only what it needs: the cross-reference
    table, the trailer and the page tree. An encrypted PDF cannot show its
    pages without the password, so there a readable trailer is enough.
    """
    uploaded.seek(0)
    try:
        reader = pypdf.PdfReader(uploaded, strict=True)
        if not reader.is_encrypted:
            len(reader.pages)
    except Exception:  # noqa: BLE001 - a hostile file can make the parser fail in many ways; all mean "not a PDF"
        return False
    finally:
        uploaded.seek(0)
    return True


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


class StoredFileUnavailable(Exception):
    """A stored file that cannot be served as uploaded: gone from storage, or its bytes changed.

    ``reason`` is ``"missing"`` or ``"changed"``; ``detail`` says what was found, for the audit trail.
    """

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def open_verified(stored: StoredFile):
    """Open ``stored`` for reading after checking its size and SHA-256 against what was recorded at upload.

    The whole file is read once to hash it, then rewound: the caller serves exactly the bytes that
    were checked. From S3 that one read is the only fetch (django-storages keeps the object in a
    spooled temporary file, in memory up to ``AWS_S3_MAX_MEMORY_SIZE``, on disk beyond it).
    Raises ``StoredFileUnavailable`` when the object is missing or no longer matches.
    """
    try:
        handle = stored.file.storage.open(stored.file.name, "rb")
    except FileNotFoundError as exc:
        raise StoredFileUnavailable("missing", f"{stored.file.name} is not in storage") from exc
    digest = hashlib.sha256()
    size = 0
    try:
        while chunk := handle.read(_READ_CHUNK):
            digest.update(chunk)
            size += len(chunk)
        handle.seek(0)
    except FileNotFoundError as exc:
        handle.close()
        raise StoredFileUnavailable("missing", f"{stored.file.name} is not in storage") from exc
    except BaseException:
        handle.close()
        raise
    if size != stored.size or digest.hexdigest() != stored.sha256:
        handle.close()
        raise StoredFileUnavailable(
            "changed",
            f"{stored.file.name} holds {size} bytes with SHA-256 {digest.hexdigest()}; "
            f"{stored.size} bytes with SHA-256 {stored.sha256} were recorded at upload",
        )
    return handle
