"""Importing Inspect evaluation logs on an assessment, and checking a finding's citation of one.

The upload (``evaluation_run_upload``) checks the file like any evidence (size, kind by content,
SHA-256), stores it privately as a ``queued`` ``EvaluationRun`` and publishes the task
``findings.import_evaluation_log`` once the transaction commits. The worker
(``evaluation_run_import``) claims the run, reads the log's header with Inspect's own reader
(``findings.inspect_logs``), checks it (a whole Inspect log, a finished run, the submission's model
unless the evaluator said why another name is expected) and writes the summary, or refuses it: a
refused run keeps only its message, its file leaves storage and nothing of the log is kept.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import timedelta
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.permissions import require
from assessments.models import Assessment
from audit.services import audit_record, audit_record_once_a_day
from core import bounds
from core.errors import RuleViolation, TransitionNotAllowed
from core.files import validate_upload
from core.markings import attestation_require, marking_for_code
from findings import inspect_logs
from findings.evaluation_models import EVAL_LOG_SUFFIXES, EvaluationRun
from findings.states import EVALUATION_IMPORT_MOVES, EVALUATION_IMPORT_PENDING, EvaluationImportStatus
from reminders.queue import enqueue

logger = logging.getLogger(__name__)

# The task of findings/tasks.py, published by name: this module never imports the tasks module.
IMPORT_LOG = "findings.import_evaluation_log"
# What each extension must be by content: an .eval is a zip, a .json is JSON text.
_KIND_BY_SUFFIX = {".eval": frozenset({"zip"}), ".json": frozenset({"json"})}
# A pending import whose row has not moved for this long is taken to be lost (a worker that died).
IMPORT_STALLED_AFTER = timedelta(minutes=10)
# The most samples one finding cites.
MAX_CITED_SAMPLES = 50


def _field_error(field: str, message: str) -> RuleViolation:
    return RuleViolation(message, errors={field: [message]})


def evaluation_run_upload(
    *,
    actor: Any,
    assessment: Assessment,
    file: Any,
    model_note: str = "",
    attested: bool = False,
    publish: bool = True,
    request=None,
) -> EvaluationRun:
    """Store an Inspect log (``.eval`` or ``.json``) on ``assessment`` and queue its import.

    The assessment's lead and team only, while it is not withdrawn. The file is checked before
    anything is written (kind by content, at most ``EVAL_LOG_MAX_BYTES``); a log already imported
    on the case (same SHA-256) is refused. Like any evidence file, the log takes the agreement's
    default handling marking and records that ``actor`` confirmed it holds no classified
    information (``attested``; refused on ``no_classified_information`` without it). ``model_note``
    says why the log's model may carry another name than the submission's. Returns the queued run;
    its page shows the import's progress.
    ``publish=False`` leaves the import to the caller (``evaluation_run_import``), as the demo data does.
    """
    require(actor, "evaluation_run.import", assessment, "Only the assessment's lead and team can import logs on it.")
    if assessment.is_withdrawn:
        raise TransitionNotAllowed(f"{assessment.reference} was withdrawn; logs can no longer be imported on it.")
    model_note = (model_note or "").strip()
    errors = bounds.length_errors(model_note=(model_note, bounds.NOTE))
    if errors:
        raise RuleViolation("The note is too long.", errors=errors)
    if file is None:
        raise _field_error("file", "Choose an Inspect log file (.eval or .json).")
    attestation_require(attested)
    name = (getattr(file, "name", "") or "").rsplit("/", 1)[-1]
    suffix = PurePath(name).suffix.lower()
    if suffix not in EVAL_LOG_SUFFIXES:
        raise _field_error("file", f"“{name[:100]}” is not an Inspect log: choose a .eval or .json file.")
    try:
        info = validate_upload(file, allowed=_KIND_BY_SUFFIX[suffix], max_bytes=settings.EVAL_LOG_MAX_BYTES)
    except ValidationError as exc:
        raise RuleViolation(exc.messages[0], errors={"file": exc.messages}) from exc
    # An imported copy, or one being imported now; a refused or stalled attempt does not block a retry.
    moving = Q(import_status__in=EVALUATION_IMPORT_PENDING, updated_at__gte=timezone.now() - IMPORT_STALLED_AFTER)
    duplicate = (
        EvaluationRun.objects.filter(assessment=assessment, sha256=info.sha256)
        .filter(Q(import_status=EvaluationImportStatus.IMPORTED) | moving)
        .first()
    )
    if duplicate is not None:
        raise _field_error(
            "file", f"This log is already on {assessment.reference} (“{duplicate.original_name}”, the same SHA-256)."
        )
    with transaction.atomic():
        marking = marking_for_code(assessment.submission.agreement.default_marking)
        run = EvaluationRun(assessment=assessment, model_note=model_note, marking=marking)
        run.fill_from(file, info, user=actor)
        run.attest(user=actor)
        run.save()
        audit_record(
            actor=actor,
            action="create",
            obj=run,
            request=request,
            case_ref=assessment.reference,
            summary=f"Uploaded the Inspect log {info.original_name} for import (sha256 {info.sha256[:12]}…)",
            changes={"sha256": {"from": None, "to": info.sha256}, "size": {"from": None, "to": info.size}},
        )
        if publish:
            transaction.on_commit(lambda: _publish_import(run.pk))
    return run


def _publish_import(run_id: int) -> None:
    # A broker that refuses the message refuses the import at once, so its page says to try again.
    if not enqueue(IMPORT_LOG, run_id):
        _refuse(run_id, "The import could not be queued. Upload the log again.")


def _normalised(name: str) -> str:
    return re.sub(r"[\s_]+", "-", name.strip().lower())


def model_matches(log_model: str, assessment: Assessment) -> bool:
    """Whether the log's model (``provider/name``) names the assessment's submitted model.

    The provider prefix is ignored; the name must equal the submission's model name, its version,
    or both joined ("frontier-2" / "frontier-2-2.0"), compared without case, spaces or underscores.
    """
    submission = assessment.submission
    wanted = {
        _normalised(submission.model_name),
        _normalised(submission.model_version),
        _normalised(f"{submission.model_name}-{submission.model_version}"),
        _normalised(f"{submission.model_name}{submission.model_version}"),
    } - {""}
    name = _normalised(log_model)
    return name in wanted or name.rsplit("/", 1)[-1] in wanted


def _check(summary: inspect_logs.LogSummary, run: EvaluationRun) -> str:
    """Why the log cannot be imported on the run's assessment, or "" when it can."""
    if summary.run_status not in inspect_logs.ACCEPTED_RUN_STATUSES:
        said = f": {summary.error_message}" if summary.error_message else ""
        return (
            f"The run in this log did not finish (Inspect recorded “{summary.run_status}”{said}). "
            "Import the log of a completed run."
        )
    if not model_matches(summary.model, run.assessment) and not run.model_note:
        return (
            f"The log evaluated “{summary.model}”, but {run.assessment.reference} assesses "
            f"“{run.assessment.submission}”. If that is expected (a provider alias, say), upload it again "
            "and say why in the note."
        )
    return ""


def _refuse(run_id: int, message: str) -> None:
    """Mark the import refused with ``message``, drop the file from storage, and keep no summary."""
    fail = EVALUATION_IMPORT_MOVES["fail"]
    with transaction.atomic():
        run = (
            EvaluationRun.objects.select_for_update(of=("self",))
            .select_related("assessment", "uploaded_by")
            .filter(pk=run_id, import_status__in=fail.sources)
            .first()
        )
        if run is None:
            return
        name, storage = run.file.name, run.file.storage
        run.import_status = fail.target
        run.import_error = message[:500]
        run.file = ""
        run.save(update_fields=["import_status", "import_error", "file", "updated_at"])
        audit_record(
            actor=run.uploaded_by,
            action="transition",
            obj=run,
            case_ref=run.assessment.reference,
            summary=f"Refused the Inspect log {run.original_name}: {message}"[:500],
            changes={"import_status": {"from": "reading", "to": fail.target}},
        )
        if name:
            transaction.on_commit(lambda: _delete_file(storage, name))


def _delete_file(storage, name: str) -> None:
    try:
        storage.delete(name)
    except OSError:  # logged and left: an unreferenced file harms nobody
        logger.warning("Could not delete the refused log file %s.", name, exc_info=True)


def evaluation_run_import(*, run_id: int) -> str:
    """Read the queued log ``run_id`` with Inspect's reader, check it and record its summary.

    Idempotent: only a queued run is claimed (a conditional UPDATE), so a redelivered message
    does nothing. A log that is not a whole Inspect log, a run that did not finish, or another
    model without the evaluator's note is refused with a message its page shows; nothing of it
    is kept. Not retried: the same file would fail the same way. Returns the outcome.
    """
    start = EVALUATION_IMPORT_MOVES["start"]
    if not EvaluationRun.objects.filter(pk=run_id, import_status__in=start.sources).update(
        import_status=start.target, updated_at=timezone.now()
    ):
        return "not queued"
    run = EvaluationRun.objects.select_related("assessment__submission", "uploaded_by").get(pk=run_id)
    try:
        with inspect_logs.local_copy(run.file, run_log_suffix(run)) as path:
            summary = inspect_logs.log_summary(path)
    except inspect_logs.LogUnreadable as exc:
        _refuse(run_id, str(exc))
        return EvaluationImportStatus.FAILED.value
    except Exception:  # noqa: BLE001 - any other failure is the import's outcome, shown on its page
        logger.exception("Import of evaluation log %s failed.", run_id)
        _refuse(run_id, "The log could not be read. Upload it again; if it fails again, it may be damaged.")
        return EvaluationImportStatus.FAILED.value
    problem = _check(summary, run)
    if problem:
        _refuse(run_id, problem)
        return EvaluationImportStatus.FAILED.value
    finish = EVALUATION_IMPORT_MOVES["finish"]
    fields = {
        "task_name": summary.task_name,
        "task_version": summary.task_version,
        "model": summary.model,
        "run_status": summary.run_status,
        "started_at": summary.started_at,
        "completed_at": summary.completed_at,
        "sample_count": summary.sample_count,
        "scores": summary.scores,
        "sample_ids": summary.sample_ids,
        "inspect_version": summary.inspect_version,
    }
    with transaction.atomic():
        if not EvaluationRun.objects.filter(pk=run_id, import_status__in=finish.sources).update(
            import_status=finish.target, imported_at=timezone.now(), updated_at=timezone.now(), **fields
        ):
            return "not reading"
        audit_record(
            actor=run.uploaded_by,
            action="transition",
            obj=run,
            case_ref=run.assessment.reference,
            summary=f"Imported the Inspect log {run.original_name}: task {summary.task_name} on {summary.model}, "
            f"{summary.run_status}, {summary.sample_count} samples",
            changes={"import_status": {"from": start.target, "to": finish.target}},
        )
    return EvaluationImportStatus.IMPORTED.value


def citation_errors(
    *, assessment: Assessment, run: EvaluationRun | None, samples: Sequence[Any]
) -> tuple[dict[str, list[str]], list[Any]]:
    """Check a finding's citation: an imported run of the same assessment, and sample ids the log holds.

    Returns (errors by field, the cited ids as the log spells them). Sample ids are compared as
    text, since a form or JSON body may send 7 for the log's 7 or "7".
    """
    samples = [str(s).strip() for s in samples if str(s).strip()]
    if run is None:
        return ({"cited_samples": ["Choose the evaluation run the samples come from."]} if samples else {}), []
    if run.assessment_id != assessment.pk or not run.is_imported:
        return {"evaluation_run": ["Choose an imported evaluation run of this assessment."]}, []
    if len(samples) > MAX_CITED_SAMPLES:
        return {"cited_samples": [f"Cite at most {MAX_CITED_SAMPLES} samples."]}, []
    by_text = {str(sample_id): sample_id for sample_id in run.sample_ids}
    unknown = [s for s in samples if s not in by_text]
    if unknown:
        return {"cited_samples": [f"The log {run.original_name} has no sample {', '.join(unknown[:10])}."]}, []
    cited: list[Any] = []
    for s in samples:
        if by_text[s] not in cited:
            cited.append(by_text[s])
    return {}, cited


# The fields of a finding this module checks: the citation, the evaluators' confidence, what was not tested.
EVIDENCE_FIELDS = ("evaluation_run", "cited_samples", "confidence", "not_tested")


def finding_evidence_values(*, assessment: Assessment, data: dict[str, Any]) -> dict[str, Any]:
    """Check the evidence fields present in ``data`` for a finding on ``assessment``; return them cleaned.

    ``evaluation_run`` must be an imported run of the same assessment (or None), ``cited_samples``
    ids its log holds, ``confidence`` one of ``Confidence``; ``not_tested`` within ``NOTE``.
    Raises ``RuleViolation`` with field errors.
    """
    from findings.evaluation_models import Confidence

    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    if "confidence" in data:
        confidence = data["confidence"] or ""
        if confidence and confidence not in Confidence.values:
            errors["confidence"] = [f"Choose one of: {', '.join(Confidence.values)}."]
        values["confidence"] = confidence
    if "not_tested" in data:
        values["not_tested"] = str(data["not_tested"] or "")
        errors |= bounds.length_errors(not_tested=(values["not_tested"], bounds.NOTE))
    if "evaluation_run" in data or "cited_samples" in data:
        run = data.get("evaluation_run")
        citation_problems, cited = citation_errors(
            assessment=assessment, run=run, samples=list(data.get("cited_samples") or [])
        )
        errors |= citation_problems
        values["evaluation_run"] = run
        values["cited_samples"] = cited
    if errors:
        raise RuleViolation("The finding has errors; see the fields.", errors=errors)
    return values


def run_log_suffix(run: EvaluationRun) -> str:
    """The log's format as Inspect's reader knows it: the stored name's extension (kept at upload)."""
    return PurePath(run.file.name).suffix or PurePath(run.original_name).suffix.lower()


def finding_samples_read(*, actor: Any, finding: Any, request=None) -> list[inspect_logs.SampleText]:
    """The inputs, targets, outputs and scores of the samples ``finding`` cites, read from the stored log now.

    The centre's team of the case and programme admins only (``evaluation_run.read``); a company
    never reads them. Each sample is read on its own, so a large log is never loaded whole. The
    reading is recorded in the audit trail once a day per person. Raises ``LogUnreadable`` when the
    stored log is gone or no longer yields a cited sample.
    """
    run = finding.evaluation_run
    run.assessment = finding.assessment  # the same case, checked when it was cited
    require(actor, "evaluation_run.read", run, "Only the centre team reads the samples of a run.")
    try:
        with inspect_logs.local_copy(run.file, run_log_suffix(run)) as path:
            samples = inspect_logs.log_samples(path, finding.cited_samples)
    except FileNotFoundError as exc:
        raise inspect_logs.LogUnreadable("The stored log is missing; ask a programme admin.") from exc
    audit_record_once_a_day(
        actor=actor,
        action="export",
        obj=finding,
        case_ref=finding.assessment.reference,
        summary=f"Read the cited samples of the Inspect log {run.original_name}",
        request=request,
    )
    return samples
