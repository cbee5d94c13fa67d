import pytest
from django.urls import reverse

from accounts.tests.factories import TEST_PASSWORD
from tests.query_budgets import BUDGETS

ROLE_FIXTURES = ["admin_user", "lead", "evaluator", "liaison_a"]


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("admin_user", "You are signed in as <strong>Programme admin</strong> at Test Centre"),
        ("lead", "You are signed in as <strong>Lead evaluator</strong> at Test Centre"),
        ("evaluator", "You are signed in as <strong>Evaluator</strong> at Test Centre"),
        ("liaison_a", "You are signed in as <strong>Company liaison</strong> at Company A"),
    ],
)
def test_each_role_logs_in_with_email_and_sees_its_dashboard(client, request, fixture, expected):
    user = request.getfixturevalue(fixture)
    response = client.post(reverse("login"), {"username": user.email, "password": TEST_PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("dashboard")
    assert expected in response.content.decode()


def test_wrong_password_keeps_the_email_and_says_why(client, evaluator):
    response = client.post(reverse("login"), {"username": evaluator.email, "password": "wrong"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "That email address and password do not match an active account." in body
    assert f'value="{evaluator.email}"' in body


@pytest.mark.parametrize("url_name", ["dashboard", "profile", "password_change"])
def test_anonymous_user_is_sent_to_login(client, db, url_name):
    url = reverse(url_name)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_liaison_dashboard_counts_only_their_company(client_for, liaison_a, case, case_b):
    response = client_for(liaison_a).get(reverse("dashboard"))
    panels = {p.title: p.count for p in response.context["panels"]}
    assert panels["Agreements"] == 1
    assert panels["Assessments"] == 1


def test_admin_link_only_for_programme_admin(client_for, admin_user, lead, liaison_a):
    assert "/admin/" in client_for(admin_user).get(reverse("dashboard")).content.decode()
    assert 'href="/admin/"' not in client_for(lead).get(reverse("dashboard")).content.decode()
    assert 'href="/admin/"' not in client_for(liaison_a).get(reverse("dashboard")).content.decode()


def test_admin_site_refuses_non_admins(client_for, lead, admin_user):
    assert client_for(lead).get("/admin/").status_code == 302  # to the admin login
    assert client_for(admin_user).get("/admin/").status_code == 200
    response = client_for(admin_user).get("/admin/accounts/user/?q=lead")
    assert response.status_code == 200


def test_password_reset_sends_an_email_with_a_link(client, evaluator, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": evaluator.email})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert "/accounts/password/reset/" in mailoutbox[0].body
    assert mailoutbox[0].to == [evaluator.email]


def test_profile_time_zone_is_validated_and_input_kept(client_for, evaluator):
    response = client_for(evaluator).post(reverse("profile"), {"full_name": "Eva E", "time_zone": "Mars/Olympus"})
    body = response.content.decode()
    assert "is not a known time zone" in body
    assert 'value="Eva E"' in body
    evaluator.refresh_from_db()
    assert evaluator.time_zone == "America/New_York"


def _panels(client, user) -> dict:
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    return {p.title: p for p in response.context["panels"]}


def test_dashboard_counts_findings_and_shows_what_each_role_must_act_on(
    client_for, case, case_b, lead, evaluator, liaison_a, liaison_b
):
    from findings.models import FindingStatus
    from findings.tests.factories import FindingFactory, released_finding

    FindingFactory(assessment=case, author=evaluator)  # evaluator's draft
    FindingFactory(assessment=case, author=evaluator, status=FindingStatus.IN_REVIEW)  # for the lead to release
    released_finding(assessment=case, author=evaluator, released_by=lead)  # awaiting company A's answer

    # The big number is the findings; what the role must act on is a line of its own.
    evaluator_panel = _panels(client_for(evaluator), evaluator)["Findings"]
    assert (evaluator_panel.count, evaluator_panel.notes) == (3, [("Your drafts", 1)])
    lead_panel = _panels(client_for(lead), lead)["Findings"]
    assert (lead_panel.count, lead_panel.notes) == (3, [("In review, yours to release", 1)])
    liaison_panel = _panels(client_for(liaison_a), liaison_a)["Findings"]
    assert (liaison_panel.count, liaison_panel.notes) == (1, [("Waiting for your answer", 1)])
    assert liaison_panel.details == [("Released to company", 1)]
    assert _panels(client_for(liaison_b), liaison_b)["Findings"].count == 0


def test_dashboard_shows_company_b_nothing_of_company_a(client_for, case, liaison_a, liaison_b):
    from assessments.tests.factories import AccessTicketFactory

    AccessTicketFactory(assessment=case, status="approved", starts_at=case.window_start, ends_at=case.window_end)
    panels = _panels(client_for(liaison_b), liaison_b)
    assert {title: p.count for title, p in panels.items()} == {
        "Agreements": 0,
        "Model submissions": 0,
        "Assessments": 0,
        "Model access": 0,
        "Findings": 0,
        "Deadlines this week": 0,
    }
    # The same ticket is on company A's dashboard, waiting to be provisioned.
    assert _panels(client_for(liaison_a), liaison_a)["Model access"].count == 1


def test_dashboard_query_count_does_not_grow_with_records(
    client_for, case, lead, evaluator, django_assert_max_num_queries
):
    from findings.models import FindingStatus
    from findings.tests.factories import FindingFactory

    for _ in range(15):
        FindingFactory(assessment=case, author=evaluator)
    client = client_for(lead)
    with django_assert_max_num_queries(BUDGETS["dashboard"]["lead"]):
        response = client.get(reverse("dashboard"))
    assert f"{FindingStatus.DRAFT.label}: <strong>15</strong>" in response.content.decode()
