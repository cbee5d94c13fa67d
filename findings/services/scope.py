"""A finding's risk domain lies within its case's: the one check the recording services share."""

from __future__ import annotations

from typing import Any

from core.choices import RiskDomain
from core.errors import RuleViolation


def check_domain_within_case(*, assessment: Any, risk_domain: str) -> None:
    """Refuse (on ``risk_domain``) a domain the case was not opened for, naming the case's domains."""
    domains = list(assessment.risk_domains or [])
    if risk_domain in RiskDomain.values and risk_domain not in domains:
        labels = ", ".join(RiskDomain(d).label for d in domains if d in RiskDomain.values) or "none"
        message = (
            f"{RiskDomain(risk_domain).label} is outside the risk domains of {assessment.reference} ({labels}), "
            "which lie within its agreement's terms."
        )
        raise RuleViolation(message, errors={"risk_domain": [message]})
