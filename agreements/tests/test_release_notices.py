"""Release notices: recording an upcoming covered release, the late flag, and moving the date."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from agreements import selectors
from agreements.models import ReleaseNoticeStatus
from agreements.services.release_notices import release_notice_move_date, release_notice_record
from audit.models import AuditEvent
from core.errors import RuleViolation
from reminders.models import Deadline, DeadlineKind, Handoff

TODAY = timezone.localdate()


def _record(actor, agreement, *, days_ahead: int, **extra):
    return release_notice_record(
        actor=actor,
        agreement=agreement,
        model_name="Alpha-Frontier",
        model_version="3.0",
        planned_release_date=TODAY + datetime.timedelta(days=days_ahead),
        notice_given_on=TODAY,
        **extra,
    )


@pytest.mark.django_db
def test_notice_inside_the_agreed_period_is_late_and_tells_the_lead(agreement_a, admin_user, lead):
    notice = _record(admin_user, agreement_a, days_ahead=10, lead=lead)  # the agreement asks for 14 days
    assert notice.is_late and notice.notice_days_required == 14 and notice.notice_days_given == 10
    assert Handoff.objects.filter(recipient=lead, title__startswith="Late release notice").count() == 1
    deadline = Deadline.objects.get(kind=DeadlineKind.PLANNED_RELEASE, owner_id=notice.pk)
    assert deadline.due_at.date() >= notice.planned_release_date - datetime.timedelta(days=1)
    assert list(selectors.release_notices_late(user=admin_user)) == [notice]


@pytest.mark.django_db
def test_notice_given_in_time_is_not_late_and_tells_nobody(agreement_a, admin_user, lead):
    notice = _record(admin_user, agreement_a, days_ahead=20, lead=lead)
    assert not notice.is_late
    assert not Handoff.objects.filter(recipient=lead).exists()
    assert list(selectors.release_notices_upcoming(user=admin_user, days=90)) == [notice]
    assert list(selectors.release_notices_upcoming(user=admin_user, days=19)) == []


@pytest.mark.django_db
def test_liaison_cannot_record_a_notice(agreement_a, liaison_a):
    with pytest.raises(PermissionDenied):
        _record(liaison_a, agreement_a, days_ahead=20)


@pytest.mark.django_db
def test_release_before_the_notice_is_refused_on_the_field(agreement_a, admin_user):
    with pytest.raises(RuleViolation) as refused:
        _record(admin_user, agreement_a, days_ahead=-1)
    assert "planned_release_date" in refused.value.errors


@pytest.mark.django_db
def test_company_moves_its_release_date_audited_and_it_becomes_late(agreement_a, admin_user, lead, liaison_a):
    notice = _record(admin_user, agreement_a, days_ahead=30, lead=lead)
    moved = release_notice_move_date(
        actor=liaison_a,
        notice=notice,
        planned_release_date=TODAY + datetime.timedelta(days=7),
        reason="Launch brought forward for a conference.",
    )
    assert moved.is_late and moved.planned_release_date == TODAY + datetime.timedelta(days=7)
    event = AuditEvent.objects.filter(object_id=notice.reference, action=AuditEvent.Action.CHANGE).latest("pk")
    assert "brought forward" in event.summary
    deadline = Deadline.objects.get(kind=DeadlineKind.PLANNED_RELEASE, owner_id=notice.pk)
    assert deadline.revision == 2
    assert Handoff.objects.filter(recipient=lead, title__startswith="Late release notice").exists()


@pytest.mark.django_db
def test_other_company_cannot_move_the_date_nor_see_the_notice(agreement_a, admin_user, liaison_b):
    notice = _record(admin_user, agreement_a, days_ahead=30)
    with pytest.raises(PermissionDenied):
        release_notice_move_date(
            actor=liaison_b, notice=notice, planned_release_date=TODAY + datetime.timedelta(days=40), reason="x"
        )
    assert list(selectors.release_notice_list(user=liaison_b)) == []
    assert notice.status == ReleaseNoticeStatus.EXPECTED


@pytest.mark.django_db
def test_form_records_a_late_notice_and_its_page_says_so(agreement_a, admin_user, client_for):
    from django.urls import reverse

    url = reverse("agreements:release_notice_create", args=[agreement_a.reference])
    response = client_for(admin_user).post(
        url,
        {"model_name": "Alpha-Next", "planned_release_date": "", "notice_given_on": TODAY.isoformat()},
    )
    assert response.status_code == 200 and "Alpha-Next" in response.content.decode()  # kept on error
    response = client_for(admin_user).post(
        url,
        {
            "model_name": "Alpha-Next",
            "planned_release_date": (TODAY + datetime.timedelta(days=5)).isoformat(),
            "notice_given_on": TODAY.isoformat(),
        },
    )
    notice = agreement_a.release_notices.get()
    assert response.status_code == 302 and response["Location"] == notice.get_absolute_url()
    page = client_for(admin_user).get(notice.get_absolute_url()).content.decode()
    assert "Late notice:" in page and "the agreement asks for 14" in page


@pytest.mark.django_db
def test_api_records_and_moves_a_notice_and_hides_it_from_another_company(
    agreement_a, admin_user, liaison_a, liaison_b, api
):
    response = api(admin_user).post(
        "/api/v1/release-notices/",
        {
            "agreement": agreement_a.reference,
            "model_name": "Alpha-Next",
            "planned_release_date": (TODAY + datetime.timedelta(days=30)).isoformat(),
            "notice_given_on": TODAY.isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201 and response.json()["is_late"] is False
    reference = response.json()["reference"]
    url = f"/api/v1/release-notices/{reference}/"
    assert api(liaison_b).get(url).status_code == 404
    moved = api(liaison_a).post(
        url + "release-date/",
        {"planned_release_date": (TODAY + datetime.timedelta(days=3)).isoformat(), "reason": "Brought forward."},
        format="json",
    )
    assert moved.status_code == 200 and moved.json()["is_late"] is True
    bad = api(liaison_a).post(url + "release-date/", {"planned_release_date": "soon"}, format="json")
    assert bad.status_code == 400 and {"planned_release_date", "reason"} <= set(bad.json()["errors"])


@pytest.mark.django_db
def test_admin_shows_release_notices_read_only(agreement_a, admin_user, client_for):
    from django.urls import reverse

    notice = _record(admin_user, agreement_a, days_ahead=5)
    page = client_for(admin_user).get(reverse("admin:agreements_releasenotice_change", args=[notice.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and notice.reference in html and 'name="planned_release_date"' not in html
