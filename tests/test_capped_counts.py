"""A list's count stops at a cap: past it the list says "more than …" instead of counting every row."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Organisation
from core.pagination import CappedPaginator

pytestmark = pytest.mark.django_db


@pytest.fixture
def seven_companies():
    for i in range(7):
        Organisation.objects.create(name=f"Company {i}", kind=Organisation.Kind.DEVELOPER)
    return Organisation.objects.order_by("name")


def test_under_the_cap_the_count_is_exact(seven_companies):
    paginator = CappedPaginator(seven_companies, 3, cap=10)
    assert (paginator.count, paginator.is_capped, paginator.count_display, paginator.num_pages) == (7, False, "7", 3)
    assert [o.name for o in paginator.page(3)] == ["Company 6"]


def test_past_the_cap_it_says_more_than_and_pages_reach_the_cap(seven_companies):
    paginator = CappedPaginator(seven_companies, 2, cap=5)
    assert (paginator.count, paginator.is_capped, paginator.count_display, paginator.num_pages) == (
        5,
        True,
        "more than 5",
        3,
    )
    assert [o.name for o in paginator.page(3)] == ["Company 4"]  # the last page stops at the cap


def test_exactly_the_cap_is_not_more_than_it(seven_companies):
    paginator = CappedPaginator(seven_companies, 2, cap=7)
    assert (paginator.count, paginator.is_capped, paginator.count_display) == (7, False, "7")


def test_the_count_reads_at_most_cap_plus_one_rows_in_one_query(seven_companies):
    with CaptureQueriesContext(connection) as queries:
        assert CappedPaginator(seven_companies, 2, cap=4).count == 4
    (count,) = [q["sql"] for q in queries.captured_queries]
    assert "COUNT(*)" in count.upper() and "LIMIT 5" in count.upper() and "ORDER BY" not in count.upper()


def test_a_list_past_the_cap_says_more_than_and_pages_only_to_it(monkeypatch, case, evaluator, client_for):
    from django.urls import reverse

    from findings.tests.factories import FindingFactory

    monkeypatch.setattr("core.pagination.COUNT_CAP", 3)
    for i in range(5):
        FindingFactory(assessment=case, author=evaluator, title=f"Finding {i}")
    page = client_for(evaluator).get(reverse("findings:list"))
    assert page.status_code == 200
    assert "More than 3 findings." in page.text  # a sentence, so with a capital
    assert sum(f"Finding {i}" in page.text for i in range(5)) == 3


def test_my_deadlines_past_the_cap_says_more_than_for_all_and_overdue(monkeypatch, admin_user, client_for):
    from datetime import timedelta

    from django.urls import reverse
    from django.utils import timezone

    from reminders.services import deadline_sync
    from reminders.tests.factories import spec

    monkeypatch.setattr("core.pagination.COUNT_CAP", 3)
    now = timezone.now()
    for i, days in enumerate((-3, -2, -1, -1, 2, 5)):  # four overdue, two to come
        deadline_sync(
            owner=Organisation.objects.create(name=f"Owner {i}", kind=Organisation.Kind.DEVELOPER),
            specs=[spec(due_at=now + timedelta(days=days), recipients=[admin_user], title=f"Due {days}")],
        )
    page = client_for(admin_user).get(reverse("reminders:my_deadlines"))
    assert page.status_code == 200
    text = " ".join(page.text.split())
    # Each sentence starts with a capital, as any count does.
    assert "More than 3 deadlines are overdue." in text
    assert "More than 3 deadlines." in text
    upcoming = " ".join(client_for(admin_user).get(reverse("reminders:my_deadlines") + "?show=upcoming").text.split())
    assert "2 deadlines" in upcoming and "overdue." not in upcoming
