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


def _amend(terms: dict[str, Any], amendment: Agreement, own: dict[str, Any] | None = None) -> dict[str, Any]:
    own = own if own is not None else terms_snapshot(amendment)
    return {**terms, **{name: own[name] for name in amendment.amended_clauses if name in own}}


# (agreement, its proposed own terms): what-if effective terms, as if that agreement were active with them.
Proposal = tuple[Agreement, dict[str, Any]]


def effective_terms(agreement: Agreement, proposal: Proposal | None = None) -> dict[str, Any]:
    """The terms the work under ``agreement`` obeys (see the module's docstring); two or three queries.

    With ``proposal`` = (an agreement, its proposed terms), the answer is what the terms would be
    if that agreement were active with those terms: how a new version is checked against running work.
    """
    changed, proposed = proposal if proposal is not None else (None, None)

    def own(a: Agreement) -> dict[str, Any]:
        return proposed if changed is not None and a.pk == changed.pk else terms_snapshot(a)

    if agreement.kind == AgreementKind.ADDENDUM and agreement.parent_id:
        return _amend(effective_terms(agreement.parent, proposal), agreement, own(agreement))
    terms = own(agreement)
    amendments = list(
        agreement.amendments.filter(kind=AgreementKind.AMENDMENT, status=AgreementStatus.ACTIVE).order_by(
            "effective_date", "status_changed_at", "pk"
        )
    )
    if changed is not None and changed.kind == AgreementKind.AMENDMENT and changed.parent_id == agreement.pk:
        if all(a.pk != changed.pk for a in amendments):
            amendments.append(changed)
    for amendment in amendments:
        terms = _amend(terms, amendment, own(amendment))
    return terms


def terms_governed_by(agreement: Agreement) -> list[Agreement]:
    """The agreements whose work follows ``agreement``'s terms: itself, and for an amendment its
    parent and the parent's addenda (an amendment changes the terms of every case under them)."""
    if agreement.kind != AgreementKind.AMENDMENT or agreement.parent_id is None:
        return [agreement]
    parent = agreement.parent
    return [parent, *parent.amendments.filter(kind=AgreementKind.ADDENDUM)]
