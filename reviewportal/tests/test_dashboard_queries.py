"""Each dashboard card is counted by one aggregate query, whoever looks and however much is stored."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessments.tests.factories import AccessTicketFactory
from findings.models import FindingStatus
from findings.tests.factories import FindingFactory, released_finding
from reviewportal.dashboard.selectors import dashboard_for

pytestmark = pytest.mark.django_db

# The table each card counts, by the card's title.
CARD_TABLES = {
    "Agreements": "agreements_agreement",
    "Model submissions": "assessments_modelsubmission",
    "Assessments": "assessments_assessment",
    "Model access": "assessments_accessticket",
    "Findings": "findings_finding",
    "Deadlines this week": "reminders_deadline",
}


def _add_records(case, evaluator, lead, n: int) -> None:
    for i in range(n):
        FindingFactory(assessment=case, author=evaluator, title=f"Draft {i}")
        FindingFactory(assessment=case, author=evaluator, status=FindingStatus.IN_REVIEW)
        released_finding(assessment=case, author=evaluator, released_by=lead)
        AccessTicketFactory(
            assessment=case,
            requested_by=evaluator,
            status="approved",
            starts_at=case.window_start,
            ends_at=case.window_end,
        )


def _dashboard_queries(user) -> tuple[list, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        panels = dashboard_for(user)
    return panels, [q["sql"] for q in ctx.captured_queries]


def _queries_counting(table: str, queries: list[str]) -> list[str]:
    """The queries whose rows come from ``table`` (the first table named; scopes add subqueries after it)."""
    return [sql for sql in queries if (m := re.search(r'\bFROM "(\w+)"', sql)) and m.group(1) == table]


@pytest.mark.parametrize("role", ["admin_user", "lead", "evaluator", "liaison_a"])
def test_each_card_is_one_aggregate_query_at_any_size(role, request, case, evaluator, lead):
    user = request.getfixturevalue(role)
    _add_records(case, evaluator, lead, 2)
    small_panels, small = _dashboard_queries(user)
    _add_records(case, evaluator, lead, 6)
    cache.clear()  # the factories write around the services, so nothing told the cached totals
    panels, large = _dashboard_queries(user)

    assert len(large) == len(small)
    assert [p.title for p in panels] == list(CARD_TABLES)
    for title, table in CARD_TABLES.items():
        # One aggregate for the totals; the cards with what to act on count that apart, live.
        expected = 2 if title in ("Model access", "Findings") else 1
        assert len(_queries_counting(table, large)) == expected, title
    # The cards did count the records added in between.
    findings = {p.title: p for p in panels}["Findings"]
    assert findings.count > {p.title: p for p in small_panels}["Findings"].count


def test_the_cards_numbers_agree_with_their_breakdown_and_what_to_act_on(case, evaluator, lead):
    _add_records(case, evaluator, lead, 3)
    panels = {p.title: p for p in dashboard_for(lead)}

    findings = panels["Findings"]
    assert findings.count == 9 == sum(n for _, n in findings.details)
    assert findings.notes == [("In review, yours to release", 3)]
    tickets = panels["Model access"]
    assert tickets.count == 3 == sum(n for _, n in tickets.details)
    assert tickets.notes == [("Requests waiting for your decision", 0)]


def test_a_second_visit_reads_every_number_from_the_cache(case, evaluator, lead):
    _add_records(case, evaluator, lead, 2)
    first = {p.title: (p.count, p.notes) for p in dashboard_for(lead)}
    panels, queries = _dashboard_queries(lead)
    # Nothing changed: neither the totals nor what to act on nor the week's deadlines are counted again.
    assert [table for table in CARD_TABLES.values() if _queries_counting(table, queries)] == []
    assert {p.title: (p.count, p.notes) for p in panels} == first
    assert {p.title: p.count for p in panels}["Findings"] == 6
    assert all(p.counted_at is not None for p in panels if p.title != "Deadlines this week")


def test_a_change_through_a_service_is_counted_on_the_next_visit(
    case, evaluator, lead, django_capture_on_commit_callbacks
):
    from findings import services

    _add_records(case, evaluator, lead, 2)
    before = {p.title: p for p in dashboard_for(lead)}["Findings"]
    draft = FindingFactory(assessment=case, author=evaluator, title="One more")
    with django_capture_on_commit_callbacks(execute=True):
        services.finding_submit_for_review(actor=evaluator, finding=draft)
    after = {p.title: p for p in dashboard_for(lead)}["Findings"]
    assert after.count == before.count + 1
    assert after.notes == [("In review, yours to release", before.notes[0][1] + 1)]
    assert after.counted_at >= before.counted_at
