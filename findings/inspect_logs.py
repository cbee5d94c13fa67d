"""Reading Inspect evaluation logs with Inspect's own reader, and nothing else of Inspect.

``inspect_ai`` is imported inside these functions only: loading it costs over a second and
pulls in much of its stack, which a web process pays only when someone reads a sample, and
Django's start-up never. The import (``log_summary``) reads the header alone
(``read_eval_log(header_only=True)``) and the samples' summaries (ids and epochs), so a large
log never loads whole; a cited sample's input and output are read one at a time on request
(``log_samples``).
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePath
from typing import Any

# Inspect's run statuses: an import accepts a finished run, or one deliberately cancelled part way.
ACCEPTED_RUN_STATUSES = ("success", "cancelled")
# The longest text of a sample shown on a page; the rest is in the log, for whoever downloads it.
SAMPLE_TEXT_LIMIT = 20_000


class LogUnreadable(Exception):
    """The file is not an Inspect log Inspect can read (or not a whole one); the message says which."""


@dataclass(frozen=True)
class LogSummary:
    task_name: str
    task_version: str
    model: str
    run_status: str
    started_at: datetime | None
    completed_at: datetime | None
    sample_count: int
    scores: list[dict[str, Any]]
    sample_ids: list[Any]
    inspect_version: str
    error_message: str = ""


@dataclass(frozen=True)
class SampleText:
    id: Any
    epoch: int
    input: str
    target: str
    output: str
    scores: dict[str, str] = field(default_factory=dict)


@contextmanager
def local_copy(stored_file, suffix: str) -> Iterator[str]:
    """A path on this machine holding ``stored_file`` (a FieldFile), for Inspect's reader.

    The folder storage has the file where it lies; an object store's is copied into a temporary
    file (with the log's extension, which the reader goes by) and removed afterwards.
    """
    storage = stored_file.storage
    try:
        path = storage.path(stored_file.name)
    except NotImplementedError:
        path = None
    if path is not None and PurePath(path).suffix == suffix:
        yield path
        return
    with tempfile.NamedTemporaryFile(suffix=suffix) as copy:
        with storage.open(stored_file.name, "rb") as source:
            shutil.copyfileobj(source, copy)
        copy.flush()
        yield copy.name


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _number(value: Any) -> Any:
    return value if isinstance(value, int | float | str | bool) or value is None else str(value)


TRUNCATED = (
    "The log is incomplete: it ends before Inspect's reader found all of it (cut short while being copied, "
    "or still being written by the run). Upload the whole file."
)
NOT_INSPECT = "The file is not an Inspect evaluation log: Inspect's reader does not recognise it."


def _looks_cut(path: str, exc: Exception) -> bool:
    """Whether the reader failed because the file ends early (not because it is another kind of file).

    An ``.eval`` is a zip whose directory is at its end: a cut one is no longer a readable zip (an
    intact zip that lacks Inspect's parts is a foreign file). A ``.json`` cut short ends inside
    the document, which the JSON parser reports as an unexpected end.
    """
    if path.endswith(".eval"):
        return not zipfile.is_zipfile(path)
    return "eof" in str(exc).lower() or "incomplete" in str(exc).lower()


def log_summary(path: str) -> LogSummary:
    """The header of the log at ``path`` and its samples' ids; ``LogUnreadable`` when it is not a whole Inspect log."""
    from inspect_ai.log import read_eval_log, read_eval_log_sample_summaries

    try:
        log = read_eval_log(path, header_only=True)
        # The sample summaries sit at the end of an .eval and across a .json: a cut file fails here.
        summaries = read_eval_log_sample_summaries(path)
    except Exception as exc:  # noqa: BLE001 - the reader fails in many ways on a foreign or cut file; all mean "unreadable"
        raise LogUnreadable(TRUNCATED if _looks_cut(path, exc) else NOT_INSPECT) from exc
    if log.eval is None or not getattr(log.eval, "task", ""):
        raise LogUnreadable("The file is not an Inspect evaluation log: it names no task.")
    scores = []
    for score in (log.results.scores if log.results else None) or []:
        scores.append(
            {
                "name": score.name,
                "scorer": score.scorer,
                "metrics": {name: _number(metric.value) for name, metric in (score.metrics or {}).items()},
            }
        )
    ids: list[Any] = []
    for summary in summaries:
        if summary.id not in ids:
            ids.append(summary.id)
    packages = getattr(log.eval, "packages", None) or {}
    total = log.results.total_samples if log.results else len(summaries)
    return LogSummary(
        task_name=str(log.eval.task)[:200],
        task_version=str(log.eval.task_version if log.eval.task_version is not None else "")[:40],
        model=str(log.eval.model)[:200],
        run_status=str(log.status),
        started_at=_parse_time(log.stats.started_at if log.stats else None),
        completed_at=_parse_time(log.stats.completed_at if log.stats else None),
        sample_count=int(total or len(summaries)),
        scores=scores,
        sample_ids=ids,
        inspect_version=str(packages.get("inspect_ai", ""))[:40],
        error_message=(log.error.message[:200] if log.error else ""),
    )


def _text(value: Any) -> str:
    """A sample's input or target as text: a string, a list of strings, or chat messages."""
    if value is None:
        return ""
    if isinstance(value, str):
        text = value
    elif isinstance(value, list):
        parts = []
        for item in value:
            if isinstance(item, str):
                parts.append(item)
            else:
                parts.append(f"{getattr(item, 'role', 'message')}: {getattr(item, 'text', '') or ''}")
        text = "\n\n".join(parts)
    else:
        text = str(value)
    return text if len(text) <= SAMPLE_TEXT_LIMIT else text[:SAMPLE_TEXT_LIMIT] + " […]"


def log_samples(path: str, ids: Sequence[Any]) -> list[SampleText]:
    """The first epoch of each sample of ``ids`` in the log at ``path``, read one at a time."""
    from inspect_ai.log import read_eval_log_sample

    samples = []
    for sample_id in ids:
        try:
            sample = read_eval_log_sample(path, id=sample_id, epoch=1)
        except Exception as exc:  # noqa: BLE001 - a sample the log no longer yields is reported, not fatal
            raise LogUnreadable(f"Sample {sample_id} could not be read from the log.") from exc
        output = sample.output.completion if sample.output is not None else ""
        samples.append(
            SampleText(
                id=sample.id,
                epoch=sample.epoch,
                input=_text(sample.input),
                target=_text(sample.target),
                output=_text(output),
                scores={name: str(score.value) for name, score in (sample.scores or {}).items()},
            )
        )
    return samples
