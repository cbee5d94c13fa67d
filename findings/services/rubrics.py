"""Per-domain severity rubrics: revising one adds a version; a finding records the version it was rated against."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import OuterRef, Subquery

from accounts.permissions import require
from audit.services import audit_record, diff_fields
from core import bounds
from core.errors import RuleViolation
from findings.evaluation_models import RUBRIC_DOMAINS, RUBRIC_SEVERITIES, SeverityRubric


def severity_rubric_revise(
    *, actor: Any, risk_domain: str, texts: dict[str, str], change_note: str = "", request=None
) -> SeverityRubric:
    """Write a new version of ``risk_domain``'s rubric with ``texts`` (one text per severity).

    Programme admins only. Earlier versions stay as they were, so every finding keeps showing
    the words it was rated against; findings rated from now on record this version.
    """
    require(actor, "severity_rubric.revise", None, "Only programme admins can revise the severity rubrics.")
    errors: dict[str, list[str]] = {}
    if risk_domain not in [d.value for d in RUBRIC_DOMAINS]:
        errors["risk_domain"] = [f"Choose one of: {', '.join(d.value for d in RUBRIC_DOMAINS)}."]
    cleaned = {severity: str(texts.get(severity) or "").strip() for severity in RUBRIC_SEVERITIES}
    for severity, text in cleaned.items():
        if not text:
            errors[severity] = ["Say what this severity means in the domain."]
    errors |= bounds.length_errors(
        **{severity: (text, bounds.NOTE) for severity, text in cleaned.items()},
        change_note=(change_note or "", bounds.SHORT_NOTE),
    )
    if errors:
        raise RuleViolation("The rubric has errors; see the fields.", errors=errors)
    with transaction.atomic():
        # Lock the newest version so two admins saving at once get two versions, not one clash.
        latest = SeverityRubric.objects.select_for_update().filter(risk_domain=risk_domain).order_by("-version").first()
        version = (latest.version if latest else 0) + 1
        rubric = SeverityRubric.objects.create(
            risk_domain=risk_domain,
            version=version,
            change_note=(change_note or "").strip(),
            created_by=actor,
            **cleaned,
        )
        before = {s: getattr(latest, s) for s in RUBRIC_SEVERITIES} if latest else {}
        audit_record(
            actor=actor,
            action="create",
            obj=rubric,
            request=request,
            summary=f"Wrote version {version} of the {rubric.get_risk_domain_display()} severity rubric",
            changes=diff_fields(before, cleaned),
        )
    return rubric


def rubric_current(risk_domain: str) -> SeverityRubric | None:
    """The newest version of ``risk_domain``'s rubric; None when it has none (the general rubric applies)."""
    return SeverityRubric.objects.filter(risk_domain=risk_domain).order_by("-version").first()


def rubrics_current() -> list[SeverityRubric]:
    """The newest version of each domain's rubric, in domain order, in one query."""
    newest = SeverityRubric.objects.filter(risk_domain=OuterRef("risk_domain")).order_by("-version").values("version")
    by_domain = {r.risk_domain: r for r in SeverityRubric.objects.filter(version=Subquery(newest[:1]))}
    return [by_domain[d.value] for d in RUBRIC_DOMAINS if d.value in by_domain]
