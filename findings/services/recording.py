"""Recording and editing a finding, and its evidence."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction

from accounts.permissions import require
from assessments.models import Assessment
from audit.services import audit_record, diff_fields
from core.errors import RuleViolation, TransitionNotAllowed
from core.markings import marking_for_code
from core.references import save_with_reference
from findings.markdown import RENDERER_VERSION
from findings.models import EvaluationRun, EvidenceSide, Finding, FindingEvidence
from findings.services.base import EDITABLE_FIELDS, _attach_files, _check_text_fields, _locked_for, _rendered_details
from findings.services.evaluation import finding_evidence_values
from findings.services.rubrics import rubric_current
from findings.services.scope import check_domain_within_case
from findings.states import EDITABLE_STATUSES

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
    attested: bool = False,
    evaluation_run: EvaluationRun | None = None,
    cited_samples: Sequence[Any] = (),
    confidence: str = "",
    not_tested: str = "",
    request=None,
) -> Finding:
    """Record a draft finding on ``assessment`` by an evaluator or lead on its team.

    The finding takes the handling marking its agreement gives the company's material
    (``Agreement.default_marking``); evidence files need ``attested`` (no classified information).
    It may cite an imported evaluation run of the assessment and sample ids of its log (checked
    against the log, ``finding_evidence_values``); it records the current rubric version of its
    domain (``rubric_current``), the one its severity was rated against.
    """
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
    check_domain_within_case(assessment=assessment, risk_domain=risk_domain)
    cited = finding_evidence_values(
        assessment=assessment,
        data={
            "evaluation_run": evaluation_run,
            "cited_samples": cited_samples,
            "confidence": confidence,
            "not_tested": not_tested,
        },
    )
    data |= {k: v for k, v in cited.items() if k != "evaluation_run"}
    rendered = _rendered_details(data["details"])
    with transaction.atomic():
        marking = marking_for_code(assessment.submission.agreement.default_marking)
        finding = save_with_reference(
            Finding(
                assessment=assessment,
                author=actor,
                marking=marking,
                evaluation_run=cited["evaluation_run"],
                rubric=rubric_current(risk_domain),
                **data,
                **rendered,
            ),
            "FND",
        )
        audit_record(
            actor=actor,
            action="create",
            obj=finding,
            request=request,
            case_ref=assessment.reference,
            summary=f"Recorded {finding.severity} {finding.risk_domain} finding “{finding.title}”",
            changes=diff_fields({}, {**data, "marking": marking.code, **_citation_audit(finding)}),
        )
        _attach_files(
            finding=finding,
            files=evidence,
            side=EvidenceSide.CENTRE,
            actor=actor,
            field="evidence",
            attested=attested,
            request=request,
        )
    return finding


def finding_update(
    *,
    actor: Any,
    finding: Finding,
    data: dict[str, Any],
    evidence: Sequence[Any] = (),
    attested: bool = False,
    request=None,
) -> Finding:
    """Change the text of a finding, and add evidence (``attested`` unclassified), while the centre works on it."""
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise RuleViolation(
            "These fields cannot be changed here.", errors={k: ["This field cannot be changed."] for k in unknown}
        )
    _check_text_fields(data)
    if "cited_samples" in data and "evaluation_run" not in data:
        data = {**data, "evaluation_run": finding.evaluation_run}
    data = {**data, **finding_evidence_values(assessment=finding.assessment, data=data)}
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
        if "risk_domain" in data and data["risk_domain"] != finding.risk_domain:
            check_domain_within_case(assessment=finding.assessment, risk_domain=data["risk_domain"])
        for key, value in data.items():
            setattr(finding, key, value if value is not None or key == "evaluation_run" else "")
        changes = diff_fields(before, {k: getattr(finding, k) for k in data})
        if changes:
            derived = rendered if "details" in changes else {}
            if "risk_domain" in changes or "severity" in changes:
                # Rated again: against the domain's rubric as it stands now.
                derived = {**derived, "rubric": rubric_current(finding.risk_domain)}
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
            finding=finding,
            files=evidence,
            side=EvidenceSide.CENTRE,
            actor=actor,
            field="evidence",
            attested=attested,
            request=request,
        )
    return finding


def _citation_audit(finding: Finding) -> dict[str, Any]:
    """The citation as the audit trail records it: the run's file name and SHA-256, not a row id."""
    run = finding.evaluation_run
    return {"evaluation_run": f"{run.original_name} (sha256 {run.sha256[:12]}…)" if run else None}


def finding_evidence_add(
    *, actor: Any, finding: Finding, files: Sequence[Any], field: str = "files", attested: bool = False, request=None
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
            finding=finding,
            files=files,
            side=EvidenceSide.CENTRE,
            actor=actor,
            field=field,
            attested=attested,
            request=request,
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
