"""Running work under an agreement, checked against a new version of the terms.

Cases live in a higher app, which registers ``running_work_register(fn)`` when it loads:
``fn(agreement=..., terms=...)`` returns, for the open work under ``agreement``, one
``(reference, what falls outside)`` pair per case the ``terms`` would leave outside.
With nothing registered there is no running work to check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agreements.models import Agreement
from agreements.terms import effective_terms, terms_governed_by

RunningWork = Callable[..., list[tuple[str, str]]]
_sources: list[RunningWork] = []


def running_work_register(source: RunningWork) -> None:
    """Add ``source`` to the checks of new terms; twice has no further effect."""
    if source not in _sources:
        _sources.append(source)


def terms_conflicts(*, agreement: Agreement, proposed: dict[str, Any]) -> list[tuple[str, str]]:
    """The running cases that ``agreement``'s ``proposed`` terms would leave outside, as
    (case reference, what falls outside), for every agreement whose work follows these terms."""
    found: list[tuple[str, str]] = []
    for governed in terms_governed_by(agreement):
        terms = effective_terms(governed, (agreement, proposed))
        for source in _sources:
            found.extend(source(agreement=governed, terms=terms))
    return found


def conflicts_text(conflicts: list[tuple[str, str]]) -> str:
    return "; ".join(f"{reference}: {problem}" for reference, problem in conflicts)
