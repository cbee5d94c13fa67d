"""Services of the assessment report's PDF: built while the person waits when short, by a worker when long.

A report of at most ``DIRECT_MAX`` findings is built during the request
(``report_pdf_build``), as it always was. A longer one is asked for with
``report_request``, which makes a ``ReportJob`` and publishes the task
``findings.build_report`` (findings/tasks.py) once the transaction commits;
the worker runs ``report_job_build``, which writes the PDF in parts of
``PART_SIZE`` findings, recording its progress after each, and stores the file
privately with its SHA-256 (``ReportFile``). The job's page shows the progress
and offers the file when it is ready; the download is checked and audited like
every stored file.

**Reuse.** A request reuses the newest job of the same case and kind when the
report would show the same thing: the job keeps a digest of what the report
shows (every included finding's id, status and last change, the case, its
access given, the names it prints), taken when it was asked for. Any change
gives another digest, so a new job; an unchanged case costs nothing. The digest
is taken before the build reads the data, so a change made during a build
always leads to a rebuild, never to a stale file being offered.

Parts: each part is laid out by xhtml2pdf on its own (memory stays that of one
part) and the pages are joined with pypdf; the footer with "page n of m" is
stamped on afterwards, since no part knows the page count of the whole.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import timedelta
from io import BytesIO
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.permissions import require
from assessments.models import AccessTicket, Assessment
from assessments.states import ACCESS_GIVEN_TICKET_STATUSES
from audit.services import audit_record
from core.markings import HandlingMarking
from findings.models import Recommendation, ReportFile, ReportJob, ReportKind
from findings.selectors import assessment_report, report_findings
from findings.states import REPORT_JOB_MOVES, ReportJobStatus
from reminders.queue import enqueue

logger = logging.getLogger(__name__)

# The task of findings/tasks.py, published by name: this module never imports the tasks module.
BUILD_REPORT = "findings.build_report"
# A report of at most this many findings is built during the request; a longer one by a worker.
DIRECT_MAX = 200
# Findings per part of the PDF: bounds the worker's memory and paces the progress shown.
PART_SIZE = 100
# A job still queued or running whose row has not moved for this long is taken to be lost
# (a worker that died, a message that never arrived): a new request starts another build.
STALLED_AFTER = timedelta(minutes=10)
# A built report replaced by a newer build of the same case and kind is kept this long after the newer
# one finished, for whoever is still downloading it.
SUPERSEDED_GRACE = timedelta(hours=1)
# Jobs removed per transaction by the purge: each batch holds its locks briefly.
PURGE_BATCH = 200

FOOTER_FONT = ("Helvetica", 9)
FOOTER_POSITION_CM = (2, 1.2)  # from the page's left and bottom edges, inside the @page margin
# The handling-marking banner, stamped at the top and bottom of every page in the margins.
BANNER_FONT = ("Helvetica-Bold", 9)
BANNER_HEIGHT_CM = 0.6
BANNER_MARGIN_CM = 0.4  # from the page's top and bottom edges


def report_action(kind: str) -> str:
    """The policy action that guards a report of ``kind`` (the same for the page, the PDF and a job)."""
    return "assessment.report_company" if kind == ReportKind.RELEASED else "assessment.report"


def _label(kind: str) -> str:
    return "released-findings" if kind == ReportKind.RELEASED else "full"


def report_file_name(assessment: Assessment, released_only: bool) -> str:
    return f"{assessment.reference}-report{'-released' if released_only else ''}.pdf"


# --- The PDF ---------------------------------------------------------------------------------


def _footer_stamps(sizes: list[tuple[float, float]], text: str, marking: HandlingMarking | None = None) -> Any:
    """A PDF with one page per size, blank but for the footer "``text`` · page n of m" and, with a
    ``marking``, its banner across the top and the bottom of the page."""
    from pypdf import PdfReader
    from reportlab.lib.colors import HexColor
    from reportlab.lib.units import cm
    from reportlab.pdfgen import canvas

    buffer = BytesIO()
    sheet = canvas.Canvas(buffer)
    left, bottom = FOOTER_POSITION_CM
    for number, (width, height) in enumerate(sizes, start=1):
        sheet.setPageSize((width, height))
        if marking is not None:
            for y in (height - (BANNER_MARGIN_CM + BANNER_HEIGHT_CM) * cm, BANNER_MARGIN_CM * cm):
                sheet.setFillColor(HexColor(marking.banner_background))
                sheet.rect(0, y, width, BANNER_HEIGHT_CM * cm, stroke=0, fill=1)
                sheet.setFillColor(HexColor(marking.banner_foreground))
                sheet.setFont(*BANNER_FONT)
                sheet.drawCentredString(width / 2, y + 0.18 * cm, marking.banner_text)
            sheet.setFillColor(HexColor("#000000"))
        sheet.setFont(*FOOTER_FONT)
        sheet.drawString(left * cm, bottom * cm, f"{text} · page {number} of {len(sizes)}")
        sheet.showPage()
    sheet.save()
    return PdfReader(BytesIO(buffer.getvalue()))


def _render_part(html: str) -> bytes:
    from xhtml2pdf import pisa

    buffer = BytesIO()
    result = pisa.CreatePDF(html, dest=buffer, encoding="utf-8")
    if result.err:
        raise RuntimeError("The PDF report could not be produced.")
    return buffer.getvalue()


def report_pdf_build(
    *,
    assessment: Assessment,
    released_only: bool,
    progress: Callable[[int, int], None] | None = None,
    disposition: str = "",
) -> bytes:
    """The report of ``assessment`` as a PDF, laid out ``PART_SIZE`` findings at a time.

    ``progress(done, total)`` is called after each part with the findings laid out so far.
    ``disposition`` keeps only findings with that company disposition (``selectors.disposition_q``).
    The caller has checked the permission.
    """
    from pypdf import PdfReader, PdfWriter

    report = assessment_report(assessment=assessment, released_only=released_only, disposition=disposition)
    findings = report_findings(assessment=assessment, released_only=released_only, disposition=disposition)
    writer = PdfWriter()
    if progress is not None:
        progress(0, report.total)
    offset = 0
    while True:
        part = list(findings[offset : offset + PART_SIZE])
        last = offset + len(part) >= report.total
        html = render_to_string(
            "findings/report_pdf.html",
            {"report": report.part(part, first=offset == 0, last=last), "assessment": assessment},
        )
        writer.append(PdfReader(BytesIO(_render_part(html))))
        offset += len(part)
        if progress is not None:
            progress(offset, max(report.total, offset))
        if last or not part:
            break
    footer = f"{assessment.reference}{' · released findings' if released_only else ''}"
    stamps = _footer_stamps(
        [(float(p.mediabox.width), float(p.mediabox.height)) for p in writer.pages], footer, report.marking
    )
    for page, stamp in zip(writer.pages, stamps.pages, strict=True):
        page.merge_page(stamp)
        page.compress_content_streams()  # merging leaves the page's stream uncompressed: four times the size
    # Each part carries its own copy of the fonts; keep one.
    writer.compress_identical_objects(remove_duplicates=True, remove_unreferenced=True)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


# --- Building a long report in the background ---------------------------------------------------


def report_source_digest(*, assessment: Assessment, released_only: bool) -> str:
    """A fingerprint of everything the report shows: equal digests, equal reports (but the date printed).

    Three small queries: the included findings' ids, statuses and last changes, their
    recommendations', and the access given.
    """
    findings = report_findings(assessment=assessment, released_only=released_only)
    tickets = AccessTicket.objects.filter(assessment=assessment, status__in=ACCESS_GIVEN_TICKET_STATUSES)
    parts = [
        assessment.pk,
        assessment.status,
        assessment.updated_at.isoformat(),
        assessment.submission.organisation.name,
        assessment.lead.full_name if assessment.lead_id else "",
        list(findings.order_by("pk").values_list("pk", "status", "updated_at", "marking_id")),
        list(
            Recommendation.objects.filter(finding__in=findings.values("pk"))
            .order_by("pk")
            .values_list("pk", "status", "updated_at")
        ),
        list(tickets.order_by("pk").values_list("pk", "status", "updated_at")),
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _reusable(job: ReportJob | None, now) -> bool:
    if job is None or job.is_failed:
        return False
    return job.is_done or job.updated_at >= now - STALLED_AFTER


def report_request(*, actor: Any, assessment: Assessment, kind: str, request=None) -> ReportJob:
    """Ask for the PDF of the report of ``kind`` of ``assessment``, built by a worker; returns its job.

    The same rule as reading that report (``report_action``). Reuses the newest
    job of this case and kind when nothing the report shows has changed since it
    was asked for, and it is ready or still under way; otherwise makes a new job
    and publishes the build once the transaction commits. Records the request in
    the audit trail either way.
    """
    require(actor, report_action(kind), assessment, "You cannot have this report.")
    released_only = kind == ReportKind.RELEASED
    digest = report_source_digest(assessment=assessment, released_only=released_only)
    now = timezone.now()
    with transaction.atomic():
        latest = (
            ReportJob.objects.filter(assessment=assessment, kind=kind, source_digest=digest)
            .order_by("-created_at")
            .first()
        )
        reused = _reusable(latest, now)
        job = (
            latest
            if reused
            else ReportJob.objects.create(
                assessment=assessment,
                kind=kind,
                requested_by=actor,
                source_digest=digest,
                # The report carries the most restrictive marking of what it shows, fixed now.
                marking=assessment_report(assessment=assessment, released_only=released_only).marking,
            )
        )
        audit_record(
            actor=actor,
            action="export",
            obj=assessment,
            request=request,
            case_ref=assessment.reference,
            summary=f"Asked for the {_label(kind)} report (PDF), "
            + ("unchanged since it was last built" if reused else "built in the background"),
        )
        if not reused:
            transaction.on_commit(lambda: _publish_build(job.pk))
    return job


def _publish_build(job_id: int) -> None:
    # A broker that refuses the message fails the job at once, so its page offers to ask again.
    if not enqueue(BUILD_REPORT, job_id):
        ReportJob.objects.filter(pk=job_id, status__in=REPORT_JOB_MOVES["fail"].sources).update(
            status=REPORT_JOB_MOVES["fail"].target,
            error="The build could not be queued. Ask for the report again.",
            finished_at=timezone.now(),
        )


def report_job_build(*, job_id: int) -> str:
    """Build the PDF of job ``job_id``: claim it, lay it out part by part with progress, store the file.

    Idempotent: only a queued job is claimed (a conditional UPDATE), so a
    redelivered message finds nothing to do. A failure is recorded on the job
    (its page says so and offers to ask again) and logged; it is not retried,
    since a layout error would fail the same way again. Returns the outcome.
    """
    start = REPORT_JOB_MOVES["start"]
    if not ReportJob.objects.filter(pk=job_id, status__in=start.sources).update(
        status=start.target, updated_at=timezone.now()
    ):
        return "not queued"
    job = ReportJob.objects.select_related("assessment__submission__organisation", "assessment__lead").get(pk=job_id)

    def progress(done: int, total: int) -> None:
        ReportJob.objects.filter(pk=job_id).update(progress_done=done, progress_total=total, updated_at=timezone.now())

    try:
        data = report_pdf_build(assessment=job.assessment, released_only=job.released_only, progress=progress)
        with transaction.atomic():
            stored = ReportFile(
                job=job,
                original_name=report_file_name(job.assessment, job.released_only),
                content_type="application/pdf",
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                uploaded_by=job.requested_by,
            )
            stored.file.save(stored.original_name, ContentFile(data), save=False)
            stored.save()
            finish = REPORT_JOB_MOVES["finish"]
            ReportJob.objects.filter(pk=job_id, status__in=finish.sources).update(
                status=finish.target, finished_at=timezone.now()
            )
    except Exception:  # noqa: BLE001 - any failure of a build is the job's outcome, shown on its page
        logger.exception("Report job %s failed.", job_id)
        fail = REPORT_JOB_MOVES["fail"]
        ReportJob.objects.filter(pk=job_id, status__in=fail.sources).update(
            status=fail.target, error="The PDF could not be produced.", finished_at=timezone.now()
        )
        return ReportJobStatus.FAILED.value
    return ReportJobStatus.DONE.value


def report_is_direct(total: int) -> bool:
    """True when a report of ``total`` findings is built during the request rather than by a worker."""
    return total <= DIRECT_MAX


def report_jobs_purge(*, now=None) -> int:
    """Remove report jobs nobody needs any more, their PDF with them; returns how many were removed.

    A report is made again from the case on request, so a built PDF is a copy, not a record: the
    case, its findings and the audit trail of who asked for and downloaded each report stay. A job
    goes when it finished (or was last touched) more than ``REPORT_KEEP_DAYS`` days ago, or when it
    is a built report that a newer build of the same case and kind replaced over ``SUPERSEDED_GRACE``
    ago. Its page then answers 404 and asking again builds a fresh one. Each file leaves storage
    after its row is gone (on commit), so a failure can leave an unreferenced file, never a row
    pointing at nothing. Run daily by beat (``findings.purge_report_jobs``).
    """
    now = now or timezone.now()
    done = ReportJobStatus.DONE
    newer = ReportJob.objects.filter(
        assessment_id=OuterRef("assessment_id"),
        kind=OuterRef("kind"),
        status=done,
        created_at__gt=OuterRef("created_at"),
        finished_at__lt=now - SUPERSEDED_GRACE,
    )
    old = now - timedelta(days=settings.REPORT_KEEP_DAYS)
    stale = ReportJob.objects.filter(
        Q(updated_at__lt=old) | Q(status=done, finished_at__isnull=False) & Q(Exists(newer))
    ).order_by("pk")
    removed = 0
    while True:
        with transaction.atomic():
            batch = list(stale.select_for_update(skip_locked=True).values_list("pk", flat=True)[:PURGE_BATCH])
            if not batch:
                break
            names = list(ReportFile.objects.filter(job_id__in=batch).values_list("file", flat=True))
            ReportJob.objects.filter(pk__in=batch).delete()
            storage = ReportFile._meta.get_field("file").storage
            transaction.on_commit(lambda names=names, storage=storage: _delete_files(storage, names))
        removed += len(batch)
    return removed


def _delete_files(storage, names: list[str]) -> None:
    for name in names:
        try:
            storage.delete(name)
        except OSError:  # logged and left: an unreferenced file harms nobody, and this runs again tomorrow
            logger.warning("Could not delete the report file %s.", name, exc_info=True)
