"""Writes of the findings app: one function per change, each checking the actor and the state.

Every function checks the actor through the policy (``require``), checks the
current status against its move in ``findings.states.FINDING_MOVES``
(``TransitionNotAllowed`` naming the states), writes, records
an audit event with the assessment's reference as ``case_ref``, and keeps the
response deadline in step (``deadline_sync``), all in one transaction. Forms,
API views and the admin call these and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.permissions import require
from assessments.models import Assessment
from audit.services import audit_record, diff_fields
from core import bounds
from core.choices import RiskDomain
from core.errors import RuleViolation, TransitionNotAllowed
from core.files import EVIDENCE_KINDS, validate_upload
from core.references import save_with_reference
from findings.deadlines import finding_deadline_specs
from findings.markdown import RENDERER_VERSION, render_markdown
from findings.models import EvidenceSide, Finding, FindingComment, FindingEvidence, Severity
from findings.states import EDITABLE_STATUSES, FINDING_MOVES, FindingStatus
from reminders.services import deadline_sync

# Fields an evaluator writes; everything else changes only through a transition.
EDITABLE_FIELDS = ("title", "risk_domain", "severity", "summary", "details", "reproduction_steps", "recommended_action")
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
    *, finding: Finding, files: Sequence[Any], side: str, actor: Any, field: str, request=None
) -> list[FindingEvidence]:
    """Check every upload by content and size, then store each with its SHA-256.

    All files are checked before the first is written, so a refused upload
    leaves nothing behind: no row, and no file in storage either (a rolled
    back transaction would not remove files already written to disk).
    """
    if len(files) > MAX_FILES_PER_UPLOAD:
        raise RuleViolation(
            f"Attach at most {MAX_FILES_PER_UPLOAD} files at once.",
            errors={field: [f"Attach at most {MAX_FILES_PER_UPLOAD} files at once."]},
        )
    checked = []
    for uploaded in files:
        try:
            checked.append((uploaded, validate_upload(uploaded, allowed=EVIDENCE_KINDS)))
        except ValidationError as exc:
            raise RuleViolation(exc.messages[0], errors={field: exc.messages}) from exc
    stored = []
    for uploaded, info in checked:
        evidence = FindingEvidence(finding=finding, side=side)
        evidence.fill_from(uploaded, info, user=actor)
        evidence.save()
        audit_record(
            actor=actor,
            action="create",
            obj=evidence,
            request=request,
            case_ref=finding.assessment.reference,
            summary=f"Attached {info.original_name} to {finding.reference} (sha256 {info.sha256[:12]}…)",
            changes={"sha256": {"from": None, "to": info.sha256}, "size": {"from": None, "to": info.size}},
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


# --- Recording and editing ----------------------------------------------------------


def finding_create(
    *,
    actor: Any,
    assessment: Assessment,
    title: str,
    risk_domain: str,
    severity: str,
    summary: str,
    details: str = "",
    reproduction_steps: str = "",
    recommended_action: str = "",
    evidence: Sequence[Any] = (),
    request=None,
) -> Finding:
    """Record a draft finding on ``assessment`` by an evaluator or lead on its team."""
    require(actor, "finding.create", assessment, "Only the assessment's lead and team can record findings on it.")
    if assessment.is_withdrawn:
        raise TransitionNotAllowed(f"{assessment.reference} was withdrawn; findings can no longer be recorded on it.")
    data = {
        "title": title,
        "risk_domain": risk_domain,
        "severity": severity,
        "summary": summary,
        "details": details or "",
        "reproduction_steps": reproduction_steps or "",
        "recommended_action": recommended_action or "",
    }
    _check_text_fields(data)
    rendered = _rendered_details(data["details"])
    with transaction.atomic():
        finding = save_with_reference(Finding(assessment=assessment, author=actor, **data, **rendered), "FND")
        audit_record(
            actor=actor,
            action="create",
            obj=finding,
            request=request,
            case_ref=assessment.reference,
            summary=f"Recorded {finding.severity} {finding.risk_domain} finding “{finding.title}”",
            changes=diff_fields({}, data),
        )
        _attach_files(
            finding=finding, files=evidence, side=EvidenceSide.CENTRE, actor=actor, field="evidence", request=request
        )
    return finding


def finding_update(
    *, actor: Any, finding: Finding, data: dict[str, Any], evidence: Sequence[Any] = (), request=None
) -> Finding:
    """Change the text of a finding, and add evidence, while the centre still works on it."""
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise RuleViolation(
            "These fields cannot be changed here.", errors={k: ["This field cannot be changed."] for k in unknown}
        )
    _check_text_fields(data)
    # Rendered before the row is locked, so the lock is held for the write only.
    rendered = _rendered_details(data["details"] or "") if "details" in data else {}
    with transaction.atomic():
        finding = _locked_for(
            actor,
            finding,
            "finding.edit",
            "Only the assessment's lead and team can change this finding.",
            allowed=EDITABLE_STATUSES,
            verb="edited",
        )
        before = {k: getattr(finding, k) for k in data}
        for key, value in data.items():
            setattr(finding, key, value if value is not None else "")
        changes = diff_fields(before, {k: getattr(finding, k) for k in data})
        if changes:
            derived = rendered if "details" in changes else {}
            for key, value in derived.items():
                setattr(finding, key, value)
            finding.save(update_fields=[*changes, *derived, "updated_at"])
            audit_record(
                actor=actor,
                action="change",
                obj=finding,
                request=request,
                case_ref=finding.assessment.reference,
                summary=f"Changed {', '.join(changes)}",
                changes=changes,
            )
        _attach_files(
            finding=finding, files=evidence, side=EvidenceSide.CENTRE, actor=actor, field="evidence", request=request
        )
    return finding


def finding_evidence_add(
    *, actor: Any, finding: Finding, files: Sequence[Any], field: str = "files", request=None
) -> list[FindingEvidence]:
    """Attach centre evidence files to a finding the team still works on (draft or in review).

    The same rule as adding evidence on the edit form: the assessment's team
    only, and only before release. ``field`` names the input in the errors.
    """
    if not files:
        raise RuleViolation("Choose at least one file.", errors={field: ["Choose at least one file."]})
    with transaction.atomic():
        finding = _locked_for(
            actor,
            finding,
            "finding.edit",
            "Only the assessment's lead and team can add evidence to it.",
            allowed=EDITABLE_STATUSES,
            verb="given new evidence",
        )
        return _attach_files(
            finding=finding, files=files, side=EvidenceSide.CENTRE, actor=actor, field=field, request=request
        )


def finding_details_render_stale(*, batch_size: int = 500) -> int:
    """Store a fresh rendering of every finding whose ``details_html`` an older renderer made (or none).

    For after a change of ``findings.markdown.RENDERER_VERSION`` and for rows written around the
    services (bulk loads). Each batch is its own transaction and re-reads the text under a row lock,
    so an edit made meanwhile is never overwritten with the rendering of the text before it.
    Returns how many findings were rendered; running it again finds none left.
    """
    stale = Finding.objects.exclude(details_rendered_with=RENDERER_VERSION).order_by("pk")
    done = 0
    last_pk = 0
    while True:
        with transaction.atomic():
            rows = list(stale.filter(pk__gt=last_pk).select_for_update().only("pk", "details")[:batch_size])
            if not rows:
                return done
            for row in rows:
                for key, value in _rendered_details(row.details).items():
                    setattr(row, key, value)
            Finding.objects.bulk_update(rows, ["details_html", "details_rendered_with"])
        done += len(rows)
        last_pk = rows[-1].pk


# --- Review and release ---------------------------------------------------------------


def finding_submit_for_review(*, actor: Any, finding: Finding, request=None) -> Finding:
    """draft → in_review: the author (or a colleague) asks a lead to review it."""
    move = FINDING_MOVES["submit_for_review"]
    with transaction.atomic():
        finding = _locked_for(
            actor,
            finding,
            move.action,
            "Only the assessment's team can submit this finding.",
            allowed=move.sources,
            verb="submitted for review",
        )
        return _transition(
            finding,
            to=move.target,
            actor=actor,
            request=request,
            summary="Submitted for review",
            extra={"submitted_at": timezone.now()},
        )


def default_response_due(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) + timedelta(days=settings.FINDING_RESPONSE_DAYS)


def finding_release(*, actor: Any, finding: Finding, response_due_at: datetime | None = None, request=None) -> Finding:
    """in_review → released: a lead other than the author releases it to the company (two-person rule).

    Sets the response due date (default ``FINDING_RESPONSE_DAYS`` from now),
    which becomes a deadline for the company's liaisons.
    """
    move = FINDING_MOVES["release"]
    due = _future_due(response_due_at)
    with transaction.atomic():
        finding = _locked_for(
            actor,
            finding,
            move.action,
            "A finding is released by a lead evaluator on the assessment who is not its author.",
            allowed=move.sources,
            verb="released",
        )
        return _transition(
            finding,
            to=move.target,
            actor=actor,
            request=request,
            summary=f"Released to the company; response due {due:%Y-%m-%d}",
            extra={"released_by": actor, "released_at": timezone.now(), "response_due_at": due},
        )


# --- The company's answer and the centre's follow-up ---------------------------------------


def finding_respond(
    *,
    actor: Any,
    finding: Finding,
    response: str,
    planned_mitigation: str = "",
    files: Sequence[Any] = (),
    request=None,
) -> Finding:
    """released → company_responded: the company's liaison answers, with files if any."""
    if not (response or "").strip():
        raise RuleViolation("Write the company's response.", errors={"company_response": ["Write a response."]})
    bounds.check_lengths(
        company_response=(response.strip(), bounds.BODY),
        planned_mitigation=((planned_mitigation or "").strip(), bounds.BODY),
    )
    move = FINDING_MOVES["respond"]
    with transaction.atomic():
        finding = _locked_for(
            actor,
            finding,
            move.action,
            "Only the company's liaison can answer this finding.",
            allowed=move.sources,
            verb="answered",
        )
        _attach_files(
            finding=finding, files=files, side=EvidenceSide.COMPANY, actor=actor, field="files", request=request
        )
        return _transition(
            finding,
            to=move.target,
            actor=actor,
            request=request,
            summary="The company responded",
            extra={
                "company_response": response.strip(),
                "planned_mitigation": (planned_mitigation or "").strip(),
                "responded_by": actor,
                "responded_at": timezone.now(),
            },
        )


def finding_resolve(*, actor: Any, finding: Finding, note: str = "", request=None) -> Finding:
    """released / company_responded → resolved: the centre accepts the answer (or closes it)."""
    move = FINDING_MOVES["resolve"]
    bounds.check_lengths(note=((note or "").strip(), bounds.NOTE))
    with transaction.atomic():
        finding = _locked_for(
            actor,
            finding,
            move.action,
            "Only the assessment's team can resolve this finding.",
            allowed=move.sources,
            verb="resolved",
        )
        return _transition(
            finding,
            to=move.target,
            actor=actor,
            request=request,
            summary="Resolved",
            extra={"resolved_by": actor, "resolved_at": timezone.now(), "resolution_note": (note or "").strip()},
        )


def finding_reopen(
    *, actor: Any, finding: Finding, note: str, response_due_at: datetime | None = None, request=None
) -> Finding:
    """company_responded / resolved → released: the centre asks the company again, with a new due date.

    ``note`` (what the centre asks) is added to the thread as a comment the company sees.
    """
    if not (note or "").strip():
        raise RuleViolation("Say what the company should answer.", errors={"note": ["Say what you ask the company."]})
    bounds.check_lengths(note=(note.strip(), bounds.NOTE))
    move = FINDING_MOVES["reopen"]
    due = _future_due(response_due_at)
    with transaction.atomic():
        finding = _locked_for(
            actor,
            finding,
            move.action,
            "Only the assessment's team can reopen this finding.",
            allowed=move.sources,
            verb="reopened",
        )
        FindingComment.objects.create(finding=finding, author=actor, body=note.strip(), internal=False)
        return _transition(
            finding,
            to=move.target,
            actor=actor,
            request=request,
            summary=f"Asked the company again; response due {due:%Y-%m-%d}",
            extra={"response_due_at": due, "resolved_by": None, "resolved_at": None},
        )


def finding_withdraw(*, actor: Any, finding: Finding, reason: str, request=None) -> Finding:
    """Any open status → withdrawn, with the reason (the author, a lead on the case or an admin)."""
    if not (reason or "").strip():
        raise RuleViolation("Give the reason for withdrawing.", errors={"reason": ["Give a reason."]})
    move = FINDING_MOVES["withdraw"]
    bounds.check_lengths(reason=(reason.strip(), bounds.NOTE))
    with transaction.atomic():
        finding = _locked_for(
            actor,
            finding,
            move.action,
            "Only the author, a lead on the assessment or an admin can withdraw it.",
            allowed=move.sources,
            verb="withdrawn",
        )
        return _transition(
            finding,
            to=move.target,
            actor=actor,
            request=request,
            summary="Withdrawn",
            extra={"withdrawn_reason": reason.strip()},
        )


# --- Comments ----------------------------------------------------------------------------


def finding_comment_add(*, actor: Any, finding: Finding, body: str, internal: bool, request=None) -> FindingComment:
    """Add a message to the thread. Internal messages are for the centre only."""
    require(actor, "finding.comment", finding, "You cannot comment on this finding.")
    if internal:
        require(actor, "finding.comment_internal", finding, "Only the centre team can write internal comments.")
    if not (body or "").strip():
        raise RuleViolation("Write a comment.", errors={"body": ["Write a comment."]})
    bounds.check_lengths(body=(body.strip(), bounds.NOTE))
    with transaction.atomic():
        comment = FindingComment.objects.create(finding=finding, author=actor, body=body.strip(), internal=internal)
        audit_record(
            actor=actor,
            action="create",
            obj=comment,
            request=request,
            case_ref=finding.assessment.reference,
            object_repr=f"{'Internal' if internal else 'Shared'} comment on {finding.reference}",
            summary=f"Commented on {finding.reference}{' (internal)' if internal else ''}",
        )
    return comment


# --- Report exports ----------------------------------------------------------------------


def assessment_report_export(
    *, actor: Any, assessment: Assessment, released_only: bool, fmt: str, request=None
) -> None:
    """Check the actor may download the report variant, and record the export."""
    action = "assessment.report_company" if released_only else "assessment.report"
    require(actor, action, assessment, "You cannot download this report.")
    audit_record(
        actor=actor,
        action="export",
        obj=assessment,
        request=request,
        case_ref=assessment.reference,
        summary=f"Downloaded the {'released-findings' if released_only else 'full'} report ({fmt.upper()})",
    )
