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
