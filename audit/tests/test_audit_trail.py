"""The audit trail: append-only everywhere, sign-ins and refusals recorded, export, case history."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from accounts.tests.factories import TEST_PASSWORD
from assessments.selectors import audit_history_for
from audit.models import AuditEvent
from audit.services import SECRET_MASK, audit_record, mask_secrets


def _event(**kwargs) -> AuditEvent:
    defaults = {"actor": None, "action": AuditEvent.Action.CHANGE, "summary": "Terms changed", "case_ref": ""}
    return audit_record(**{**defaults, **kwargs})


# --- Append-only -----------------------------------------------------------------


def test_orm_refuses_to_change_or_delete_an_event(db):
    event = _event()
    event.summary = "rewritten"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(summary="rewritten")
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    event.refresh_from_db()
    assert event.summary == "Terms changed"


def test_admin_shows_events_read_only_and_refuses_change_and_delete(client_for, admin_user):
    event = _event(actor=admin_user)
    client = client_for(admin_user)
    change_url = reverse("admin:audit_auditevent_change", args=[event.pk])
    page = client.get(change_url)
    assert page.status_code == 200
    assert 'name="summary"' not in page.content.decode()  # shown, not editable
    assert client.post(change_url, {"summary": "rewritten"}).status_code == 403
    assert client.post(reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    changelist = client.get(reverse("admin:audit_auditevent_changelist")).content.decode()
    assert "delete_selected" not in changelist
    assert reverse("admin:audit_auditevent_export") in changelist  # "Export these events as CSV"
    response = client.post(
        reverse("admin:audit_auditevent_changelist"),
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )
    assert response.status_code in (200, 302)
    assert AuditEvent.objects.filter(pk=event.pk, summary="Terms changed").exists()


@pytest.mark.django_db(transaction=True)
def test_postgres_trigger_refuses_raw_sql_update_and_delete(postgres_required):
    event = _event()
    for sql in (
        "UPDATE audit_auditevent SET summary = 'rewritten' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, [event.pk])
    event.refresh_from_db()
    assert event.summary == "Terms changed"


@pytest.mark.django_db(transaction=True)
def test_postgres_trigger_refuses_truncate(postgres_required):
    event = _event()
    for sql in ("TRUNCATE audit_auditevent", "TRUNCATE accounts_user CASCADE"):
        with pytest.raises(DatabaseError, match="append-only: TRUNCATE refused"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql)
    assert AuditEvent.objects.filter(pk=event.pk, summary="Terms changed").exists()


def test_deleting_a_user_who_has_audit_events_is_refused_and_the_event_keeps_its_actor(db):
    from django.db.models import ProtectedError

    from accounts.tests.factories import UserFactory

    user = UserFactory(email="leaver@centre.test")
    event = _event(actor=user)
    with pytest.raises(ProtectedError, match="AuditEvent.actor"):
        user.delete()
    event.refresh_from_db()
    assert (event.actor_id, event.actor_email) == (user.pk, "leaver@centre.test")


@pytest.mark.django_db(transaction=True)
def test_postgres_trigger_refuses_to_unlink_the_actor(postgres_required):
    from accounts.tests.factories import UserFactory

    user = UserFactory(email="leaver@centre.test")
    event = _event(actor=user)
    for sql in (
        "UPDATE audit_auditevent SET actor_id = NULL WHERE id = %s",
        "UPDATE audit_auditevent SET actor_id = NULL, actor_email = '' WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="unlinking the actor refused"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, [event.pk])
    # Nor can the user row go underneath it in SQL: the foreign key refuses.
    with pytest.raises(DatabaseError):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM accounts_membership WHERE user_id = %s", [user.pk])
            cursor.execute("DELETE FROM accounts_user WHERE id = %s", [user.pk])
    event.refresh_from_db()
    assert (event.actor_id, event.actor_email) == (user.pk, "leaver@centre.test")


def test_secret_fields_are_masked_even_when_the_caller_forgets():
    masked = mask_secrets({"credential": {"from": "old-key", "to": "new-key"}, "endpoint": {"from": "a", "to": "b"}})
    assert masked["credential"] == {"from": SECRET_MASK, "to": SECRET_MASK}
    assert masked["endpoint"] == {"from": "a", "to": "b"}


# --- Sign-ins, sign-outs, refusals --------------------------------------------------


def test_login_failed_login_and_logout_are_recorded_with_source_address(client, evaluator):
    client.post(
        reverse("login"), {"username": evaluator.email, "password": "not-the-password"}, REMOTE_ADDR="198.51.100.7"
    )
    client.post(reverse("login"), {"username": evaluator.email, "password": TEST_PASSWORD}, REMOTE_ADDR="198.51.100.8")
    client.post(reverse("logout"), REMOTE_ADDR="198.51.100.9")

    failed = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILED)
    assert failed.actor is None
    assert failed.object_repr == evaluator.email
    assert failed.source_ip == "198.51.100.7"
    assert "not-the-password" not in str(failed.__dict__)

    login = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN)
    assert (login.actor, login.actor_email, login.source_ip) == (evaluator, evaluator.email, "198.51.100.8")
    logout = AuditEvent.objects.get(action=AuditEvent.Action.LOGOUT)
    assert (logout.actor, logout.source_ip) == (evaluator, "198.51.100.9")


def test_failed_login_for_an_unknown_email_is_recorded_without_the_password(client, db):
    client.post(reverse("login"), {"username": "nobody@else.test", "password": "hunter2-guess"})
    event = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILED)
    assert "nobody@else.test" in event.summary
    assert all("hunter2-guess" not in str(getattr(event, f.attname)) for f in AuditEvent._meta.concrete_fields)


def test_page_refused_by_the_policy_is_recorded(client_for, liaison_a):
    response = client_for(liaison_a).get(reverse("agreements:create"), REMOTE_ADDR="203.0.113.5")
    assert response.status_code == 403
    event = AuditEvent.objects.get(action=AuditEvent.Action.DENIED)
    assert event.actor == liaison_a
    assert event.source_ip == "203.0.113.5"
    assert event.object_repr == f"GET {reverse('agreements:create')}"


def test_api_call_refused_by_the_policy_is_recorded(client_for, liaison_a):
    response = client_for(liaison_a).post("/api/v1/agreements/", {"title": "Not mine to make"})
    assert response.status_code == 403
    event = AuditEvent.objects.get(action=AuditEvent.Action.DENIED)
    assert event.actor == liaison_a
    assert event.object_repr == "POST /api/v1/agreements/"


def test_another_companys_object_answers_404_and_is_not_a_refusal(client_for, liaison_b, agreement_a):
    response = client_for(liaison_b).get(reverse("agreements:detail", kwargs={"reference": agreement_a.reference}))
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DENIED).exists()


# --- Export -------------------------------------------------------------------------


def test_admin_exports_the_filtered_trail_as_csv_and_the_export_is_audited(client_for, admin_user, evaluator):
    _event(actor=evaluator, action=AuditEvent.Action.REVEAL, summary="Credential revealed")
    _event(actor=evaluator, action=AuditEvent.Action.CHANGE, summary='=HYPERLINK("http://evil")')
    response = client_for(admin_user).get(reverse("admin:audit_auditevent_export") + "?action__exact=reveal")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["summary"] for r in rows] == ["Credential revealed"]
    assert rows[0]["actor_email"] == evaluator.email
    export = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert export.actor == admin_user
    assert "Exported 1 audit event" in export.summary


def test_export_neutralises_spreadsheet_formulas(client_for, admin_user):
    _event(summary='=HYPERLINK("http://evil.example")')
    response = client_for(admin_user).get(reverse("admin:audit_auditevent_export"))
    summaries = [r["summary"] for r in csv.DictReader(io.StringIO(response.content.decode()))]
    assert '\'=HYPERLINK("http://evil.example")' in summaries
    assert '=HYPERLINK("http://evil.example")' not in summaries


def test_export_action_on_selected_events(client_for, admin_user):
    first = _event(summary="first")
    _event(summary="second")
    response = client_for(admin_user).post(
        reverse("admin:audit_auditevent_changelist"), {"action": "export_selected_csv", "_selected_action": [first.pk]}
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["summary"] for r in rows] == ["first"]


@pytest.mark.parametrize("who", ["lead", "liaison_a"])
def test_only_programme_admins_reach_the_export(client_for, request, who):
    response = client_for(request.getfixturevalue(who)).get(reverse("admin:audit_auditevent_export"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


# --- A case's own history -------------------------------------------------------------


@pytest.fixture
def case_history(case, lead, liaison_a):
    from findings.tests.factories import FindingFactory

    draft = FindingFactory(assessment=case, author=lead, title="Internal draft finding")
    _event(actor=lead, action=AuditEvent.Action.CREATE, obj=draft, case_ref=case.reference, summary="Draft recorded")
    _event(
        actor=lead,
        action=AuditEvent.Action.TRANSITION,
        obj=case,
        case_ref=case.reference,
        summary="Access window opened (history test)",
    )
    _event(actor=lead, action=AuditEvent.Action.CHANGE, case_ref="ASM-OTHER", summary="Another case")
    return case


def test_team_on_the_case_reads_its_whole_history(case_history, lead, evaluator):
    for user in (lead, evaluator):
        summaries = list(audit_history_for(case_history.reference, user).values_list("summary", flat=True))
        assert summaries == ["Access window opened (history test)", "Draft recorded"]


def test_company_reads_only_events_about_what_it_may_see(case_history, liaison_a):
    summaries = list(audit_history_for(case_history.reference, liaison_a).values_list("summary", flat=True))
    assert summaries == ["Access window opened (history test)"]  # the internal draft finding stays internal


def test_company_reads_events_about_its_shared_comments_but_not_internal_ones(case, lead, evaluator, liaison_a):
    from findings.models import FindingComment
    from findings.tests.factories import released_finding

    finding = released_finding(assessment=case, author=evaluator, released_by=lead)
    for internal, summary in ((False, "Shared comment added"), (True, "Internal comment added")):
        comment = FindingComment.objects.create(finding=finding, author=lead, body=summary, internal=internal)
        _event(actor=lead, action=AuditEvent.Action.CREATE, obj=comment, case_ref=case.reference, summary=summary)
    _event(actor=lead, action=AuditEvent.Action.TRANSITION, obj=finding, case_ref=case.reference, summary="Released")
    seen = list(audit_history_for(case.reference, liaison_a).values_list("summary", flat=True))
    assert seen == ["Released", "Shared comment added"]
    assert audit_history_for(case.reference, liaison_a).count() == 2
    everything = audit_history_for(case.reference, lead).values_list("summary", flat=True)
    assert "Internal comment added" in everything


@pytest.mark.parametrize("outsider", ["liaison_b", "evaluator_other", None])
def test_people_who_cannot_see_the_case_read_nothing(case_history, request, outsider):
    user = request.getfixturevalue(outsider) if outsider else None
    assert not audit_history_for(case_history.reference, user).exists()


def test_history_partial_renders_the_events(case_history, rf, lead):
    from django.template import Context, Template

    request = rf.get("/")
    request.user = lead
    html = Template("{% load assessment_tags %}{% audit_history ref %}").render(
        Context({"request": request, "ref": case_history.reference})
    )
    assert "History" in html
    assert "Draft recorded" in html and "Access window opened (history test)" in html
    assert "Another case" not in html


def test_case_page_shows_its_history_to_the_team_but_not_internal_events_to_the_company(
    case_history, client_for, evaluator, liaison_a
):
    url = reverse("assessments:detail", kwargs={"reference": case_history.reference})
    team_page = client_for(evaluator).get(url).content.decode()
    assert "Draft recorded" in team_page and "Access window opened (history test)" in team_page
    company_page = client_for(liaison_a).get(url).content.decode()
    assert "Access window opened (history test)" in company_page
    assert "Draft recorded" not in company_page
    assert "Internal draft finding" not in company_page


def test_no_api_endpoint_can_write_or_delete_audit_events():
    """A guard for the future: an audit API, if one is added, must be read-only."""
    from reviewportal.api_urls import router

    assert router.registry  # the API is there to check
    for prefix, viewset, _basename in router.registry:
        model = getattr(getattr(viewset, "queryset", None), "model", None)
        if model is AuditEvent:
            writes = [name for name in ("create", "update", "partial_update", "destroy") if hasattr(viewset, name)]
            assert not writes, f"/api/v1/{prefix}/ could change audit events: {writes}"
