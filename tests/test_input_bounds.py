"""Dates and sizes have sane bounds, the same through the web forms, the API, the services and the database.

Dates: a planned date lies between today and a few years ahead; only records of
what already happened may lie in the past. Texts: every text field has a
maximum (core/bounds.py), refused by the form, the API and the database.
Each refusal says what is allowed, keeps what was typed and writes nothing.
"""

from __future__ import annotations

import datetime
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.validators import MaxLengthValidator, MaxValueValidator
from django.db import IntegrityError, models, transaction
from django.urls import reverse
from django.utils import timezone

from agreements import services as agreement_services
from agreements.models import Agreement, AgreementStatus, Meeting, OpenPoint
from agreements.tests.factories import AgreementFactory
from assessments import services as assessment_services
from assessments.models import AccessTicket, Assessment, ModelSubmission, TicketStatus
from assessments.tests.factories import ModelSubmissionFactory
from core import bounds
from core.errors import RuleViolation
from findings import services as finding_services
from findings.models import Finding, FindingComment, FindingStatus
from findings.tests.factories import FindingFactory, released_finding
from reminders.models import Deadline

pytestmark = pytest.mark.django_db

ONE_MB = 1024 * 1024
# Distinct words, so a page that kept the text can be told from one that shows a fragment.
MEGABYTE_TEXT = ("The model wrote a working exploit when asked in a role-play framing. " * 16_000)[:ONE_MB]
YEAR_1 = "0001-01-01"
YEAR_9999 = "9999-12-01"

APPS = ("accounts", "agreements", "assessments", "findings", "reminders")


def _today() -> datetime.date:
    return timezone.localdate()


@pytest.fixture
def negotiating(company_a):
    return AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)


@pytest.fixture
def approved(case, evaluator, lead):
    ticket = assessment_services.ticket_request(
        actor=evaluator,
        assessment=case,
        kind="hosted_api",
        justification="Cyber range tasks.",
        wanted_from=case.window_start,
        wanted_to=case.window_end,
    )
    return assessment_services.ticket_approve(actor=lead, ticket=ticket)


# --- The limits themselves ---------------------------------------------------------------


def test_a_range_names_its_first_and_last_day_in_the_portal_format():
    first, last = bounds.INTENDED_RELEASE.limits()
    message = bounds.INTENDED_RELEASE.error(datetime.date(1, 1, 1))
    assert message == (
        f"The intended release date must be between {first.day} {first:%b %Y} (today) and {last.day} {last:%b %Y}."
    )
    assert bounds.INTENDED_RELEASE.error(first) is None and bounds.INTENDED_RELEASE.error(last) is None
    assert bounds.INTENDED_RELEASE.error(last + timedelta(days=1)) is not None
    assert bounds.INTENDED_RELEASE.error(first - timedelta(days=1)) is not None


def test_datetimes_at_the_ends_of_time_are_refused_without_overflowing():
    for moment in (
        datetime.datetime(1, 1, 1, tzinfo=datetime.UTC),
        datetime.datetime(9999, 12, 31, 23, 59, tzinfo=datetime.UTC),
    ):
        assert "must be between" in bounds.ASSESSMENT_WINDOW.error(moment)
    assert bounds.ASSESSMENT_WINDOW.error(timezone.now()) is None


def test_every_text_field_has_a_maximum_in_the_model_validators_and_the_database():
    """A census: each TextField of the portal's apps carries max_length, a validator and a CheckConstraint."""
    found = []
    for label in APPS:
        for model in apps.get_app_config(label).get_models():
            names = {c.name for c in model._meta.constraints}
            for field in model._meta.get_fields():
                if not isinstance(field, models.TextField):
                    continue
                found.append(f"{model.__name__}.{field.name}")
                assert field.max_length, f"{model.__name__}.{field.name} has no max_length"
                assert any(
                    isinstance(v, MaxLengthValidator) and v.limit_value == field.max_length for v in field.validators
                ), f"{model.__name__}.{field.name} has no MaxLengthValidator"
                constraint = f"{model._meta.model_name}_{field.name}_max_length"
                assert constraint in names, f"{model.__name__} lacks the constraint {constraint}"
    assert "Finding.details" in found and "AccessTicket.credential_ciphertext" in found


def test_the_database_refuses_an_over_long_text_written_around_the_services(case, evaluator):
    finding = FindingFactory(assessment=case, author=evaluator)
    with pytest.raises(IntegrityError), transaction.atomic():
        Finding.objects.filter(pk=finding.pk).update(details="x" * (bounds.BODY + 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        FindingComment.objects.create(finding=finding, author=evaluator, body="y" * (bounds.NOTE + 1))
    finding.refresh_from_db()
    assert finding.details == "Observed in **3 of 5** attempts."
    # At the limit is still allowed.
    Finding.objects.filter(pk=finding.pk).update(details="x" * bounds.BODY)
    assert len(Finding.objects.get(pk=finding.pk).details) == bounds.BODY


def test_the_release_notice_limit_is_the_one_written_in_bounds():
    field = Agreement._meta.get_field("release_notice_days")
    assert [v.limit_value for v in field.validators if isinstance(v, MaxValueValidator)] == [
        bounds.RELEASE_NOTICE_MAX_DAYS
    ]


# --- Dates through the web forms -----------------------------------------------------------


@pytest.mark.parametrize("typed", [YEAR_1, YEAR_9999])
def test_submission_form_refuses_an_intended_release_date_far_off_and_keeps_it(
    client_for, liaison_a, agreement_a, typed
):
    response = client_for(liaison_a).post(
        reverse("assessments:submission_create"),
        {
            "agreement": agreement_a.pk,
            "model_name": "Alpha-Next",
            "model_version": "3.1",
            "modalities": ["text"],
            "intended_release_date": typed,
            "notes": "Agentic scaffold included.",
        },
    )
    assert response.status_code == 200
    assert "The intended release date must be between" in response.text
    assert f'value="{typed}"' in response.text and "Agentic scaffold included." in response.text
    assert not ModelSubmission.objects.filter(model_name="Alpha-Next").exists()


def test_submission_form_refuses_a_release_date_in_the_past(client_for, liaison_a, agreement_a):
    yesterday = (_today() - timedelta(days=1)).isoformat()
    response = client_for(liaison_a).post(
        reverse("assessments:submission_create"),
        {
            "agreement": agreement_a.pk,
            "model_name": "Alpha-Late",
            "model_version": "1",
            "modalities": ["text"],
            "intended_release_date": yesterday,
        },
    )
    assert "(today)" in response.text and "must be between" in response.text
    assert not ModelSubmission.objects.filter(model_name="Alpha-Late").exists()


def test_assessment_form_refuses_a_window_in_year_9999_and_creates_no_deadline(client_for, lead, agreement_a):
    submission = ModelSubmissionFactory(agreement=agreement_a)
    response = client_for(lead).post(
        reverse("assessments:create"),
        {
            "submission": submission.pk,
            "risk_domains": ["cyber"],
            "window_start": "9999-12-01T09:00",
            "window_end": "9999-12-20T09:00",
            "internal_notes": "Planned far ahead.",
        },
    )
    assert response.status_code == 200
    assert "The access window must be between" in response.text
    assert 'value="9999-12-01T09:00"' in response.text and "Planned far ahead." in response.text
    assert not Assessment.objects.filter(submission=submission).exists()
    assert not Deadline.objects.filter(due_at__gt=timezone.now() + timedelta(days=10 * 365)).exists()


def test_open_point_form_refuses_a_due_date_in_the_past(client_for, lead, liaison_a, negotiating):
    last_week = (_today() - timedelta(days=7)).isoformat()
    response = client_for(lead).post(
        reverse("agreements:open_point_add", kwargs={"reference": negotiating.reference}),
        {"title": "Incident contacts", "owner": liaison_a.public_id, "due_date": last_week},
    )
    assert response.status_code == 200
    assert "The due date must be between" in response.text
    assert f'value="{last_week}"' in response.text and 'value="Incident contacts"' in response.text
    assert not OpenPoint.objects.exists()


def test_an_overdue_open_point_can_still_change_owner_with_its_date_unchanged(client_for, lead, liaison_a, negotiating):
    point = agreement_services.open_point_add(
        actor=lead, agreement=negotiating, title="Logs", owner=liaison_a, due_date=_today()
    )
    overdue = _today() - timedelta(days=3)
    OpenPoint.objects.filter(pk=point.pk).update(due_date=overdue)
    response = client_for(lead).post(
        reverse("agreements:open_point_edit", kwargs={"reference": negotiating.reference, "point_id": point.public_id}),
        {"owner": lead.public_id, "due_date": overdue.isoformat()},
    )
    assert response.status_code == 302
    point.refresh_from_db()
    assert point.owner == lead and point.due_date == overdue
    # Moving it to another past date is refused.
    with pytest.raises(RuleViolation, match="The due date must be between"):
        agreement_services.open_point_update(actor=lead, point=point, owner=lead, due_date=overdue - timedelta(days=1))


def test_terms_form_refuses_an_effective_date_of_year_1(client_for, lead, negotiating):
    response = client_for(lead).post(
        reverse("agreements:edit_terms", kwargs={"reference": negotiating.reference}),
        {
            "title": negotiating.title,
            "max_window_days": 30,
            "release_notice_days": 14,
            "risk_consequence": "consultation",
            "effective_date": YEAR_1,
            "expiry_date": "",
        },
    )
    assert response.status_code == 200
    assert "The effective date must be between" in response.text
    negotiating.refresh_from_db()
    assert negotiating.effective_date != datetime.date(1, 1, 1)


def test_meeting_form_refuses_a_meeting_in_year_1_or_next_week(client_for, lead, negotiating):
    url = reverse("agreements:meeting_add", kwargs={"reference": negotiating.reference})
    next_week = timezone.localtime() + timedelta(days=7)
    for held in ("0001-01-01T10:00", next_week.strftime("%Y-%m-%dT%H:%M")):
        response = client_for(lead).post(url, {"held_at": held, "attendees": "Lena Lead", "minutes": "Agreed."})
        assert response.status_code == 200
        assert "The meeting date must be between" in response.text and "(today)" in response.text
    assert not Meeting.objects.exists()
    # A meeting held last month is a record, and is kept.
    last_month = timezone.localtime() - timedelta(days=30)
    response = client_for(lead).post(
        url, {"held_at": last_month.strftime("%Y-%m-%dT%H:%M"), "attendees": "Lena Lead", "minutes": "Agreed."}
    )
    assert response.status_code == 302 and Meeting.objects.count() == 1


def test_release_form_refuses_a_response_due_date_in_year_9999(client_for, lead2, case, evaluator):
    case.team.add(lead2)
    finding = FindingFactory(assessment=case, author=evaluator, status=FindingStatus.IN_REVIEW)
    response = client_for(lead2).post(
        reverse("findings:release", args=[finding.reference]), {"response_due": YEAR_9999, "confirmed": "yes"}
    )
    assert response.status_code == 200
    assert "The response due date must be between" in response.text
    finding.refresh_from_db()
    assert finding.status == FindingStatus.IN_REVIEW and finding.response_due_at is None


# --- Dates through the API ----------------------------------------------------------------


def test_api_refuses_an_intended_release_date_of_year_1(client_for, liaison_a, agreement_a):
    response = client_for(liaison_a).post(
        "/api/v1/submissions/",
        {
            "agreement": agreement_a.reference,
            "model_name": "Alpha-Next",
            "model_version": "3.1",
            "modalities": ["text"],
            "intended_release_date": YEAR_1,
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and "must be between" in body["errors"]["intended_release_date"][0]
    assert not ModelSubmission.objects.filter(model_name="Alpha-Next").exists()


def test_api_refuses_an_assessment_window_in_year_9999(client_for, lead, agreement_a):
    submission = ModelSubmissionFactory(agreement=agreement_a)
    response = client_for(lead).post(
        "/api/v1/assessments/",
        {
            "submission": submission.reference,
            "risk_domains": ["cyber"],
            "window_start": "9999-12-01T09:00:00Z",
            "window_end": "9999-12-20T09:00:00Z",
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "The access window must be between" in errors["window_start"][0]
    assert not Assessment.objects.filter(submission=submission).exists()
    assert not Deadline.objects.filter(due_at__gt=timezone.now() + timedelta(days=10 * 365)).exists()


def test_api_refuses_an_open_point_due_in_the_past(client_for, lead, liaison_a, negotiating):
    response = client_for(lead).post(
        f"/api/v1/agreements/{negotiating.reference}/open-points/",
        {"title": "Logs", "owner": str(liaison_a.public_id), "due_date": (_today() - timedelta(days=1)).isoformat()},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "The due date must be between" in response.json()["errors"]["due_date"][0]
    assert not OpenPoint.objects.exists()


def test_api_refuses_a_signature_due_date_years_ahead(client_for, lead, company_a):
    awaiting = AgreementFactory(organisation=company_a, status=AgreementStatus.AWAITING_SIGNATURE)
    response = client_for(lead).post(
        f"/api/v1/agreements/{awaiting.reference}/signature-due/",
        {"signature_due": YEAR_9999[:4] + "-01-01"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "The signature due date must be between" in response.json()["errors"]["signature_due"][0]
    awaiting.refresh_from_db()
    assert awaiting.signature_due is None


def test_api_refuses_an_expiry_date_in_year_9999(client_for, lead, negotiating):
    response = client_for(lead).patch(
        f"/api/v1/agreements/{negotiating.reference}/",
        {"expiry_date": "9999-12-31"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "The expiry date must be between" in response.json()["errors"]["expiry_date"][0]
    negotiating.refresh_from_db()
    assert negotiating.expiry_date != datetime.date(9999, 12, 31)


def test_api_refuses_a_response_due_date_in_year_9999(client_for, lead2, case, evaluator):
    case.team.add(lead2)
    finding = FindingFactory(assessment=case, author=evaluator, status=FindingStatus.IN_REVIEW)
    response = client_for(lead2).post(
        f"/api/v1/findings/{finding.reference}/release/",
        {"response_due_at": "9999-12-31T12:00:00Z"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "The response due date must be between" in response.json()["errors"]["response_due_at"][0]
    assert Finding.objects.get(pk=finding.pk).status == FindingStatus.IN_REVIEW


# --- Dates through the services (admin actions, commands and tasks call these) -------------


def test_services_refuse_dates_out_of_range(case, evaluator, lead, liaison_a, agreement_a, negotiating, approved):
    far = timezone.now() + timedelta(days=3 * 365)
    refusals = {
        "intended_release_date": lambda: assessment_services.submission_create(
            actor=liaison_a,
            agreement=agreement_a,
            model_name="M",
            model_version="1",
            modalities=["text"],
            intended_release_date=datetime.date(9999, 1, 1),
        ),
        "wanted_to": lambda: assessment_services.ticket_request(
            actor=evaluator,
            assessment=case,
            kind="hosted_api",
            justification="Why.",
            wanted_from=case.window_start,
            wanted_to=far,
        ),
        "until": lambda: assessment_services.ticket_request_extension(
            actor=evaluator, ticket=approved, until=far, reason="More time."
        ),
        "held_at": lambda: agreement_services.meeting_record(
            actor=lead,
            agreement=negotiating,
            held_at=datetime.datetime(1, 1, 1, tzinfo=datetime.UTC),
            attendees="Lena Lead",
            minutes="Agreed.",
        ),
        "signature_due": lambda: agreement_services.agreement_submit_for_signature(
            actor=lead, agreement=negotiating, signature_due=_today() + timedelta(days=2 * 365)
        ),
    }
    for field, call in refusals.items():
        with pytest.raises(RuleViolation) as refused:
            call()
        assert "must be between" in refused.value.errors[field][0], field
    assert not ModelSubmission.objects.filter(model_name="M").exists()
    assert AccessTicket.objects.count() == 1
    approved.refresh_from_db()
    assert approved.extension_requested_to is None
    assert not Meeting.objects.exists()
    assert Agreement.objects.get(pk=negotiating.pk).status == AgreementStatus.NEGOTIATING


def test_an_old_case_stays_editable_with_its_window_unchanged(case, lead):
    start = timezone.now() - timedelta(days=2 * 365)
    Assessment.objects.filter(pk=case.pk).update(window_start=start, window_end=start + timedelta(days=14))
    case.refresh_from_db()
    assessment_services.assessment_update(
        actor=lead,
        assessment=case,
        team=list(case.team.all()),
        risk_domains=case.risk_domains,
        window_start=case.window_start,
        window_end=case.window_end,
        internal_notes="Written up later.",
    )
    assert Assessment.objects.get(pk=case.pk).internal_notes == "Written up later."


# --- Sizes through the web forms -------------------------------------------------------------


def test_finding_form_refuses_a_megabyte_of_details_and_keeps_it(client_for, case, evaluator):
    response = client_for(evaluator).post(
        reverse("findings:create", args=[case.reference]),
        {
            "title": "Synthesis route uplift",
            "risk_domain": "chemical",
            "severity": "critical",
            "summary": "Gives a step-by-step route when asked as a chemistry tutor.",
            "details": MEGABYTE_TEXT,
        },
    )
    assert response.status_code == 200
    assert f"at most {bounds.BODY} characters" in response.text
    assert f'maxlength="{bounds.BODY}"' in response.text  # the browser says so before sending
    assert MEGABYTE_TEXT in response.text  # what was typed is kept
    assert not Finding.objects.exists()


def test_provision_form_refuses_a_megabyte_credential(client_for, liaison_a, approved):
    response = client_for(liaison_a).post(
        reverse("assessments:ticket_provision", args=[approved.reference]),
        {"endpoint": "https://api.a.test/v1", "credential": MEGABYTE_TEXT, "instructions": "Use the header."},
    )
    assert response.status_code == 200
    assert "The credential can be at most 8,192 bytes (8 KiB); this one is 1,048,576 bytes." in response.text
    assert 'value="https://api.a.test/v1"' in response.text and "Use the header." in response.text
    approved.refresh_from_db()
    assert approved.status == TicketStatus.APPROVED and approved.credential_ciphertext == ""


def test_a_credential_of_8_kib_characters_but_more_bytes_is_refused_by_the_service(client_for, liaison_a, approved):
    wide = "é" * (bounds.CREDENTIAL_BYTES // 2 + 1)  # within the form's character limit, over 8 KiB in UTF-8
    response = client_for(liaison_a).post(
        reverse("assessments:ticket_provision", args=[approved.reference]),
        {"endpoint": "https://api.a.test/v1", "credential": wide, "instructions": ""},
    )
    assert response.status_code == 200
    assert "The credential can be at most 8,192 bytes (8 KiB); this one is 8,194 bytes." in response.text
    assert AccessTicket.objects.get(pk=approved.pk).credential_ciphertext == ""
    # 8 KiB exactly is accepted, and fits the database column once encrypted.
    assessment_services.ticket_provision(
        actor=liaison_a,
        ticket=approved,
        endpoint="https://api.a.test/v1",
        credential="k" * bounds.CREDENTIAL_BYTES,
        instructions="",
    )
    assert AccessTicket.objects.get(pk=approved.pk).status == TicketStatus.PROVISIONED


def test_comment_form_refuses_a_megabyte_comment(client_for, case, evaluator):
    finding = FindingFactory(assessment=case, author=evaluator)
    response = client_for(evaluator).post(
        reverse("findings:comment", args=[finding.reference]), {"body": MEGABYTE_TEXT, "internal": "on"}
    )
    assert response.status_code == 400
    assert f"at most {bounds.NOTE} characters" in response.text
    assert not FindingComment.objects.exists()


# --- Sizes through the API -------------------------------------------------------------------


def test_api_refuses_a_megabyte_summary_with_a_field_error(client_for, case, evaluator):
    response = client_for(evaluator).post(
        "/api/v1/findings/",
        {
            "assessment": case.reference,
            "title": "Exfiltration",
            "risk_domain": "autonomy",
            "severity": "high",
            "summary": MEGABYTE_TEXT,
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and f"no more than {bounds.SUMMARY} characters" in body["errors"]["summary"][0]
    assert not Finding.objects.exists()


def test_api_refuses_a_megabyte_credential(client_for, liaison_a, approved):
    response = client_for(liaison_a).post(
        f"/api/v1/access-tickets/{approved.reference}/provision/",
        {"endpoint": "https://api.a.test/v1", "credential": MEGABYTE_TEXT},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["errors"]["credential"] == [
        "The credential can be at most 8,192 bytes (8 KiB); this one is 1,048,576 bytes."
    ]
    approved.refresh_from_db()
    assert approved.status == TicketStatus.APPROVED and approved.credential_ciphertext == ""


def test_api_refuses_megabyte_minutes(client_for, lead, negotiating):
    response = client_for(lead).post(
        f"/api/v1/agreements/{negotiating.reference}/meetings/",
        {"held_at": timezone.now().isoformat(), "attendees": ["Lena Lead"], "minutes": MEGABYTE_TEXT},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "minutes" in response.json()["errors"]
    assert not Meeting.objects.exists()


# --- Sizes through the services (the admin, commands and tasks call these) ----------------------


def test_services_refuse_over_long_texts_with_a_field_error(case, evaluator, lead, liaison_a, negotiating):
    finding = released_finding(assessment=case, author=evaluator, released_by=lead)
    refusals = {
        "text": lambda: agreement_services.negotiation_entry_add(
            actor=lead, agreement=negotiating, kind="comment", clause="general", text="t" * (bounds.BODY + 1)
        ),
        "company_response": lambda: finding_services.finding_respond(
            actor=liaison_a, finding=finding, disposition="risk_accepted", response="r" * (bounds.BODY + 1)
        ),
        "justification": lambda: assessment_services.ticket_request(
            actor=evaluator,
            assessment=case,
            kind="hosted_api",
            justification="j" * (bounds.NOTE + 1),
            wanted_from=case.window_start,
            wanted_to=case.window_end,
        ),
        "reason": lambda: agreement_services.agreement_withdraw(
            actor=lead, agreement=negotiating, reason="w" * (bounds.NOTE + 1)
        ),
    }
    for field, call in refusals.items():
        with pytest.raises(RuleViolation) as refused:
            call()
        assert "characters long" in refused.value.errors[field][0], field
    assert not negotiating.entries.exists() and not AccessTicket.objects.exists()
    assert Finding.objects.get(pk=finding.pk).status == FindingStatus.RELEASED
    assert Agreement.objects.get(pk=negotiating.pk).status == AgreementStatus.NEGOTIATING
