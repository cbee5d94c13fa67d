"""The finding life cycle: who may move a finding, from which status, and what each move records."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import AuditEvent
from core.errors import RuleViolation, TransitionNotAllowed
from findings import services
from findings.models import Finding, FindingComment, FindingStatus
from findings.tests.factories import FindingFactory, released_finding
from reminders.models import Deadline, DeadlineKind

pytestmark = pytest.mark.django_db


def _create(actor, case, **extra):
    data = {
        "title": "Role-play jailbreak yields exploit code",
        "risk_domain": "cyber",
        "severity": "high",
        "summary": "Working exploit code in a role-play framing.",
    }
    data.update(extra)
    return services.finding_create(actor=actor, assessment=case, **data)


def _in_review(case, author):
    return FindingFactory(assessment=case, author=author, status=FindingStatus.IN_REVIEW)


# --- Recording -----------------------------------------------------------------------------


def test_evaluator_on_the_team_records_a_draft_with_reference_and_audit(case, evaluator):
    finding = _create(evaluator, case)
    assert finding.status == FindingStatus.DRAFT
    assert finding.reference.startswith("FND-")
    event = AuditEvent.objects.get(object_id=finding.reference, action="create")
    assert event.case_ref == case.reference
    assert event.changes["title"]["to"] == "Role-play jailbreak yields exploit code"


@pytest.mark.parametrize("who", ["evaluator_other", "liaison_a", "admin_user"])
def test_people_off_the_team_cannot_record_a_finding(who, case, request):
    with pytest.raises(PermissionDenied):
        _create(request.getfixturevalue(who), case)
    assert not Finding.objects.exists()


def test_invalid_severity_is_a_field_error_and_nothing_is_written(case, evaluator):
    with pytest.raises(RuleViolation) as exc:
        _create(evaluator, case, severity="catastrophic", title="  ")
    assert set(exc.value.errors) == {"severity", "title"}
    assert not Finding.objects.exists()


def test_edit_is_refused_once_released(case, evaluator, lead):
    finding = released_finding(assessment=case, author=evaluator, released_by=lead)
    with pytest.raises(TransitionNotAllowed, match="edited only when"):
        services.finding_update(actor=evaluator, finding=finding, data={"title": "New"})


def test_edit_records_what_changed(case, evaluator):
    finding = FindingFactory(assessment=case, author=evaluator, severity="high")
    services.finding_update(actor=evaluator, finding=finding, data={"severity": "critical", "title": finding.title})
    event = AuditEvent.objects.get(object_id=finding.reference, action="change")
    assert event.changes == {"severity": {"from": "high", "to": "critical"}}


# --- The two-person rule -------------------------------------------------------------------


def test_the_author_cannot_release_their_own_finding_even_as_lead(case, lead):
    finding = _in_review(case, author=lead)
    with pytest.raises(PermissionDenied, match="not its author"):
        services.finding_release(actor=lead, finding=finding)
    finding.refresh_from_db()
    assert finding.status == FindingStatus.IN_REVIEW


def test_a_plain_evaluator_cannot_release(case, lead, evaluator):
    finding = _in_review(case, author=lead)
    with pytest.raises(PermissionDenied):
        services.finding_release(actor=evaluator, finding=finding)


def test_a_lead_not_on_the_case_cannot_release(case, evaluator, lead2):
    finding = _in_review(case, author=evaluator)
    with pytest.raises(PermissionDenied):
        services.finding_release(actor=lead2, finding=finding)


def test_the_database_refuses_a_finding_released_by_its_author(case, lead):
    finding = _in_review(case, author=lead)
    finding.released_by = lead
    with pytest.raises(IntegrityError), transaction.atomic():
        finding.save()


def test_a_new_lead_takes_over_the_escalation_of_the_case_findings_awaiting_an_answer(
    case, evaluator, lead, lead2, liaison_a, admin_user
):
    from assessments.services import assessment_change_lead

    finding = _in_review(case, author=evaluator)
    services.finding_release(actor=lead, finding=finding)
    deadline = Deadline.objects.get(kind=DeadlineKind.FINDING_RESPONSE_DUE, owner_id=finding.pk, is_open=True)
    assert set(deadline.escalate_to.all()) == {lead, admin_user}
    assessment_change_lead(actor=admin_user, assessment=case, lead=lead2)
    deadline = Deadline.objects.get(kind=DeadlineKind.FINDING_RESPONSE_DUE, owner_id=finding.pk, is_open=True)
    assert set(deadline.escalate_to.all()) == {lead2, admin_user}
    assert list(deadline.recipients.all()) == [liaison_a]


@time_machine.travel("2026-03-02 15:00 +0000", tick=False)
def test_lead_releases_with_default_due_date_and_a_deadline_for_the_liaisons(
    case, evaluator, lead, liaison_a, liaison_b, admin_user, settings
):
    settings.FINDING_RESPONSE_DAYS = 10
    finding = _in_review(case, author=evaluator)
    services.finding_release(actor=lead, finding=finding)
    finding.refresh_from_db()
    assert finding.status == FindingStatus.RELEASED
    assert finding.released_by == lead
    assert finding.response_due_at == timezone.now() + timedelta(days=10)
    deadline = Deadline.objects.get(kind=DeadlineKind.FINDING_RESPONSE_DUE, owner_id=finding.pk)
    assert deadline.is_open and deadline.due_at == finding.response_due_at
    assert list(deadline.recipients.all()) == [liaison_a]
    assert set(deadline.escalate_to.all()) == {lead, admin_user}
    assert deadline.organisation == case.submission.organisation
    event = AuditEvent.objects.get(object_id=finding.reference, action="transition")
    assert event.changes["status"] == {"from": "in_review", "to": "released"}


def test_release_from_draft_is_refused_naming_the_states(case, evaluator, lead):
    finding = FindingFactory(assessment=case, author=evaluator)
    with pytest.raises(TransitionNotAllowed, match="“draft”.*“in review”"):
        services.finding_release(actor=lead, finding=finding)


def test_release_with_a_past_due_date_is_refused(case, evaluator, lead):
    finding = _in_review(case, author=evaluator)
    with pytest.raises(RuleViolation) as exc:
        services.finding_release(actor=lead, finding=finding, response_due_at=timezone.now() - timedelta(days=1))
    assert "response_due_at" in exc.value.errors


# --- Every transition by role ----------------------------------------------------------------


def test_submit_for_review_by_team_only(case, evaluator, evaluator_other, liaison_a):
    finding = FindingFactory(assessment=case, author=evaluator)
    for outsider in (evaluator_other, liaison_a):
        with pytest.raises(PermissionDenied):
            services.finding_submit_for_review(actor=outsider, finding=finding)
    services.finding_submit_for_review(actor=evaluator, finding=finding)
    finding.refresh_from_db()
    assert finding.status == FindingStatus.IN_REVIEW and finding.submitted_at is not None
    with pytest.raises(TransitionNotAllowed):
        services.finding_submit_for_review(actor=evaluator, finding=finding)


def test_liaison_of_the_company_responds_and_the_deadline_closes(case, evaluator, lead, liaison_a, liaison_b):
    finding = _in_review(case, author=evaluator)
    services.finding_release(actor=lead, finding=finding)
    for refused in (liaison_b, evaluator, lead):
        with pytest.raises(PermissionDenied):
            services.finding_respond(actor=refused, finding=finding, disposition="risk_accepted", response="x")
    services.finding_respond(
        actor=liaison_a,
        finding=finding,
        disposition="will_mitigate",
        response="We will retrain.",
        planned_mitigation="v2.1",
        mitigation_target=timezone.localdate() + timedelta(days=30),
    )
    finding.refresh_from_db()
    assert finding.status == FindingStatus.COMPANY_RESPONDED
    assert finding.company_response == "We will retrain." and finding.responded_by == liaison_a
    assert not Deadline.objects.get(owner_id=finding.pk, kind=DeadlineKind.FINDING_RESPONSE_DUE).is_open


def test_liaison_cannot_respond_to_a_draft_of_their_own_company(case, evaluator, liaison_a):
    finding = FindingFactory(assessment=case, author=evaluator)
    with pytest.raises(PermissionDenied):
        services.finding_respond(actor=liaison_a, finding=finding, disposition="risk_accepted", response="x")


def test_team_resolves_a_responded_finding_but_the_company_cannot(case, evaluator, lead, liaison_a):
    finding = released_finding(
        assessment=case, author=evaluator, released_by=lead, status=FindingStatus.COMPANY_RESPONDED
    )
    with pytest.raises(PermissionDenied):
        services.finding_resolve(actor=liaison_a, finding=finding)
    services.finding_resolve(actor=evaluator, finding=finding, note="Mitigation verified.")
    finding.refresh_from_db()
    assert finding.status == FindingStatus.RESOLVED and finding.resolution_note == "Mitigation verified."
    with pytest.raises(TransitionNotAllowed):
        services.finding_resolve(actor=evaluator, finding=finding)


def test_asking_again_reopens_with_a_new_deadline_and_a_shared_comment(case, evaluator, lead, liaison_a):
    finding = released_finding(
        assessment=case, author=evaluator, released_by=lead, status=FindingStatus.COMPANY_RESPONDED
    )
    with pytest.raises(RuleViolation):
        services.finding_reopen(actor=lead, finding=finding, note=" ")
    services.finding_reopen(actor=lead, finding=finding, note="Which release carries the fix?")
    finding.refresh_from_db()
    assert finding.status == FindingStatus.RELEASED
    deadline = Deadline.objects.get(owner_id=finding.pk, kind=DeadlineKind.FINDING_RESPONSE_DUE)
    assert deadline.is_open and list(deadline.recipients.all()) == [liaison_a]
    comment = FindingComment.objects.get(finding=finding)
    assert not comment.internal and comment.body == "Which release carries the fix?"


def test_reopen_of_a_draft_is_refused(case, evaluator):
    finding = FindingFactory(assessment=case, author=evaluator)
    with pytest.raises(TransitionNotAllowed):
        services.finding_reopen(actor=evaluator, finding=finding, note="Again")


def test_withdraw_by_author_lead_or_admin_only(case, evaluator, lead, lead2, admin_user, liaison_a):
    mine = FindingFactory(assessment=case, author=lead)
    with pytest.raises(PermissionDenied):
        services.finding_withdraw(actor=evaluator, finding=mine, reason="Not mine")  # not the author, not a lead
    with pytest.raises(PermissionDenied):
        services.finding_withdraw(actor=lead2, finding=mine, reason="Not my case")
    services.finding_withdraw(actor=lead, finding=mine, reason="Duplicate of another finding")
    mine.refresh_from_db()
    assert mine.status == FindingStatus.WITHDRAWN and mine.withdrawn_reason == "Duplicate of another finding"
    with pytest.raises(TransitionNotAllowed):
        services.finding_withdraw(actor=lead, finding=mine, reason="Again")
    released = services.finding_release(actor=lead, finding=_in_review(case, author=evaluator))
    services.finding_withdraw(actor=admin_user, finding=released, reason="Out of scope")
    assert not Deadline.objects.get(owner_id=released.pk, kind=DeadlineKind.FINDING_RESPONSE_DUE).is_open


def test_resolved_finding_cannot_be_withdrawn(case, evaluator, lead):
    finding = released_finding(assessment=case, author=evaluator, released_by=lead, status=FindingStatus.RESOLVED)
    with pytest.raises(TransitionNotAllowed):
        services.finding_withdraw(actor=lead, finding=finding, reason="x")


# --- Comments --------------------------------------------------------------------------------


def test_liaison_cannot_write_an_internal_comment(case, evaluator, lead, liaison_a):
    finding = released_finding(assessment=case, author=evaluator, released_by=lead)
    with pytest.raises(PermissionDenied):
        services.finding_comment_add(actor=liaison_a, finding=finding, body="secret", internal=True)
    comment = services.finding_comment_add(actor=liaison_a, finding=finding, body="Question", internal=False)
    assert comment.internal is False
    assert AuditEvent.objects.filter(case_ref=case.reference, action="create", object_type="findings.findingcomment")
