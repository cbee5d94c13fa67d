"""A company's engagement stage and disclosure flag: one service, its history, the admin's actions."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.models import EngagementChange, Organisation
from accounts.services import organisation_engagement_change
from accounts.states import EngagementStage, engagement_targets
from audit.models import AuditEvent
from core.errors import RuleViolation, TransitionNotAllowed


def test_a_company_in_discussion_is_recorded_without_any_agreement(admin_user, company_a):
    change = organisation_engagement_change(
        actor=admin_user, organisation=company_a, stage=EngagementStage.IN_DISCUSSION, note="First call held."
    )
    company_a.refresh_from_db()
    assert company_a.engagement_stage == EngagementStage.IN_DISCUSSION
    assert company_a.engagement_changed_by == admin_user
    assert company_a.engagement_changed_at == change.changed_at
    assert not company_a.agreements.exists()
    assert (change.stage_from, change.stage_to, change.changed_by, change.note) == (
        EngagementStage.PROSPECT,
        EngagementStage.IN_DISCUSSION,
        admin_user,
        "First call held.",
    )
    event = AuditEvent.objects.get(object_type="accounts.organisation", object_repr="Company A")
    assert event.actor == admin_user
    assert event.changes["engagement_stage"] == {"from": "prospect", "to": "in_discussion"}
    assert "in discussion" in event.summary


def test_each_change_is_kept_in_the_history_newest_first(admin_user, company_a):
    for stage in (EngagementStage.IN_DISCUSSION, EngagementStage.NEGOTIATING, EngagementStage.SIGNED):
        organisation_engagement_change(actor=admin_user, organisation=company_a, stage=stage)
    organisation_engagement_change(actor=admin_user, organisation=company_a, disclosure_permitted=True)
    history = list(company_a.engagement_changes.values_list("stage_from", "stage_to", "disclosure_to"))
    assert history == [
        ("signed", "signed", True),
        ("negotiating", "signed", False),
        ("in_discussion", "negotiating", False),
        ("prospect", "in_discussion", False),
    ]
    assert AuditEvent.objects.filter(object_type="accounts.organisation", object_repr="Company A").count() == 4


def test_a_move_the_stages_do_not_allow_is_refused_and_names_the_way_forward(admin_user, company_a):
    with pytest.raises(TransitionNotAllowed) as refused:
        organisation_engagement_change(actor=admin_user, organisation=company_a, stage=EngagementStage.SIGNED)
    assert "cannot go from prospect to signed" in str(refused.value)
    assert "negotiating" in str(refused.value)
    company_a.refresh_from_db()
    assert company_a.engagement_stage == EngagementStage.PROSPECT
    assert not EngagementChange.objects.exists()


def test_lapsing_needs_a_reason(admin_user, company_a):
    with pytest.raises(RuleViolation) as refused:
        organisation_engagement_change(actor=admin_user, organisation=company_a, stage=EngagementStage.LAPSED)
    assert refused.value.errors["note"] == ["Say why Company A is recorded as lapsed."]
    organisation_engagement_change(
        actor=admin_user, organisation=company_a, stage=EngagementStage.LAPSED, note="No reply since March."
    )
    company_a.refresh_from_db()
    assert company_a.engagement_stage == EngagementStage.LAPSED


def test_nothing_new_is_refused(admin_user, company_a):
    with pytest.raises(TransitionNotAllowed, match="nothing changed"):
        organisation_engagement_change(
            actor=admin_user, organisation=company_a, stage=EngagementStage.PROSPECT, disclosure_permitted=False
        )
    assert not EngagementChange.objects.exists()


@pytest.mark.parametrize("note", ["bad\x00note", "x" * 2001])
def test_a_hostile_note_is_refused_on_its_field(admin_user, company_a, note):
    with pytest.raises(RuleViolation) as refused:
        organisation_engagement_change(
            actor=admin_user, organisation=company_a, stage=EngagementStage.IN_DISCUSSION, note=note
        )
    assert "note" in refused.value.errors
    assert not EngagementChange.objects.exists()


@pytest.mark.parametrize("who", ["lead", "evaluator", "liaison_a"])
def test_only_programme_admins_record_engagement(request, who, company_a):
    person = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        organisation_engagement_change(actor=person, organisation=company_a, stage=EngagementStage.IN_DISCUSSION)
    company_a.refresh_from_db()
    assert company_a.engagement_stage == EngagementStage.PROSPECT


def test_the_centre_has_no_engagement_stage(admin_user, centre):
    with pytest.raises(PermissionDenied):
        organisation_engagement_change(actor=admin_user, organisation=centre, stage=EngagementStage.IN_DISCUSSION)


def test_every_stage_can_be_left_and_signed_is_reached_only_by_negotiating():
    for stage in EngagementStage.values:
        assert engagement_targets(stage), stage
    reaching_signed = [s for s in EngagementStage.values if EngagementStage.SIGNED in engagement_targets(s)]
    assert reaching_signed == [EngagementStage.NEGOTIATING]


# --- The admin: the fields are read-only; actions call the service --------------------------------


def _changelist():
    return reverse("admin:accounts_organisation_changelist")


def test_admin_shows_the_engagement_fields_read_only_with_the_history(client, admin_user, company_a):
    organisation_engagement_change(
        actor=admin_user, organisation=company_a, stage=EngagementStage.IN_DISCUSSION, note="Met at the summit."
    )
    client.force_login(admin_user)
    page = client.get(reverse("admin:accounts_organisation_change", args=[company_a.pk]))
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert "engagement_stage" not in form.fields and "disclosure_permitted" not in form.fields
    html = page.content.decode()
    assert "Engagement history" in html or "engagement history" in html
    assert "Met at the summit." in html


def test_admin_change_form_cannot_set_the_stage(client, admin_user, company_a):
    client.force_login(admin_user)
    url = reverse("admin:accounts_organisation_change", args=[company_a.pk])
    response = client.post(
        url,
        {
            "name": company_a.name,
            "email_domains": '["a.test"]',
            "engagement_stage": "signed",
            "disclosure_permitted": "on",
            "engagement_changes-TOTAL_FORMS": "0",
            "engagement_changes-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    company_a.refresh_from_db()
    assert company_a.engagement_stage == EngagementStage.PROSPECT
    assert company_a.disclosure_permitted is False


def test_admin_action_records_the_chosen_stage_through_the_service(client, admin_user, company_a, company_b):
    client.force_login(admin_user)
    response = client.post(
        _changelist(),
        {
            "action": "record_engagement_stage",
            "_selected_action": [company_a.pk, company_b.pk],
            "stage": EngagementStage.IN_DISCUSSION,
            "note": "Both at the first workshop.",
        },
        follow=True,
    )
    assert "Recorded as in discussion: 2 of the selected companies." in response.content.decode()
    assert set(Organisation.objects.filter(engagement_stage="in_discussion").values_list("name", flat=True)) == {
        "Company A",
        "Company B",
    }
    assert EngagementChange.objects.filter(note="Both at the first workshop.", changed_by=admin_user).count() == 2


def test_admin_action_shows_the_service_refusal_and_changes_nothing(client, admin_user, company_a):
    client.force_login(admin_user)
    response = client.post(
        _changelist(),
        {"action": "record_engagement_stage", "_selected_action": [company_a.pk], "stage": EngagementStage.SIGNED},
        follow=True,
    )
    assert "cannot go from prospect to signed" in response.content.decode()
    company_a.refresh_from_db()
    assert company_a.engagement_stage == EngagementStage.PROSPECT


def test_admin_action_without_a_stage_says_to_choose_one(client, admin_user, company_a):
    client.force_login(admin_user)
    response = client.post(
        _changelist(), {"action": "record_engagement_stage", "_selected_action": [company_a.pk]}, follow=True
    )
    assert "Choose the engagement stage to record." in response.content.decode()
    assert not EngagementChange.objects.exists()


def test_admin_disclosure_actions_set_and_clear_the_flag(client, admin_user, company_a, centre):
    client.force_login(admin_user)
    response = client.post(
        _changelist(), {"action": "permit_disclosure", "_selected_action": [company_a.pk, centre.pk]}, follow=True
    )
    html = response.content.decode()
    assert "Participation may now be disclosed: 1 of the selected companies." in html
    assert "The centre has no engagement stage" in html
    company_a.refresh_from_db()
    assert company_a.disclosure_permitted is True
    client.post(_changelist(), {"action": "withhold_disclosure", "_selected_action": [company_a.pk]})
    company_a.refresh_from_db()
    assert company_a.disclosure_permitted is False
    assert list(company_a.engagement_changes.values_list("disclosure_to", flat=True)) == [False, True]


def test_the_api_never_shows_a_company_engagement(api, liaison_a, admin_user, company_a):
    organisation_engagement_change(
        actor=admin_user, organisation=company_a, stage=EngagementStage.IN_DISCUSSION, disclosure_permitted=True
    )
    for person in (liaison_a, admin_user):
        body = api(person).get(reverse("organisation-detail", kwargs={"public_id": company_a.public_id})).json()
        assert body["name"] == "Company A"
        assert not {"engagement_stage", "disclosure_permitted"} & set(body)
