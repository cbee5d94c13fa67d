"""The agreement's terms, checked where a case's work is planned.

A case's risk domains must lie within the risk domains in scope of its agreement's effective
terms (the framework's terms as amended, see ``agreements.terms``); its window must end by the
company's planned public release unless the lead records why not. Used by the case services,
so the forms, the API and the admin refuse the same things with the same message.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from agreements.terms import effective_terms
from core.choices import RiskDomain
from core.errors import RuleViolation


def _labels(domains: Iterable[str]) -> str:
    return ", ".join(RiskDomain(d).label for d in domains if d in RiskDomain.values) or "none"


def check_domains_within_agreement(*, agreement: Any, domains: Iterable[str], kept: Iterable[str] = ()) -> None:
    """Refuse (on ``risk_domains``) any domain outside the agreement's effective risk domains in scope.

    Domains in ``kept`` (those the case already had) are not checked again, so a case whose
    terms changed under it by a recorded decision stays editable.
    """
    in_scope = list(effective_terms(agreement).get("risk_domains") or [])
    outside = [d for d in domains if d not in in_scope and d not in set(kept)]
    if outside:
        message = (
            f"Agreement {agreement.reference} does not cover {_labels(outside)}: its term "
            f"“Risk domains in scope” is {_labels(sorted(in_scope, key=RiskDomain.values.index))}."
        )
        raise RuleViolation(message, errors={"risk_domains": [message]})


def release_date_of(submission: Any) -> datetime.date | None:
    """The company's planned public release of the submitted model (its release notice's when linked)."""
    notice = getattr(submission, "release_notice", None)
    if notice is not None:
        return notice.planned_release_date
    return submission.intended_release_date


def check_window_before_release(*, submission: Any, window_end: datetime.datetime, reason: str) -> str:
    """The window must end by the planned public release, or the lead says why not; returns the reason kept."""
    release = release_date_of(submission)
    reason = (reason or "").strip()
    if release is None or timezone.localtime(window_end).date() <= release:
        return ""
    if not reason:
        message = (
            f"The window ends after the planned public release on {release:%d %B %Y}: end it by then, "
            "or say why it must run later."
        )
        raise RuleViolation(message, errors={"window_end": [message], "window_after_release_reason": [message]})
    return reason
