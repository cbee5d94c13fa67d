"""Voluntary both ways: the company withdraws a submission before work starts, either side gives
notice to end an agreement, and a release notice's date moves what follows from it."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from agreements.models import AgreementStatus, ReleaseNoticeStatus
from agreements.services.ending import agreement_give_notice, agreements_end_on_notice_due
from agreements.services.release_notices import release_notice_move_date, release_notice_record
from agreements.tasks import expire_due_agreements
from assessments import services
from assessments.models import AccessTicket, Assessment, AssessmentStatus, ModelSubmission
from assessments.states import TicketStatus
from assessments.tests.factories import AccessTicketFactory, AssessmentFactory, ModelSubmissionFactory
from core.errors import RuleViolation, TransitionNotAllowed
from reminders.models import Handoff

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture
def scheduled(agreement_a, lead):
    submission = ModelSubmissionFactory(agreement=agreement_a, model_name="Alpha-Next", model_version="1")
    start = timezone.now() + datetime.timedelta(days=5)
    return AssessmentFactory(
        submission=submission,
        lead=lead,
        status=AssessmentStatus.SCHEDULED,
        window_start=start,
        window_end=start + datetime.timedelta(days=10),
    )


def test_company_withdraws_before_work_starts_and_the_case_and_its_tickets_follow(scheduled, liaison_a, lead):
    ticket = AccessTicketFactory(assessment=scheduled, requested_by=lead)
    submission = services.submission_withdraw(
        actor=liaison_a, submission=scheduled.submission, reason="Launch cancelled."
    )
    assert submission.is_withdrawn and submission.withdrawal_reason == "Launch cancelled."
    scheduled.refresh_from_db()
    assert scheduled.status == AssessmentStatus.WITHDRAWN and "Launch cancelled." in scheduled.outcome_rationale
    assert AccessTicket.objects.get(pk=ticket.pk).status in (TicketStatus.REJECTED, TicketStatus.EXPIRED)
    told = Handoff.objects.get(recipient=lead, title__startswith="Submission withdrawn")
    assert "Launch cancelled." in told.body  # the centre sees why


def test_withdrawal_is_refused_once_the_assessment_has_started(case, liaison_a):
    with pytest.raises(TransitionNotAllowed, match="in progress"):
        services.submission_withdraw(actor=liaison_a, submission=case.submission, reason="Changed our mind.")
    assert not ModelSubmission.objects.get(pk=case.submission.pk).is_withdrawn


def test_a_withdrawn_submission_cannot_be_assessed(scheduled, liaison_a, lead):
    submission = services.submission_withdraw(
        actor=liaison_a, submission=scheduled.submission, reason="Launch cancelled."
    )
    start = timezone.now() + datetime.timedelta(days=1)
    with pytest.raises(RuleViolation, match="withdrawn"):
        services.assessment_create(
            actor=lead,
            submission=submission,
            team=[],
            risk_domains=["cyber"],
            window_start=start,
            window_end=start + datetime.timedelta(days=5),
        )


def test_withdraw_form_keeps_nothing_half_written_and_other_company_gets_404(
    scheduled, liaison_a, liaison_b, client_for
):
    url = reverse("assessments:submission_withdraw", args=[scheduled.submission.reference])
    assert client_for(liaison_b).get(url).status_code == 404
    response = client_for(liaison_a).post(url, {"reason": ""})
    assert response.status_code == 200 and not ModelSubmission.objects.get(pk=scheduled.submission.pk).is_withdrawn
    response = client_for(liaison_a).post(url, {"reason": "Launch cancelled."})
    assert response.status_code == 302
    page = client_for(liaison_a).get(scheduled.submission.get_absolute_url()).content.decode()
    assert "Withdrawn by the company" in page and "Launch cancelled." in page


def test_withdraw_through_the_api(scheduled, liaison_a, liaison_b, api):
    url = f"/api/v1/submissions/{scheduled.submission.reference}/withdraw/"
    assert api(liaison_b).post(url, {"reason": "x"}, format="json").status_code == 404
    assert api(liaison_a).post(url, {"reason": ""}, format="json").status_code == 400
    response = api(liaison_a).post(url, {"reason": "Launch cancelled."}, format="json")
    assert response.status_code == 200 and response.json()["withdrawal_reason"] == "Launch cancelled."


# --- Notice to end ------------------------------------------------------------------------------


def test_company_gives_notice_and_the_agreement_ends_after_the_notice_period(agreement_a, liaison_a, admin_user, case):
    agreement = agreement_give_notice(actor=liaison_a, agreement=agreement_a, reason="Strategy change.")
    assert agreement.ends_on == agreement.end_notice_given_on + datetime.timedelta(days=30)
    assert agreement.end_notice_side == "company"
    # The centre's side (here the programme admins: nobody at the centre negotiated it) is told.
    assert Handoff.objects.filter(recipient=admin_user, title__startswith="Notice to end").exists()
    assert agreements_end_on_notice_due(today=agreement.ends_on - datetime.timedelta(days=1)) == []
    assert agreements_end_on_notice_due(today=agreement.ends_on) == [agreement.reference]
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.TERMINATED and "Strategy change." in agreement.status_reason
    assert Assessment.objects.get(pk=case.pk).status == AssessmentStatus.WITHDRAWN  # running work follows
    assert agreements_end_on_notice_due(today=agreement.ends_on) == []  # nothing ends twice


def test_an_agreement_ending_on_notice_ends_its_addenda_and_their_cases(agreement_a, liaison_a, lead, evaluator):
    from agreements.models import AgreementKind
    from agreements.tests.factories import AgreementFactory

    addendum = AgreementFactory(
        organisation=agreement_a.organisation,
        kind=AgreementKind.ADDENDUM,
        parent=agreement_a,
        status=AgreementStatus.ACTIVE,
        title="Addendum for Alpha-Frontier 3",
    )
    under_addendum = AssessmentFactory(
        submission=ModelSubmissionFactory(agreement=addendum), lead=lead, team=[evaluator]
    )
    agreement = agreement_give_notice(actor=liaison_a, agreement=agreement_a, reason="Strategy change.")
    assert agreements_end_on_notice_due(today=agreement.ends_on) == [agreement_a.reference, addendum.reference]
    addendum.refresh_from_db()
    assert addendum.status == AgreementStatus.TERMINATED
    assert addendum.status_reason.startswith(f"Ended with {agreement_a.reference}, which it amends.")
    assert Assessment.objects.get(pk=under_addendum.pk).status == AssessmentStatus.WITHDRAWN


def test_notice_is_given_once_and_only_on_an_active_agreement(agreement_a, liaison_a, negotiation, lead):
    agreement_give_notice(actor=liaison_a, agreement=agreement_a, reason="Strategy change.")
    with pytest.raises(TransitionNotAllowed, match="already given"):
        agreement_give_notice(actor=lead, agreement=agreement_a, reason="Again.")
    with pytest.raises(TransitionNotAllowed, match="active"):
        agreement_give_notice(actor=lead, agreement=negotiation, reason="Not yet.")


def test_the_daily_task_ends_agreements_whose_notice_has_run(agreement_a, liaison_a):
    agreement_give_notice(actor=liaison_a, agreement=agreement_a, reason="Strategy change.")
    type(agreement_a).objects.filter(pk=agreement_a.pk).update(ends_on=TODAY - datetime.timedelta(days=1))
    assert agreement_a.reference in expire_due_agreements()


def test_notice_page_and_api(agreement_a, liaison_a, liaison_b, client_for, api):
    url = reverse("agreements:give_notice", args=[agreement_a.reference])
    assert client_for(liaison_b).get(url).status_code == 404
    assert client_for(liaison_a).post(url, {"reason": ""}).status_code == 200  # the form says what is missing
    assert (
        api(liaison_b)
        .post(f"/api/v1/agreements/{agreement_a.reference}/notice-to-end/", {"reason": "x"}, format="json")
        .status_code
        == 404
    )
    response = api(liaison_a).post(
        f"/api/v1/agreements/{agreement_a.reference}/notice-to-end/", {"reason": "Strategy change."}, format="json"
    )
    assert response.status_code == 200 and response.json()["ends_on"]
    page = client_for(liaison_a).get(reverse("agreements:detail", args=[agreement_a.reference])).content.decode()
    assert "Notice to end was given by Company A" in page


def test_admin_gives_the_centres_notice(agreement_a, admin_user, client_for):
    client_for(admin_user).post(
        reverse("admin:agreements_agreement_changelist"),
        {"action": "give_notice_selected", "_selected_action": [agreement_a.pk], "note": "Programme closed."},
    )
    agreement_a.refresh_from_db()
    assert agreement_a.end_notice_side == "centre" and agreement_a.end_notice_reason == "Programme closed."


# --- A release notice and the submission it announces --------------------------------------------


def test_submission_under_a_late_notice_takes_its_date_and_the_case_tells_the_lead(
    agreement_a, admin_user, liaison_a, lead
):
    notice = release_notice_record(
        actor=admin_user,
        agreement=agreement_a,
        model_name="Alpha-Next",
        planned_release_date=TODAY + datetime.timedelta(days=20),
        notice_given_on=TODAY,
    )
    assert notice.is_late is False
    late = release_notice_record(
        actor=admin_user,
        agreement=agreement_a,
        model_name="Alpha-Rush",
        planned_release_date=TODAY + datetime.timedelta(days=5),
        notice_given_on=TODAY,
    )
    submission = services.submission_create(
        actor=liaison_a,
        agreement=agreement_a,
        model_name="Alpha-Rush",
        model_version="1",
        modalities=["text"],
        release_notice=late,
    )
    assert submission.intended_release_date == late.planned_release_date
    late.refresh_from_db()
    assert late.status == ReleaseNoticeStatus.SUBMITTED
    start = timezone.now() + datetime.timedelta(hours=1)
    case = services.assessment_create(
        actor=admin_user,
        lead=lead,
        submission=submission,
        team=[],
        risk_domains=["cyber"],
        window_start=start,
        window_end=start + datetime.timedelta(days=3),
    )
    assert Handoff.objects.filter(recipient=lead, title=f"Late release notice on {case.reference}").exists()
    page = reverse("assessments:submission_detail", args=[submission.reference])
    from django.test import Client

    client = Client()
    client.force_login(liaison_a)
    assert "Late release notice" in client.get(page).content.decode()
    client.force_login(lead)
    case_page = client.get(case.get_absolute_url()).content.decode()
    assert "Late notice" in case_page and "the agreement asks for 14" in case_page


def test_moving_the_release_date_moves_the_submission_and_tells_the_lead(agreement_a, admin_user, liaison_a, lead):
    notice = release_notice_record(
        actor=admin_user,
        agreement=agreement_a,
        model_name="Alpha-Next",
        planned_release_date=TODAY + datetime.timedelta(days=30),
        notice_given_on=TODAY,
    )
    submission = services.submission_create(
        actor=liaison_a,
        agreement=agreement_a,
        model_name="Alpha-Next",
        model_version="1",
        modalities=["text"],
        release_notice=notice,
    )
    start = timezone.now() + datetime.timedelta(hours=1)
    case = services.assessment_create(
        actor=lead,
        submission=submission,
        team=[],
        risk_domains=["cyber"],
        window_start=start,
        window_end=start + datetime.timedelta(days=20),
    )
    release_notice_move_date(
        actor=liaison_a,
        notice=notice,
        planned_release_date=TODAY + datetime.timedelta(days=10),
        reason="Launch brought forward.",
    )
    submission.refresh_from_db()
    assert submission.intended_release_date == TODAY + datetime.timedelta(days=10)
    assert Handoff.objects.filter(
        recipient=lead, title=f"Release now before the window ends: {case.reference}"
    ).exists()
