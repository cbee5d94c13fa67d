"""The terms that govern the work: an agreement's own, as amended, and the hash a signature binds.

A framework or standard agreement's effective terms are its own, changed by each of its
*active amendments* in the order they took effect (only the clauses each amendment names).
A per-model addendum's effective terms are its parent's effective terms, changed by the
clauses the addendum names; the models submitted under the addendum work under those.
Services in this app and the apps above read ``effective_terms`` wherever work is checked
against the agreement (risk domains of a case, access kinds of a ticket, release notice).
"""

from __future__ import annotations

import datetime
import hashlib
import json
from typing import Any

from agreements.models import TERM_FIELDS, Agreement, AgreementKind
from agreements.states import AgreementStatus


def terms_snapshot(agreement: Agreement) -> dict[str, Any]:
    """The agreement's own terms as JSON-ready values (dates as ISO strings), keyed by TERM_FIELDS."""
    snapshot: dict[str, Any] = {}
    for name in TERM_FIELDS:
        value = getattr(agreement, name)
        if isinstance(value, datetime.date):
            value = value.isoformat()
        elif isinstance(value, list):
            value = sorted(value)
        snapshot[name] = value
    return snapshot


def terms_hash(terms: dict[str, Any]) -> str:
    """SHA-256 of a terms snapshot, its keys sorted: the same terms always give the same hash."""
    return hashlib.sha256(json.dumps(terms, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _amend(terms: dict[str, Any], amendment: Agreement) -> dict[str, Any]:
    own = terms_snapshot(amendment)
    return {**terms, **{name: own[name] for name in amendment.amended_clauses if name in own}}


def effective_terms(agreement: Agreement) -> dict[str, Any]:
    """The terms the work under ``agreement`` obeys (see the module's docstring); two or three queries."""
    if agreement.kind == AgreementKind.ADDENDUM and agreement.parent_id:
        return _amend(effective_terms(agreement.parent), agreement)
    terms = terms_snapshot(agreement)
    amendments = agreement.amendments.filter(kind=AgreementKind.AMENDMENT, status=AgreementStatus.ACTIVE).order_by(
        "effective_date", "status_changed_at", "pk"
    )
    for amendment in amendments:
        terms = _amend(terms, amendment)
    return terms


def terms_governed_by(agreement: Agreement) -> list[Agreement]:
    """The agreements whose work follows ``agreement``'s terms: itself, and for an amendment its
    parent and the parent's addenda (an amendment changes the terms of every case under them)."""
    if agreement.kind != AgreementKind.AMENDMENT or agreement.parent_id is None:
        return [agreement]
    parent = agreement.parent
    return [parent, *parent.amendments.filter(kind=AgreementKind.ADDENDUM)]
