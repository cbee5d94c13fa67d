"""Inspect logs for the tests, made by the real tool: a tiny task run against Inspect's mock model.

``generated_logs()`` runs it once per test process (``.eval`` and ``.json``, and a run that ended
in error) into a temporary folder, and adds a truncated log and files that are not Inspect logs.
Inspect is confined to that folder (``inspect_confined``): nothing is written into the home
folder or the project. The session fixture ``inspect_log_files`` (findings/tests/conftest.py)
hands them out; the folder is removed when the test process ends.
"""

from __future__ import annotations

import atexit
import functools
import io
import json
import shutil
import tempfile
import zipfile
from pathlib import Path
from types import SimpleNamespace

from django.core.files.uploadedfile import SimpleUploadedFile

from findings.evaluation_demo import tiny_evaluation_log

# Why the tests' mock model may stand in for the submission's (the note the import asks for).
MOCK_NOTE = "Run against the Inspect mock model, which stands in for the submission in this test."


@functools.cache
def generated_logs() -> SimpleNamespace:
    folder = Path(tempfile.mkdtemp(prefix="reviewportal-inspect-"))
    atexit.register(shutil.rmtree, folder, True)  # also when the matrix's world, not the fixture, asked first
    eval_log = tiny_evaluation_log(folder, log_format="eval")
    json_log = tiny_evaluation_log(folder, log_format="json")
    failed_log = tiny_evaluation_log(folder, log_format="eval", fail=True)
    truncated = folder / "truncated.eval"
    data = eval_log.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    truncated_json = folder / "truncated.json"
    text = json_log.read_bytes()
    truncated_json.write_bytes(text[: len(text) // 2])
    not_inspect = folder / "results.json"
    not_inspect.write_text(json.dumps({"accuracy": 0.93, "model": "alpha-frontier"}))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "Not an evaluation log.")
    not_inspect_zip = folder / "archive.eval"
    not_inspect_zip.write_bytes(buffer.getvalue())
    return SimpleNamespace(
        folder=folder,
        eval=eval_log,
        json=json_log,
        failed=failed_log,
        truncated=truncated,
        truncated_json=truncated_json,
        not_inspect=not_inspect,
        not_inspect_zip=not_inspect_zip,
    )


def upload(path: Path, name: str | None = None) -> SimpleUploadedFile:
    """The file at ``path`` as an upload (named ``name``, else as it is)."""
    return SimpleUploadedFile(name or path.name, path.read_bytes(), content_type="application/octet-stream")


def imported_run(*, assessment, actor, path: Path | None = None, model_note: str = MOCK_NOTE):
    """An Inspect log uploaded and imported through the services, as the worker would import it."""
    from findings.services.evaluation import evaluation_run_import, evaluation_run_upload

    run = evaluation_run_upload(
        actor=actor,
        assessment=assessment,
        file=upload(path or generated_logs().eval),
        model_note=model_note,
        attested=True,
    )
    evaluation_run_import(run_id=run.pk)
    run.refresh_from_db()
    return run


@functools.cache
def _eval_summary():
    from findings.inspect_logs import log_summary

    return log_summary(str(generated_logs().eval))


def stored_run(*, assessment, actor):
    """An imported run of the generated ``.eval`` log, written directly with the summary its import records.

    For worlds built many times over (the permission matrix): Inspect reads the log once per test
    process instead of once per world. Tests of the import itself use ``imported_run``.
    """
    import hashlib

    from django.utils import timezone

    from core.markings import marking_for_code
    from findings.evaluation_models import EvaluationRun

    path = generated_logs().eval
    data = path.read_bytes()
    summary = _eval_summary()
    run = EvaluationRun(
        assessment=assessment,
        original_name=path.name,
        content_type="application/zip",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by=actor,
        model_note=MOCK_NOTE,
        import_status="imported",
        imported_at=timezone.now(),
        task_name=summary.task_name,
        task_version=summary.task_version,
        model=summary.model,
        run_status=summary.run_status,
        started_at=summary.started_at,
        completed_at=summary.completed_at,
        sample_count=summary.sample_count,
        scores=summary.scores,
        sample_ids=summary.sample_ids,
        inspect_version=summary.inspect_version,
    )
    run.file = upload(path)
    run.marking = marking_for_code(assessment.submission.agreement.default_marking)
    run.attest(user=actor)
    run.save()
    return run
