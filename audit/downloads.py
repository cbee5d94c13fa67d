"""Serving a stored file: as an attachment, never sniffed or cached, and recorded in the audit trail.

Callers fetch the object through ``accounts.permissions.get_object_for`` first;
this module serves what they were allowed to see.
"""

from __future__ import annotations

from django.http import FileResponse

from audit.services import audit_record
from core.files import StoredFile


def file_response(request, stored: StoredFile, *, case_ref: str = "") -> FileResponse:
    """Serve ``stored`` as a download and record it. The caller has already checked access."""
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
