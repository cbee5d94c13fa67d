"""Celery tasks of the findings app: thin wrappers that take ids and call one service.

``findings.reports`` publishes them by name (through reminders/queue.py) once its
transaction commits, and never imports this module. A task claims its job before
working, so a redelivered message does nothing twice.
"""

from __future__ import annotations

from celery import shared_task

from findings import reports, services
from findings.services import evaluation


@shared_task(name=reports.BUILD_REPORT, ignore_result=True)
def build_report(job_id: int) -> str:
    """Lay out the PDF of a report job part by part, recording progress, and store the file."""
    return reports.report_job_build(job_id=job_id)


@shared_task(name="findings.purge_report_jobs", ignore_result=True)
def purge_report_jobs() -> int:
    """Remove report jobs (and their PDFs) that are old or replaced by a newer build."""
    return reports.report_jobs_purge()


@shared_task(name="findings.mark_not_answered", ignore_result=True)
def mark_not_answered() -> int:
    """Mark released findings whose response due date passed without an answer (idempotent)."""
    return services.findings_mark_not_answered()


@shared_task(name=evaluation.IMPORT_LOG, ignore_result=True)
def import_evaluation_log(run_id: int) -> str:
    """Read an uploaded Inspect log's header with Inspect's reader and record its summary, or refuse it."""
    return evaluation.evaluation_run_import(run_id=run_id)
