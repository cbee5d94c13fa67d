"""The assessments, submissions and tickets lists: what their search, filter and order show."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from assessments.models import AccessTicket
from assessments.tests.factories import AccessTicketFactory

pytestmark = pytest.mark.django_db


def _cases(client, query: str) -> list[str]:
    response = client.get(reverse("assessments:list") + "?" + query)
    assert response.status_code == 200
    return [a.reference for a in response.context["page_obj"]]


@pytest.mark.parametrize("query", ["alpha-front", "company a"])
def test_case_search_finds_by_model_or_company_name_in_any_case(client_for, admin_user, case, case_b, query):
    assert _cases(client_for(admin_user), f"q={query}") == [case.reference]


def test_case_search_finds_by_part_of_the_reference(client_for, admin_user, case, case_b):
    number = case.reference.rsplit("-", 1)[1]
    assert case.reference in _cases(client_for(admin_user), f"q={number}")
    # In any case, with the prefix and a dash: still a part of a reference.
    prefix = case.reference.rsplit("-", 1)[0].lower()
    assert set(_cases(client_for(admin_user), f"q={prefix}-{number}")) == {case.reference}
    assert {case.reference, case_b.reference} <= set(_cases(client_for(admin_user), "q=asm-"))


def test_case_search_never_shows_a_case_the_user_is_not_on(client_for, evaluator, case, case_b):
    assert _cases(client_for(evaluator), "q=beta") == []
    assert _cases(client_for(evaluator), "q=company") == [case.reference]


def test_submission_list_counts_each_submissions_cases(client_for, admin_user, case):
    response = client_for(admin_user).get(reverse("assessments:submission_list"))
    rows = {s.reference: s.n_assessments for s in response.context["page_obj"]}
    assert rows == {case.submission.reference: 1}


def test_ticket_list_shows_the_newest_request_first(client_for, lead, case):
    older = AccessTicketFactory(assessment=case)
    newer = AccessTicketFactory(assessment=case)
    AccessTicket.objects.filter(pk=older.pk).update(requested_at=newer.requested_at - timedelta(days=1))
    response = client_for(lead).get(reverse("assessments:ticket_list"))
    assert [t.reference for t in response.context["page_obj"]] == [newer.reference, older.reference]
