"""What every findings service shares: editable fields, limits, locking, refusals, files, deadlines."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.permissions import require
from audit.services import audit_record, diff_fields
from core import bounds
from core.choices import RiskDomain
from core.errors import RuleViolation, TransitionNotAllowed
from core.files import EVIDENCE_KINDS, validate_upload
from core.markings import attestation_require
from findings.deadlines import finding_deadline_specs
from findings.markdown import RENDERER_VERSION, render_markdown
from findings.models import Finding, FindingEvidence, Severity
from findings.states import FindingStatus
from reminders.services import deadline_sync

# Fields an evaluator writes; everything else changes only through a transition.
EDITABLE_FIELDS = (
    "title",
    "risk_domain",
    "severity",
    "summary",
    "details",
    "reproduction_steps",
    "recommended_action",
    # Checked by findings.services.evaluation: the cited run and samples, confidence, what was not tested.
    "evaluation_run",
    "cited_samples",
    "confidence",
    "not_tested",
)
# Evidence is added while the centre still works on a finding; the company attaches files to its answer.
MAX_FILES_PER_UPLOAD = 10
# The longest each text of a finding may be.
TEXT_LIMITS = {
    "title": bounds.TITLE,
    "summary": bounds.SUMMARY,
    "details": bounds.BODY,
    "reproduction_steps": bounds.BODY,
    "recommended_action": bounds.BODY,
}


# A mitigation the company plans lies between today and five years ahead.
MITIGATION_TARGET = bounds.DateRange("The mitigation target date", ahead_years=5)


def _label(status: str) -> str:
    return FindingStatus(status).label.lower()


def _not_allowed(finding: Finding, verb: str, allowed: Iterable[str]) -> TransitionNotAllowed:
    wanted = " or ".join(f"“{_label(s)}”" for s in allowed)
    return TransitionNotAllowed(
        f"{finding.reference} is “{_label(finding.status)}”; it can be {verb} only when it is {wanted}."
    )


def _locked(finding: Finding) -> Finding:
    """Re-read the finding under a row lock so two people cannot move it at once."""
    return Finding.objects.select_for_update().select_related("assessment__submission").get(pk=finding.pk)


def _locked_for(
    actor: Any, finding: Finding, action: str, message: str, *, allowed: Sequence[str], verb: str
) -> Finding:
    """Lock the finding, then check the actor (403) and its status (409, naming the states).

    Call inside ``transaction.atomic()``; ``verb`` completes "it can be … only when".
    """
    finding = _locked(finding)
    require(actor, action, finding, message)
    if finding.status not in allowed:
        raise _not_allowed(finding, verb, allowed)
    return finding


def default_response_due(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) + timedelta(days=settings.FINDING_RESPONSE_DAYS)


def _future_due(response_due_at: datetime | None) -> datetime:
    """The response due date asked for (default ``FINDING_RESPONSE_DAYS`` from now); it must be in the future,
    and within ``bounds.RESPONSE_DUE``."""
    due = response_due_at or default_response_due()
    if due <= timezone.now():
        raise RuleViolation(
            "The response due date must be in the future.", errors={"response_due_at": ["Pick a later date."]}
        )
    bounds.check_dates(response_due_at=(due, bounds.RESPONSE_DUE))
    return due


def _check_text_fields(data: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    if "title" in data and not str(data["title"] or "").strip():
        errors["title"] = ["Give the finding a title."]
    if "summary" in data and not str(data["summary"] or "").strip():
        errors["summary"] = ["Write a short summary."]
    if "risk_domain" in data and data["risk_domain"] not in RiskDomain.values:
        errors["risk_domain"] = [f"Choose one of: {', '.join(RiskDomain.values)}."]
    if "severity" in data and data["severity"] not in Severity.values:
        errors["severity"] = [f"Choose one of: {', '.join(Severity.values)}."]
    errors |= bounds.length_errors(
        **{name: (str(data[name] or ""), limit) for name, limit in TEXT_LIMITS.items() if name in data}
    )
    if errors:
        raise RuleViolation("The finding has errors; see the fields.", errors=errors)


def _attach_files(
    *,
    finding: Finding,
    files: Sequence[Any],
    side: str,
    actor: Any,
    field: str,
    attested: bool,
    request=None,
    recommendation=None,
) -> list[FindingEvidence]:
    """Check every upload by content and size, then store each with its SHA-256.

    Each file takes the finding's handling marking, and records that ``actor`` confirmed it holds
    no classified information (``attested``; refused on ``no_classified_information`` without it).

    All files are checked before the first is written, so a refused upload
    leaves nothing behind: no row, and no file in storage either (a rolled
    back transaction would not remove files already written to disk).
    """
    if len(files) > MAX_FILES_PER_UPLOAD:
        raise RuleViolation(
            f"Attach at most {MAX_FILES_PER_UPLOAD} files at once.",
            errors={field: [f"Attach at most {MAX_FILES_PER_UPLOAD} files at once."]},
        )
    if files:
        attestation_require(attested)
    checked = []
    for uploaded in files:
        try:
            checked.append((uploaded, validate_upload(uploaded, allowed=EVIDENCE_KINDS)))
        except ValidationError as exc:
            raise RuleViolation(exc.messages[0], errors={field: exc.messages}) from exc
    stored = []
    for uploaded, info in checked:
        evidence = FindingEvidence(
            finding=finding, side=side, marking_id=finding.marking_id, recommendation=recommendation
        )
        evidence.fill_from(uploaded, info, user=actor)
        evidence.attest(user=actor)
        evidence.save()
        audit_record(
            actor=actor,
            action="create",
            obj=evidence,
            request=request,
            case_ref=finding.assessment.reference,
            summary=f"Attached {info.original_name} to {finding.reference} (sha256 {info.sha256[:12]}…)",
            changes={
                "sha256": {"from": None, "to": info.sha256},
                "size": {"from": None, "to": info.size},
                "attestation": {"from": None, "to": evidence.attestation},
            },
        )
        stored.append(evidence)
    return stored


def _rendered_details(details: str) -> dict[str, Any]:
    """The stored rendering of ``details`` (see findings.markdown): written with the text, never after it."""
    return {"details_html": str(render_markdown(details)), "details_rendered_with": RENDERER_VERSION}


def _sync_deadlines(finding: Finding) -> None:
    deadline_sync(owner=finding, specs=finding_deadline_specs(finding))


def _transition(
    finding: Finding, *, to: str, actor: Any, request, summary: str, extra: dict[str, Any] | None = None
) -> Finding:
    """Write the new status (and ``extra`` fields), audit it and recompute deadlines."""
    before = {"status": finding.status, **{k: getattr(finding, k) for k in (extra or {})}}
    finding.status = to
    for key, value in (extra or {}).items():
        setattr(finding, key, value)
    finding.save(update_fields=["status", "updated_at", *(extra or {})])
    after = {"status": finding.status, **(extra or {})}
    audit_record(
        actor=actor,
        action="transition",
        obj=finding,
        request=request,
        case_ref=finding.assessment.reference,
        summary=summary,
        changes=diff_fields(before, after),
    )
    _sync_deadlines(finding)
    return finding
