"""The API's large collections (deadlines, findings, notifications) are cursor-paged.

Following ``next`` visits every row once, in the list's order, across ties in the sort key and NULLs;
``previous`` walks back over the same pages; no page carries a count; a cursor that is not the list's
own is a 404 with the standard error body.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from accounts.tests.factories import OrganisationFactory
from findings.tests.factories import FindingFactory, released_finding
from reminders.models import Deadline, DeadlineKind, Notification
from reminders.services import deadline_sync
from reminders.tests.factories import spec

pytestmark = pytest.mark.django_db

INVALID_CURSOR = {"detail": "Invalid cursor", "code": "not_found", "errors": {}}


def walk_forward(client, url: str) -> tuple[list[list[dict]], str | None]:
    """Every page, by following ``next``; and the last page's ``previous`` link."""
    pages: list[list[dict]] = []
    previous = None
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content[:300]
        body = response.json()
        assert set(body) == {"next", "previous", "results"}  # no count, no page numbers
        pages.append(body["results"])
        url, previous = body["next"], body["previous"]
    return pages, previous


def walk_back(client, url: str | None) -> list[list[dict]]:
    """The pages before ``url``'s, by following ``previous``, nearest first."""
    pages = []
    while url:
        body = client.get(url).json()
        pages.append(body["results"])
        url = body["previous"]
    return pages


def flat(pages: list[list[dict]], key: str = "id") -> list[str]:
    return [row[key] for page in pages for row in page]


def deadlines_in_groups(admin, *, groups: int, per_group: int) -> list[Deadline]:
    """``groups`` due times, each shared by ``per_group`` deadlines (so pages split ties)."""
    kinds = list(DeadlineKind)[:per_group]
    start = timezone.now() + timedelta(days=1)
    made = []
    for group in range(groups):
        specs = [
            spec(kind=kind, due_at=start + timedelta(hours=group), recipients=[admin], title=f"Due {group}")
            for kind in kinds
        ]
        made += deadline_sync(owner=OrganisationFactory(), specs=specs)
    return made


def test_deadlines_follow_next_in_due_order_across_ties_and_walk_back(client_for, admin_user):
    made = deadlines_in_groups(admin_user, groups=6, per_group=4)
    expected = [str(d.public_id) for d in sorted(made, key=lambda d: (d.due_at, d.public_id.hex))]
    client = client_for(admin_user)

    pages, previous = walk_forward(client, "/api/v1/deadlines/?page_size=5")
    assert [len(page) for page in pages] == [5, 5, 5, 5, 4]
    assert flat(pages) == expected
    assert pages[0] and client.get("/api/v1/deadlines/?page_size=5").json()["previous"] is None

    back = walk_back(client, previous)
    assert flat(list(reversed(back))) == expected[:20]  # the four pages before the last, same rows


@pytest.mark.parametrize(
    ("ordering", "sort_key", "descending"),
    [
        ("-due_at", lambda d: (d.due_at, d.public_id.hex), True),  # the tiebreaker runs the same way
        ("kind", lambda d: (d.kind, d.public_id.hex), False),
    ],
)
def test_deadlines_page_in_the_order_asked_for(ordering, sort_key, descending, client_for, admin_user):
    made = deadlines_in_groups(admin_user, groups=4, per_group=3)
    pages, _ = walk_forward(client_for(admin_user), f"/api/v1/deadlines/?ordering={ordering}&page_size=5")
    assert flat(pages) == [str(d.public_id) for d in sorted(made, key=sort_key, reverse=descending)]


def test_findings_without_a_response_date_come_last_and_are_not_lost(case, evaluator, lead, client_for):
    now = timezone.now()
    dated = [
        released_finding(assessment=case, author=evaluator, released_by=lead, response_due_at=now + timedelta(days=d))
        for d in (5, 2, 5, 9, 2)
    ]
    drafts = [FindingFactory(assessment=case, author=evaluator) for _ in range(4)]  # no response date
    by_date = sorted(dated, key=lambda f: (f.response_due_at, f.reference))
    undated = sorted(drafts, key=lambda f: f.reference)
    client = client_for(evaluator)

    pages, _ = walk_forward(client, "/api/v1/findings/?ordering=response_due_at&page_size=2")
    assert flat(pages, "reference") == [f.reference for f in by_date + undated]

    pages, previous = walk_forward(client, "/api/v1/findings/?ordering=-response_due_at&page_size=2")
    newest_first = list(reversed(undated)) + list(reversed(by_date))
    assert flat(pages, "reference") == [f.reference for f in newest_first]
    assert flat(list(reversed(walk_back(client, previous))), "reference") == [f.reference for f in newest_first[:8]]


def test_findings_default_order_pages_like_one_long_page(case, evaluator, lead, client_for):
    for severity in ("low", "critical", "high", "low", "medium", "critical", "high"):
        released_finding(assessment=case, author=evaluator, released_by=lead, severity=severity)
    client = client_for(evaluator)
    whole = client.get("/api/v1/findings/?page_size=100").json()
    assert whole["next"] is None and len(whole["results"]) == 7
    pages, _ = walk_forward(client, "/api/v1/findings/?page_size=3")
    assert flat(pages, "reference") == [row["reference"] for row in whole["results"]]


def test_access_tickets_page_newest_request_first_and_back(case, evaluator, client_for):
    from assessments.models import AccessTicket
    from assessments.tests.factories import AccessTicketFactory

    start = timezone.now() - timedelta(days=3)
    made = []
    for h in range(7):  # three request times, so pages split ties
        ticket = AccessTicketFactory(assessment=case, requested_by=evaluator)
        AccessTicket.objects.filter(pk=ticket.pk).update(requested_at=start + timedelta(hours=h % 3))
        ticket.refresh_from_db()
        made.append(ticket)
    expected = [t.reference for t in sorted(made, key=lambda t: (t.requested_at, t.reference), reverse=True)]
    client = client_for(evaluator)
    pages, previous = walk_forward(client, "/api/v1/access-tickets/?page_size=3")
    assert [len(page) for page in pages] == [3, 3, 1]
    assert flat(pages, "reference") == expected
    assert flat(list(reversed(walk_back(client, previous))), "reference") == expected[:6]


def test_page_size_is_capped_at_100(client_for, evaluator):
    Notification.objects.bulk_create(Notification(recipient=evaluator, title=f"Reminder {i}") for i in range(103))
    client = client_for(evaluator)
    first = client.get("/api/v1/notifications/?page_size=500").json()
    assert len(first["results"]) == 100
    rest = client.get(first["next"]).json()
    assert len(rest["results"]) == 3 and rest["next"] is None
    titles = {row["title"] for row in first["results"] + rest["results"]}
    assert titles == {f"Reminder {i}" for i in range(103)}


def _cursor(link: str) -> str:
    return parse_qs(urlsplit(link).query)["cursor"][0]


def test_a_cursor_that_is_not_the_lists_own_is_a_404(client_for, admin_user):
    deadlines_in_groups(admin_user, groups=2, per_group=3)
    client = client_for(admin_user)
    cursor = _cursor(client.get("/api/v1/deadlines/?page_size=2").json()["next"])
    assert client.get("/api/v1/deadlines/", {"page_size": 2, "cursor": cursor}).status_code == 200

    body = json.loads(base64.urlsafe_b64decode(cursor))
    body["p"][0] = "not a date"
    edited = base64.urlsafe_b64encode(json.dumps(body).encode()).decode()
    for query in (
        {"cursor": "not-a-cursor"},
        {"cursor": cursor, "ordering": "kind"},  # made for the due-date order
        {"cursor": edited},
    ):
        response = client.get("/api/v1/deadlines/", query)
        assert response.status_code == 404, query
        assert response.json() == INVALID_CURSOR


def test_each_person_pages_only_through_what_they_may_see(client_for, evaluator, lead):
    deadlines_in_groups(lead, groups=3, per_group=2)
    mine = deadlines_in_groups(evaluator, groups=2, per_group=3)
    pages, _ = walk_forward(client_for(evaluator), "/api/v1/deadlines/?page_size=2")
    assert sorted(flat(pages)) == sorted(str(d.public_id) for d in mine)
