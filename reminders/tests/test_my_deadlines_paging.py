"""My deadlines at a programme's size: an admin is escalated on every deadline, and pages through them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import OrganisationFactory
from reminders.models import DeadlineKind
from reminders.services import deadline_sync
from reminders.tests.factories import make_deadline, spec

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
URL = reverse("reminders:my_deadlines")
KINDS = list(DeadlineKind)


def escalated(admin, recipient, *, titles: list[str], first_due: datetime, organisation=None) -> None:
    """One deadline per title, an hour apart from ``first_due``, reminding ``recipient`` and escalated
    to ``admin``, as the portal files them: through deadline_sync, up to one of each kind per owner."""
    for start in range(0, len(titles), len(KINDS)):
        batch = titles[start : start + len(KINDS)]
        specs = [
            spec(
                kind=kind,
                title=title,
                due_at=first_due + timedelta(hours=start + offset),
                recipients=[recipient],
                escalate_to=[admin],
                organisation=organisation,
            )
            for offset, (kind, title) in enumerate(zip(KINDS, batch, strict=False))
        ]
        deadline_sync(owner=OrganisationFactory(), specs=specs)


def shown_titles(page: str) -> list[str]:
    """The titles in the table's "What" column, top to bottom."""
    return re.findall(r'<td data-label="What"><a href="[^"]*">([^<]+)</a></td>', page)


def get(client, query: str = "") -> str:
    with time_machine.travel(NOW, tick=False):
        response = client.get(f"{URL}?{query}")
    assert response.status_code == 200
    return response.content.decode()


def the_world(admin, lead, company_a):
    """70 overdue and 50 upcoming deadlines escalated to the admin, and some that are not theirs."""
    late = [f"Late {i:03d}" for i in range(70)]
    soon = [f"Soon {i:03d}" for i in range(50)]
    with time_machine.travel(NOW, tick=False):
        escalated(admin, lead, titles=late, first_due=NOW - timedelta(hours=80), organisation=company_a)
        escalated(admin, lead, titles=soon, first_due=NOW + timedelta(hours=1))
        make_deadline(due_at=NOW + timedelta(minutes=30), recipients=[lead], title="Only the lead's")
        closed_owner = OrganisationFactory()
        deadline_sync(
            owner=closed_owner,
            specs=[spec(due_at=NOW, recipients=[lead], escalate_to=[admin], title="Closed already")],
        )
        deadline_sync(owner=closed_owner, specs=[])
    return late, soon


def test_admin_pages_through_escalated_deadlines_soonest_first(client_for, admin_user, lead, company_a):
    late, soon = the_world(admin_user, lead, company_a)
    client = client_for(admin_user)

    first = get(client)
    assert shown_titles(first) == late[:50]
    assert "Page 1 of 3" in first
    assert "70 deadlines are overdue." in first
    assert company_a.name in first and "Open point due" in first  # company and kind columns
    assert "Overdue" in first and "4 days late" in first  # the first was due 80 hours ago

    second = get(client, "page=2")
    assert shown_titles(second) == late[50:] + soon[:30]
    assert "Page 2 of 3" in second
    assert "70 deadlines are overdue." in second  # of everything the filter shows, not of this page

    third = get(client, "page=3")
    assert shown_titles(third) == soon[30:]
    assert "Page 3 of 3" in third and "2 days" in third  # the first here is due in 31 hours

    everything = first + second + third
    assert "Only the lead&#x27;s" not in everything and "Only the lead's" not in everything
    assert "Closed already" not in everything


def test_admin_filters_overdue_and_upcoming_with_their_own_pages(client_for, admin_user, lead, company_a):
    late, soon = the_world(admin_user, lead, company_a)
    client = client_for(admin_user)

    overdue = get(client, "show=overdue")
    assert shown_titles(overdue) == late[:50]
    assert "Page 1 of 2" in overdue
    assert 'href="?show=overdue&amp;page=2"' in overdue  # the page links keep the filter
    overdue_2 = get(client, "show=overdue&page=2")
    assert shown_titles(overdue_2) == late[50:]
    assert "70 deadlines are overdue." in overdue_2

    upcoming = get(client, "show=upcoming")
    assert shown_titles(upcoming) == soon
    assert "Page 1 of" not in upcoming  # one page: no page links
    assert "overdue." not in upcoming


def test_a_page_past_the_end_shows_the_last_page(client_for, admin_user, lead, company_a):
    _, soon = the_world(admin_user, lead, company_a)
    page = get(client_for(admin_user), "page=99")
    assert shown_titles(page) == soon[30:]
    assert "Page 3 of 3" in page


def test_my_deadlines_queries_are_the_same_for_n_and_3n_deadlines(client_for, admin_user, lead):
    client = client_for(admin_user)

    def queries_for_page_2() -> int:
        with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as queries:
            response = client.get(URL + "?page=2")
        assert response.status_code == 200 and shown_titles(response.content.decode())
        return len(queries)

    def add(count: int, prefix: str) -> None:
        with time_machine.travel(NOW, tick=False):
            titles = [f"{prefix} {i:03d}" for i in range(count)]
            escalated(admin_user, lead, titles=titles, first_due=NOW + timedelta(hours=1))

    add(60, "First")
    queries_for_page_2()  # the first request of a session does its own bookkeeping
    at_n = queries_for_page_2()
    add(120, "More")
    assert queries_for_page_2() == at_n
