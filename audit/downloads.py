"""Serving a stored file: checked, as an attachment, never sniffed or cached, and recorded in the audit trail.

Callers fetch the object through ``accounts.permissions.get_object_for`` first;
this module serves what they were allowed to see. The bytes are checked against
the size and SHA-256 recorded at upload before anything is sent
(``core.files.open_verified``): a file that is gone from storage answers 410, one
whose bytes changed answers 409, and either refusal is recorded in the audit trail
and logged as an error, for an administrator to restore the file from a backup.

The file is streamed through the view rather than handed out as a presigned
object-store URL: the bytes served are the bytes checked, nothing outlives the
request (a presigned URL works for anyone who holds it until it expires, and
lands in browser history and proxy logs), and the download headers below apply
whatever the storage.
"""

from __future__ import annotations

import logging

from django.http import FileResponse, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from audit.services import audit_record
from core.api import error_body
from core.files import StoredFile, StoredFileUnavailable, open_verified

logger = logging.getLogger(__name__)

_REFUSALS = {
    # reason: (HTTP status, code, what the person is told)
    "missing": (
        410,
        "file_missing",
        "This file is no longer in storage, so it cannot be downloaded. "
        "The refusal has been recorded; an administrator can restore the file from a backup.",
    ),
    "changed": (
        409,
        "file_changed",
        "The stored file no longer matches the one that was uploaded (its SHA-256 differs), so it is not served. "
        "The refusal has been recorded; an administrator can restore the file from a backup.",
    ),
}


def file_response(request, stored: StoredFile, *, case_ref: str = "") -> HttpResponse:
    """Serve ``stored`` as a download and record it. The caller has already checked access."""
    try:
        handle = open_verified(stored)
    except StoredFileUnavailable as problem:
        return _refuse(request, stored, problem, case_ref=case_ref)
    audit_record(
        actor=request.user,
        action="download",
        obj=stored,
        request=request,
        case_ref=case_ref,
        summary=f"Downloaded {stored.original_name} (sha256 {stored.sha256[:12]}…)",
    )
    response = FileResponse(handle, as_attachment=True, filename=stored.original_name, content_type=stored.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _refuse(request, stored: StoredFile, problem: StoredFileUnavailable, *, case_ref: str) -> HttpResponse:
    status, code, message = _REFUSALS[problem.reason]
    logger.error(
        "Download of %s %s (%s) refused: %s.", stored._meta.label_lower, stored.public_id, case_ref, problem.detail
    )
    audit_record(
        actor=request.user,
        action="denied",
        obj=stored,
        request=request,
        case_ref=case_ref,
        summary=f"Download of {stored.original_name} refused: {problem.detail}"[:500],
    )
    if request.path.startswith("/api/"):
        response = JsonResponse(error_body(message, code), status=status)
    else:
        html = render_to_string(
            "audit/download_refused.html",
            {"file_name": stored.original_name, "message": message, "missing": problem.reason == "missing"},
            request=request,
        )
        response = HttpResponse(html, status=status)
    response["Cache-Control"] = "no-store"
    return response
