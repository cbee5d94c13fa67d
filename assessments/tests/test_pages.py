"""Submissions, case pages and isolation: between two companies and between two evaluator teams."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from agreements.models import AgreementStatus
from agreements.tests.factories import AgreementFactory
from assessments import services
from assessments.models import AssessmentStatus, ModelSubmission
from assessments.tests.factories import AccessTicketFactory, AssessmentFactory, ModelSubmissionFactory
from core.errors import RuleViolation, TransitionNotAllowed
from reminders.models import Deadline, DeadlineKind
from tests.query_budgets import BUDGETS

pytestmark = pytest.mark.django_db


# --- Submissions ------------------------------------------------------------------------


def test_liaison_submits_under_the_active_agreement(client_for, liaison_a, agreement_a):
    response = client_for(liaison_a).post(
        reverse("assessments:submission_create"),
        {
            "agreement": agreement_a.pk,
            "model_name": "Alpha-Next",
            "model_version": "3.1",
            "modalities": ["text", "agentic"],
            "intended_release_date": (date.today() + timedelta(days=60)).isoformat(),
            "notes": "Agentic scaffold included.",
        },
    )
    submission = ModelSubmission.objects.get(model_name="Alpha-Next")
    assert response.status_code == 302 and response["Location"] == submission.get_absolute_url()
    assert submission.organisation == liaison_a.organisation and submission.submitted_by == liaison_a
    assert submission.reference.startswith("SUB-")


def test_submitting_under_an_inactive_agreement_is_refused_with_a_clear_message(client_for, liaison_a, company_a):
    negotiating = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)
    response = client_for(liaison_a).post(
        reverse("assessments:submission_create"),
        {"agreement": negotiating.pk, "model_name": "Alpha-Draft", "model_version": "0.9", "modalities": ["text"]},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "only under an active agreement" in html and negotiating.reference in html
    assert 'value="Alpha-Draft"' in html  # what was typed stays
    assert not ModelSubmission.objects.filter(model_name="Alpha-Draft").exists()


def test_liaison_cannot_submit_under_another_companys_agreement(liaison_a, agreement_b):
    with pytest.raises(RuleViolation):
        services.submission_create(
            actor=liaison_a,
            agreement=agreement_b,
            model_name="X",
            model_version="1",
            modalities=["text"],
            intended_release_date=None,
        )


@pytest.mark.parametrize("who", ["lead", "evaluator", "admin_user"])
def test_only_liaisons_submit_models(client_for, who, request):
    response = client_for(request.getfixturevalue(who)).get(reverse("assessments:submission_create"))
    assert response.status_code == 403


# --- Isolation ----------------------------------------------------------------------------


def test_liaison_sees_only_their_companys_records(client_for, case, case_b, liaison_a):
    client = client_for(liaison_a)
    submissions = client.get(reverse("assessments:submission_list")).content.decode()
    assert case.submission.reference in submissions and case_b.submission.reference not in submissions
    cases = client.get(reverse("assessments:list")).content.decode()
    assert case.reference in cases and case_b.reference not in cases
    assert client.get(case_b.get_absolute_url()).status_code == 404
    assert client.get(case_b.submission.get_absolute_url()).status_code == 404


def test_liaison_never_sees_internal_notes(client_for, case, liaison_a, evaluator):
    case.internal_notes = "Suspect sandbagging on bio evals."
    case.save()
    assert "sandbagging" not in client_for(liaison_a).get(case.get_absolute_url()).content.decode()
    assert "sandbagging" in client_for(evaluator).get(case.get_absolute_url()).content.decode()


def test_evaluator_sees_only_their_teams_cases(client_for, case, case_b, evaluator, evaluator_other):
    page = client_for(evaluator).get(reverse("assessments:list")).content.decode()
    assert case.reference in page and case_b.reference not in page
    assert client_for(evaluator).get(case_b.get_absolute_url()).status_code == 404
    assert client_for(evaluator_other).get(case.get_absolute_url()).status_code == 404


def test_lead_sees_only_cases_they_lead_or_are_on(client_for, case, case_b, lead):
    page = client_for(lead).get(reverse("assessments:list")).content.decode()
    assert case.reference in page and case_b.reference not in page


def test_admin_sees_every_case(client_for, case, case_b, admin_user):
    page = client_for(admin_user).get(reverse("assessments:list")).content.decode()
    assert case.reference in page and case_b.reference in page


def test_liaison_does_not_see_requested_or_rejected_tickets(client_for, case, liaison_a, lead, evaluator):
    pending = AccessTicketFactory(assessment=case, requested_by=evaluator)
    rejected = AccessTicketFactory(assessment=case, requested_by=evaluator)
    services.ticket_reject(actor=lead, ticket=rejected, reason="No.")
    approved = services.ticket_approve(actor=lead, ticket=AccessTicketFactory(assessment=case, requested_by=evaluator))
    client = client_for(liaison_a)
    page = client.get(reverse("assessments:ticket_list")).content.decode()
    assert approved.reference in page
    assert pending.reference not in page and rejected.reference not in page
    assert client.get(pending.get_absolute_url()).status_code == 404


def test_other_team_and_other_company_get_404_on_a_ticket(
    client_for, case, evaluator, evaluator_other, liaison_b, lead
):
    ticket = services.ticket_approve(actor=lead, ticket=AccessTicketFactory(assessment=case, requested_by=evaluator))
    for outsider in (evaluator_other, liaison_b):
        assert client_for(outsider).get(ticket.get_absolute_url()).status_code == 404
        reveal = client_for(outsider).post(reverse("assessments:ticket_reveal", args=[ticket.reference]))
        assert reveal.status_code == 404


# --- Case pages and states -------------------------------------------------------------------


def test_case_page_shows_timeline_days_left_and_findings_slot(client_for, case, evaluator, lead):
    ticket = AccessTicketFactory(assessment=case, requested_by=evaluator)
    html = client_for(lead).get(case.get_absolute_url()).content.decode()
    assert "Timeline" in html and "Access window closes" in html
    assert "days left" in html
    assert ticket.reference in html
    assert "Planned release of the model" in html


def test_case_moves_through_the_states_and_closes_with_an_outcome(case, lead):
    case.status = AssessmentStatus.SCHEDULED
    case.save()
    for step in ("access_pending", "in_progress", "reporting"):
        case = services.assessment_advance(actor=lead, assessment=case, to_status=step)
    with pytest.raises(RuleViolation):
        services.assessment_close(actor=lead, assessment=case, outcome="no_concerns", rationale="")
    case = services.assessment_close(
        actor=lead, assessment=case, outcome="mitigations_recommended", rationale="Filter the bio uplift."
    )
    assert case.status == AssessmentStatus.COMPLETED and case.closed_by == lead
    deadline = Deadline.objects.get(kind=DeadlineKind.WINDOW_END, owner_id=case.pk)
    assert not deadline.is_open  # a closed case passes an empty list


def test_skipping_a_state_is_refused(case, lead):
    with pytest.raises(TransitionNotAllowed) as exc:
        services.assessment_advance(actor=lead, assessment=case, to_status="completed")
    assert "outcome" in str(exc.value)


def test_evaluator_cannot_move_the_case(case, evaluator, client_for):
    response = client_for(evaluator).post(
        reverse("assessments:advance", args=[case.reference]), {"to_status": "reporting"}
    )
    assert response.status_code == 403


def test_withdrawal_needs_a_reason_and_ends_tickets(case, lead, evaluator):
    ticket = AccessTicketFactory(assessment=case, requested_by=evaluator)
    services.assessment_withdraw(actor=lead, assessment=case, reason="Company postponed the model.")
    ticket.refresh_from_db()
    assert ticket.status == "rejected" and ticket.end_reason == "The assessment was withdrawn."


def test_window_deadline_goes_to_lead_team_and_liaisons(lead, evaluator, liaison_a, agreement_a):
    from django.utils import timezone

    start = timezone.now() + timedelta(days=1)
    case = services.assessment_create(
        actor=lead,
        submission=ModelSubmissionFactory(agreement=agreement_a),
        team=[evaluator],
        risk_domains=["cyber"],
        window_start=start,
        window_end=start + timedelta(days=10),
    )
    deadline = Deadline.objects.get(kind=DeadlineKind.WINDOW_END, owner_id=case.pk)
    assert set(deadline.recipients.all()) == {lead, evaluator, liaison_a}
    release = Deadline.objects.get(kind=DeadlineKind.PLANNED_RELEASE, owner_id=case.submission.pk)
    assert set(release.recipients.all()) == {lead, evaluator}


def test_assessment_list_query_budget(client_for, admin_user, agreement_a, lead, django_assert_max_num_queries):
    for _ in range(12):
        AssessmentFactory(submission=ModelSubmissionFactory(agreement=agreement_a), lead=lead)
    client = client_for(admin_user)
    for view in ("assessments:list", "assessments:submission_list", "assessments:ticket_list"):
        with django_assert_max_num_queries(BUDGETS[view]["admin"]):
            assert client.get(reverse(view)).status_code == 200


def test_submission_pages_name_modalities_by_their_labels(client_for, liaison_a, agreement_a):
    submission = ModelSubmissionFactory(agreement=agreement_a, modalities=["text", "agentic"])
    client = client_for(liaison_a)
    assert "Text, Agentic / tool use" in client.get(reverse("assessments:submission_list")).content.decode()
    assert "Text, Agentic / tool use" in client.get(submission.get_absolute_url()).content.decode()


def test_access_request_form_prefills_a_period_inside_the_window(client_for, case, evaluator):
    # A window that starts mid-minute: the prefilled start is rounded up, so sending the form unchanged works.
    case.window_start = case.window_start.replace(second=42, microsecond=5)
    case.save()
    client = client_for(evaluator)
    url = reverse("assessments:ticket_request", kwargs={"reference": case.reference})
    form = client.get(url).context["form"]
    response = client.post(
        url,
        {
            "kind": "hosted_api",
            "justification": "Red-team the hosted model.",
            "wanted_from": form["wanted_from"].value(),
            "wanted_to": form["wanted_to"].value(),
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    ticket = case.tickets.get()
    assert case.window_start <= ticket.wanted_from < case.window_start + timedelta(minutes=1)


def test_provision_page_states_the_period_in_the_viewers_time_zone(client_for, case, lead, evaluator, liaison_a):
    ticket = services.ticket_request(
        actor=evaluator,
        assessment=case,
        kind="hosted_api",
        justification="Red-team it.",
        wanted_from=case.window_start + timedelta(hours=1),
        wanted_to=case.window_end,
    )
    services.ticket_approve(actor=lead, ticket=ticket)
    liaison_a.time_zone = "Europe/London"
    liaison_a.save()
    body = client_for(liaison_a).get(reverse("assessments:ticket_provision", kwargs={"reference": ticket.reference}))
    text = body.content.decode()
    ticket.refresh_from_db()
    london = ticket.starts_at.astimezone(ZoneInfo("Europe/London"))
    assert "access of the kind “Hosted API”" in text
    assert f"from {london.day} {london:%b %Y, %H:%M %Z}" in text  # the same "27 Nov 2026, 14:00 GMT" as the pages
