"""The policy module: scoping, fail-closed defaults and the 404 helper."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.models import Organisation, User
from accounts.permissions import can, get_object_for, require, scope
from agreements.models import Agreement
from assessments.models import Assessment, ModelSubmission


def test_liaison_sees_only_own_company_objects(liaison_a, case, case_b):
    assert list(scope(Agreement.objects.all(), liaison_a)) == [case.submission.agreement]
    assert list(scope(ModelSubmission.objects.all(), liaison_a)) == [case.submission]
    assert list(scope(Assessment.objects.all(), liaison_a)) == [case]


def test_liaison_of_other_company_gets_404_for_an_object(liaison_b, case):
    with pytest.raises(Http404):
        get_object_for(liaison_b, Assessment.objects.all(), reference=case.reference)
    with pytest.raises(Http404):
        get_object_for(liaison_b, Agreement.objects.all(), reference=case.submission.agreement.reference)


def test_liaison_sees_centre_and_own_company_but_not_competitors(liaison_a, company_b, centre):
    names = set(scope(Organisation.objects.all(), liaison_a).values_list("name", flat=True))
    assert names == {"Test Centre", "Company A"}
    assert not scope(User.objects.filter(membership__organisation=company_b), liaison_a).exists()


def test_evaluator_sees_only_assigned_assessments(evaluator, evaluator_other, case, case_b):
    assert list(scope(Assessment.objects.all(), evaluator)) == [case]
    assert list(scope(Assessment.objects.all(), evaluator_other)) == [case_b]


def test_lead_sees_cases_they_lead_or_are_on_admin_sees_all(lead, admin_user, case, case_b):
    assert list(scope(Assessment.objects.all(), lead)) == [case]
    assert set(scope(Assessment.objects.all(), admin_user)) == {case, case_b}


def test_unknown_action_is_refused_for_everyone(admin_user):
    assert can(admin_user, "agreement.fly_to_the_moon") is False
    with pytest.raises(PermissionDenied):
        require(admin_user, "agreement.fly_to_the_moon")


def test_anonymous_and_unaffiliated_users_see_nothing(db, case):
    from django.contrib.auth.models import AnonymousUser

    loner = User.objects.create_user(email="loner@example.test", password="x" * 12, full_name="Loner")
    assert not scope(Assessment.objects.all(), AnonymousUser()).exists()
    assert not scope(Assessment.objects.all(), loner).exists()
    assert can(loner, "admin.access") is False


def test_inactive_user_sees_nothing(admin_user, case):
    admin_user.is_active = False
    admin_user.save()
    assert not scope(Assessment.objects.all(), User.objects.get(pk=admin_user.pk)).exists()


def test_model_without_scoper_is_invisible(admin_user):
    from django.contrib.auth.models import Group

    Group.objects.create(name="anything")
    assert not scope(Group.objects.all(), admin_user).exists()


def test_seen_but_refused_action_is_403_not_404(evaluator, case):
    with pytest.raises(PermissionDenied):
        get_object_for(evaluator, Assessment.objects.all(), action="assessment.create", reference=case.reference)
