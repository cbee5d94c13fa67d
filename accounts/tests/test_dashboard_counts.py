"""Dashboard cards count what they are named after, and their breakdowns add up to it.

The cases here are the ones that used to mislead: two assessments under one
agreement (the agreement was counted once per assessment), a lead who is also
on the team of their own case next to a second member (every row of the team
table repeated the case), and the admin's findings card whose big number
counted overdue responses instead of findings.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from accounts.permissions import scope
from agreements.models import Agreement
from assessments.models import AccessTicket, Assessment, ModelSubmission
from assessments.tests.factories import AccessTicketFactory, AssessmentFactory, ModelSubmissionFactory
from findings.models import Finding, FindingStatus
from findings.tests.factories import FindingFactory, released_finding

pytestmark = pytest.mark.django_db


def _panels(client, user) -> dict:
    client.force_login(user)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    return {p.title: p for p in response.context["panels"]}


def _approved(assessment, status="approved"):
    return AccessTicketFactory(
        assessment=assessment, status=status, starts_at=assessment.window_start, ends_at=assessment.window_end
    )


@pytest.fixture
def second_case(agreement_a, lead, evaluator):
    """A second model of company A, under the same agreement as ``case``, led by ``lead``."""
    submission = ModelSubmissionFactory(agreement=agreement_a, model_name="Alpha-Mini", model_version="1.0")
    return AssessmentFactory(submission=submission, lead=lead, team=[evaluator])


@pytest.fixture
def busy_programme(case, second_case, lead, evaluator):
    """Two cases under one agreement; the lead is also on the team of both, beside ``evaluator``.

    Each case has tickets and findings in several states, and one released finding's answer is overdue.
    """
    for assessment in (case, second_case):
        assessment.team.add(lead)
        AccessTicketFactory(assessment=assessment)  # requested
        _approved(assessment)
        _approved(assessment, status="active")
        FindingFactory(assessment=assessment, author=evaluator)  # draft
        FindingFactory(assessment=assessment, author=evaluator, status=FindingStatus.IN_REVIEW)
        released_finding(assessment=assessment, author=evaluator, released_by=lead)
    released_finding(
        assessment=case, author=evaluator, released_by=lead, response_due_at=timezone.now() - timedelta(days=1)
    )


def test_evaluator_on_two_assessments_of_one_agreement_sees_one_agreement(client, case, second_case, evaluator):
    card = _panels(client, evaluator)["Agreements"]
    assert card.count == 1
    assert card.details == [("Active", 1)]


@pytest.mark.parametrize("who", ["admin_user", "lead", "evaluator", "liaison_a"])
def test_every_card_breakdown_adds_up_to_its_big_number(client, request, busy_programme, who):
    panels = _panels(client, request.getfixturevalue(who))
    for title, card in panels.items():
        if card.details:
            assert sum(n for _, n in card.details) == card.count, title
    assert panels["Agreements"].count == 1
    assert panels["Model submissions"].count == 2
    assert panels["Assessments"].count == 2
    assert panels["Assessments"].details == [("In progress", 2)]


@pytest.mark.parametrize("who", ["admin_user", "lead", "evaluator"])
def test_centre_cards_count_every_ticket_and_finding_once(client, request, busy_programme, who):
    panels = _panels(client, request.getfixturevalue(who))
    assert panels["Model access"].count == 6
    assert panels["Model access"].details == [("Requested", 2), ("Approved", 2), ("Active", 2)]
    assert panels["Findings"].count == 7
    assert panels["Findings"].details == [("Draft", 2), ("In review", 2), ("Released to company", 3)]


def test_admin_findings_card_counts_findings_and_shows_overdue_answers_on_their_own_line(
    client, admin_user, busy_programme
):
    card = _panels(client, admin_user)["Findings"]
    assert card.count == Finding.objects.count() == 7
    assert card.notes == [("Company answers overdue", 1)]
    body = client.get(reverse("dashboard")).content.decode()
    assert "Company answers overdue: <strong>1</strong>" in body


def test_each_role_sees_what_it_must_act_on_beside_the_count(
    client, busy_programme, lead, evaluator, liaison_a, liaison_b
):
    assert _panels(client, lead)["Findings"].notes == [("In review, yours to release", 2)]
    assert _panels(client, evaluator)["Findings"].notes == [("Your drafts", 2)]
    liaison = _panels(client, liaison_a)["Findings"]
    assert (liaison.count, liaison.notes) == (3, [("Waiting for your answer", 3)])
    assert liaison.details == [("Released to company", 3)]
    tickets = _panels(client, liaison_a)["Model access"]
    # The company never sees requests; the approved ones wait for it to provision them.
    assert (tickets.count, tickets.notes) == (4, [("Waiting for you to provision", 2)])
    assert _panels(client, liaison_b)["Findings"].count == 0


# --- The scopes under the cards: a case is one row, whoever of its team looks ---------


@pytest.fixture
def lead_on_own_team(case, lead, evaluator):
    """``case``, with its lead also on its team beside ``evaluator``, one ticket and one finding."""
    case.team.add(lead)
    AccessTicketFactory(assessment=case)
    FindingFactory(assessment=case, author=evaluator)
    return case


@pytest.mark.parametrize("who", ["lead", "evaluator"])
def test_lead_on_own_team_and_a_second_member_see_each_case_once(request, lead_on_own_team, who):
    user = request.getfixturevalue(who)
    for model in (Agreement, ModelSubmission, Assessment, AccessTicket, Finding):
        rows = scope(model.objects.all(), user)
        assert rows.count() == 1, model
        assert len(list(rows)) == 1, model
    for model in (Agreement, Assessment, AccessTicket, Finding):
        by_status = dict(scope(model.objects.all(), user).order_by().values_list("status").annotate(n=Count("pk")))
        assert sum(by_status.values()) == 1, model


def test_lead_dashboard_counts_a_case_on_its_own_team_once(client, lead, lead_on_own_team):
    panels = _panels(client, lead)
    assert (panels["Assessments"].count, panels["Assessments"].details) == (1, [("In progress", 1)])
    assert (panels["Model access"].count, panels["Model access"].details) == (1, [("Requested", 1)])


def test_ticket_list_shows_a_ticket_of_a_case_the_lead_is_on_once(client, lead, lead_on_own_team):
    client.force_login(lead)
    response = client.get(reverse("assessments:ticket_list"))
    assert response.context["page_obj"].paginator.count == 1
    assert len(response.context["page_obj"].object_list) == 1
    assert "1 ticket." in response.content.decode()
