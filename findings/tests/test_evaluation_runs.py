"""Importing Inspect logs on an assessment: through the page, the API and the worker, with real logs."""

import hashlib
import io
import subprocess
import sys

import pytest
from django.conf import settings
from django.urls import reverse
from pypdf import PdfReader

from audit.models import AuditEvent
from core.files import private_storage
from findings.evaluation_models import EvaluationRun
from findings.services.evaluation import evaluation_run_import, evaluation_run_upload, model_matches
from findings.states import EvaluationImportStatus
from findings.tests.inspect_logs import MOCK_NOTE, imported_run, upload

pytestmark = pytest.mark.django_db


def _import_page(client, case, path, note=MOCK_NOTE, capture=None, name=None):
    url = reverse("findings:run_list", args=[case.reference])
    with capture(execute=True):
        return client.post(url, {"file": upload(path, name), "model_note": note, "no_classified_information": "on"})


def test_an_evaluator_imports_an_eval_log_through_the_page_and_sees_its_summary(
    case, evaluator, client_for, inspect_log_files, django_capture_on_commit_callbacks
):
    client = client_for(evaluator)
    response = _import_page(client, case, inspect_log_files.eval, capture=django_capture_on_commit_callbacks)
    run = EvaluationRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("findings:run_detail", args=[run.public_id])
    data = inspect_log_files.eval.read_bytes()
    assert (run.import_status, run.task_name, run.task_version, run.model, run.run_status) == (
        EvaluationImportStatus.IMPORTED,
        "refusal_probe",
        "2",
        "mockllm/model",
        "success",
    )
    assert run.sample_count == 2 and run.started_at is not None and run.completed_at is not None
    assert run.scores == [{"name": "includes", "scorer": "includes", "metrics": {"accuracy": 0.5, "stderr": 0.5}}]
    assert sorted(run.sample_ids) == ["benign-chemistry-02", "hazard-synthesis-01"]
    assert run.inspect_version.startswith("0.3.")
    assert run.sha256 == hashlib.sha256(data).hexdigest() and run.size == len(data)
    assert run.uploaded_by == evaluator and run.model_note == MOCK_NOTE
    assert run.file.name.startswith("findings/logs/") and run.file.name.endswith(".eval")

    page = client.get(response["Location"])
    assert page.status_code == 200 and "Refresh" not in page
    for text in ("refusal_probe", "mockllm/model", "includes: accuracy 0.5, stderr 0.5", run.sha256, MOCK_NOTE):
        assert text in page.text
    listing = client.get(reverse("findings:run_list", args=[case.reference]))
    assert run.original_name in listing.text and "Imported" in listing.text
    assert AuditEvent.objects.filter(object_id=str(run.public_id), summary__startswith="Imported the Inspect log")


def test_a_json_log_is_imported_through_the_api_and_polled_until_imported(
    case, lead, api, inspect_log_files, django_capture_on_commit_callbacks
):
    client = api(lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("evaluation-run-list"),
            {
                "assessment": case.reference,
                "file": upload(inspect_log_files.json),
                "model_note": MOCK_NOTE,
                "no_classified_information": "true",
            },
            format="multipart",
        )
    assert response.status_code == 202, response.content
    body = response.json()
    detail = client.get(reverse("evaluation-run-detail", args=[body["id"]])).json()
    assert detail["import_status"] == "imported" and detail["task_name"] == "refusal_probe"
    assert detail["model"] == "mockllm/model" and detail["sample_count"] == 2
    assert detail["scores"][0]["metrics"]["accuracy"] == 0.5
    listing = client.get(reverse("evaluation-run-list"), {"assessment": case.reference}).json()
    assert [r["id"] for r in listing["results"]] == [body["id"]]
    download = client.get(detail["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == inspect_log_files.json.read_bytes()
    assert AuditEvent.objects.filter(action="download", case_ref=case.reference).count() == 1


def test_a_pending_import_page_refreshes_itself_and_offers_a_refresh_link(
    case, evaluator, client_for, inspect_log_files
):
    run = evaluation_run_upload(actor=evaluator, assessment=case, file=upload(inspect_log_files.eval), attested=True)
    page = client_for(evaluator).get(reverse("findings:run_detail", args=[run.public_id]))
    assert page["Refresh"] == "3"
    assert "Waiting for a worker to read the log" in page.text and "Refresh now" in page.text
    assert client_for(evaluator).get(reverse("findings:run_download", args=[run.public_id])).status_code == 404


def _refused(case, evaluator, path, capture, model_note=MOCK_NOTE):
    """Upload ``path`` and run the import, with its after-commit work (the file's removal) done."""
    run = evaluation_run_upload(
        actor=evaluator, assessment=case, file=upload(path), model_note=model_note, attested=True
    )
    stored = run.file.name
    assert private_storage().exists(stored)
    with capture(execute=True):
        evaluation_run_import(run_id=run.pk)
    run.refresh_from_db()
    assert not private_storage().exists(stored)  # the file left storage
    return run


def test_another_model_is_refused_naming_both_and_nothing_is_kept(
    case, evaluator, client_for, inspect_log_files, django_capture_on_commit_callbacks
):
    run = _refused(case, evaluator, inspect_log_files.eval, django_capture_on_commit_callbacks, model_note="")
    assert run.import_status == EvaluationImportStatus.FAILED
    assert "“mockllm/model”" in run.import_error and "“Alpha-Frontier 2.0”" in run.import_error
    assert run.file.name == "" and run.task_name == "" and run.sample_ids == [] and run.scores == []
    page = client_for(evaluator).get(reverse("findings:run_detail", args=[run.public_id]))
    assert "The log was not imported" in page.text and "Alpha-Frontier 2.0" in page.text
    assert "Nothing of this log was kept" in page.text and "Refresh" not in page
    # Refused runs cannot be cited, and the same log may be tried again with the reason.
    again = imported_run(assessment=case, actor=evaluator)
    assert again.import_status == EvaluationImportStatus.IMPORTED


def test_the_submissions_name_with_a_provider_prefix_matches(case):
    assert model_matches("openai/alpha-frontier-2.0", case)
    assert model_matches("Alpha-Frontier", case)
    assert model_matches("vertex/alpha_frontier 2.0", case)
    assert not model_matches("mockllm/model", case)
    assert not model_matches("openai/beta-frontier", case)


@pytest.mark.parametrize(
    ("which", "message"),
    [
        ("truncated", "The log is incomplete"),
        ("truncated_json", "The log is incomplete"),
        ("not_inspect", "not an Inspect evaluation log"),
        ("not_inspect_zip", "not an Inspect evaluation log"),
        ("failed", "did not finish (Inspect recorded “error”"),
    ],
)
def test_a_broken_log_or_failed_run_is_refused_with_a_clear_message(
    case, evaluator, inspect_log_files, which, message, django_capture_on_commit_callbacks
):
    run = _refused(case, evaluator, getattr(inspect_log_files, which), django_capture_on_commit_callbacks)
    assert run.import_status == EvaluationImportStatus.FAILED
    assert message in run.import_error
    assert str(settings.PRIVATE_UPLOAD_ROOT) not in run.import_error  # no server path in what people read
    assert run.file.name == "" and run.task_name == "" and run.sample_count is None


def test_a_file_that_is_not_a_log_kind_is_refused_on_the_form_and_nothing_is_stored(
    case, evaluator, client_for, inspect_log_files, django_capture_on_commit_callbacks
):
    client = client_for(evaluator)
    response = _import_page(
        client, case, inspect_log_files.json, note="Alias.", capture=django_capture_on_commit_callbacks, name="log.txt"
    )
    assert response.status_code == 400
    assert "is not an Inspect log: choose a .eval or .json file" in response.text
    assert "Alias." in response.text  # what was typed is kept
    pdf_named_eval = _import_page(
        client, case, inspect_log_files.not_inspect, capture=django_capture_on_commit_callbacks, name="x.eval"
    )
    assert pdf_named_eval.status_code == 400 and "not an accepted file type" in pdf_named_eval.text
    assert not EvaluationRun.objects.exists()


def test_the_same_log_cannot_be_imported_twice_on_a_case(
    case, evaluator, client_for, inspect_log_files, django_capture_on_commit_callbacks
):
    imported_run(assessment=case, actor=evaluator)
    response = _import_page(
        client_for(evaluator), case, inspect_log_files.eval, capture=django_capture_on_commit_callbacks
    )
    assert response.status_code == 400 and "already on" in response.text
    assert EvaluationRun.objects.count() == 1


def test_the_api_answers_400_with_field_errors(case, evaluator, api, inspect_log_files):
    client = api(evaluator)
    response = client.post(
        reverse("evaluation-run-list"),
        {
            "assessment": case.reference,
            "file": upload(inspect_log_files.eval, "run.csv"),
            "no_classified_information": "true",
        },
        format="multipart",
    )
    assert response.status_code == 400 and "choose a .eval or .json file" in response.json()["errors"]["file"][0]
    missing = client.post(reverse("evaluation-run-list"), {"assessment": case.reference}, format="multipart")
    assert missing.status_code == 400 and "file" in missing.json()["errors"]
    other = client.post(
        reverse("evaluation-run-list"),
        {"assessment": "ASM-1999-0001", "file": upload(inspect_log_files.eval), "no_classified_information": "true"},
        format="multipart",
    )
    assert other.status_code == 400 and "assessment" in other.json()["errors"]
    assert not EvaluationRun.objects.exists()


def test_another_company_and_an_evaluator_off_the_case_get_404(
    case, evaluator, evaluator_other, liaison_a, liaison_b, client_for, api, inspect_log_files
):
    run = imported_run(assessment=case, actor=evaluator)
    for user in (liaison_a, liaison_b, evaluator_other):
        client = client_for(user)
        assert client.get(reverse("findings:run_detail", args=[run.public_id])).status_code == 404
        assert client.get(reverse("findings:run_download", args=[run.public_id])).status_code == 404
        assert api(user).get(reverse("evaluation-run-detail", args=[run.public_id])).status_code == 404
        assert api(user).get(reverse("evaluation-run-list")).json()["results"] == []


def test_the_worker_claims_a_run_once(case, evaluator, inspect_log_files):
    run = evaluation_run_upload(
        actor=evaluator, assessment=case, file=upload(inspect_log_files.eval), model_note=MOCK_NOTE, attested=True
    )
    assert evaluation_run_import(run_id=run.pk) == "imported"
    assert evaluation_run_import(run_id=run.pk) == "not queued"
    assert AuditEvent.objects.filter(summary__startswith="Imported the Inspect log").count() == 1


def test_the_upload_limit_is_its_own_setting(case, evaluator, inspect_log_files, settings):
    settings.EVAL_LOG_MAX_BYTES = 1024
    from core.errors import RuleViolation

    with pytest.raises(RuleViolation) as refused:
        evaluation_run_upload(actor=evaluator, assessment=case, file=upload(inspect_log_files.eval), attested=True)
    assert "the limit is" in str(refused.value) and not EvaluationRun.objects.exists()


def test_django_starts_without_importing_inspect():
    # A fresh interpreter: load the settings, every URL and view, and ask whether Inspect came along.
    code = (
        "import django, sys; django.setup(); "
        "from django.urls import get_resolver; get_resolver().url_patterns; "
        "import findings.views, findings.evaluation_views, findings.api.runs, findings.tasks; "
        "print('inspect_ai' in sys.modules)"
    )
    env = {"DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE, "PATH": "/usr/bin:/bin"}
    result = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=settings.BASE_DIR, check=True
    )
    assert result.stdout.strip() == "False"


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_a_stalled_import_does_not_block_uploading_the_log_again(case, evaluator, client_for, inspect_log_files):
    from datetime import timedelta

    from django.utils import timezone

    stuck = evaluation_run_upload(
        actor=evaluator, assessment=case, file=upload(inspect_log_files.eval), model_note=MOCK_NOTE, attested=True
    )
    EvaluationRun.objects.filter(pk=stuck.pk).update(updated_at=timezone.now() - timedelta(minutes=11))
    page = client_for(evaluator).get(reverse("findings:run_detail", args=[stuck.public_id]))
    assert "has not moved for a while" in page.text and "Refresh" not in page
    again = imported_run(assessment=case, actor=evaluator)
    assert again.import_status == EvaluationImportStatus.IMPORTED and again.pk != stuck.pk


def test_inspect_wrote_only_into_the_tests_temporary_folder(inspect_log_files):
    # Its data folder (traces, sample buffers) went where the fixture pointed it, and no log folder
    # appeared in the project.
    assert (inspect_log_files.folder / "data" / "inspect_ai").is_dir()
    assert not (settings.BASE_DIR / "logs").exists()
    assert inspect_log_files.eval.is_relative_to(inspect_log_files.folder)


def test_a_run_leaves_the_process_logging_as_it_was(tmp_path):
    import logging

    from findings.evaluation_demo import tiny_evaluation_log

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    tiny_evaluation_log(tmp_path / "first", log_format="eval")
    assert root.handlers == handlers and root.level == level
    # The first run's folder gone, a second run and later log lines still work.
    import shutil

    shutil.rmtree(tmp_path / "first")
    path = tiny_evaluation_log(tmp_path / "second", log_format="eval")
    logging.getLogger("findings").warning("After two runs.")
    assert path.exists() and (tmp_path / "second" / "data" / "inspect_ai").is_dir()
