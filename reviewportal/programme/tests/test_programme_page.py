"""The programme page: what those who run the programme see, and that nobody else sees any of it."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import EngagementChange
from accounts.services import organisation_engagement_change
from accounts.states import EngagementStage
from agreements.services.release_notices import release_notice_record
from findings.models import Severity
from findings.tests.factories import FindingFactory, released_finding

TODAY = timezone.localdate()
URL = reverse("programme:overview")


def _notice(actor, agreement, *, days_ahead: int, name: str, given_days_ago: int = 0):
    return release_notice_record(
        actor=actor,
        agreement=agreement,
        model_name=name,
        model_version="1.0",
        planned_release_date=TODAY + datetime.timedelta(days=days_ahead),
        notice_given_on=TODAY - datetime.timedelta(days=given_days_ago),
    )


@pytest.fixture
def programme(admin_user, lead, evaluator, company_a, company_b, agreement_a, agreement_b, case, case_b):
    """Company A signed and may be named, with a case, findings and two expected releases (one late);
    company B in discussion; a third company a prospect."""
    from accounts.tests.factories import OrganisationFactory

    for stage in (EngagementStage.IN_DISCUSSION, EngagementStage.NEGOTIATING, EngagementStage.SIGNED):
        organisation_engagement_change(actor=admin_user, organisation=company_a, stage=stage)
    organisation_engagement_change(actor=admin_user, organisation=company_a, disclosure_permitted=True)
    organisation_engagement_change(
        actor=admin_user, organisation=company_b, stage=EngagementStage.IN_DISCUSSION, note="Talks began."
    )
    OrganisationFactory(name="Company C")
    released_finding(assessment=case, author=evaluator, released_by=lead, severity=Severity.CRITICAL)
    FindingFactory(assessment=case, author=evaluator, severity=Severity.HIGH)
    FindingFactory(assessment=case, author=evaluator, severity=Severity.HIGH)
    FindingFactory(assessment=case_b, author=evaluator, severity=Severity.LOW)
    late = _notice(admin_user, agreement_a, days_ahead=5, name="Alpha-Next")  # 14 days' notice agreed
    timely = _notice(admin_user, agreement_a, days_ahead=60, name="Alpha-Later")
    far = _notice(admin_user, agreement_b, days_ahead=120, name="Beta-Far-Off")
    return {"late": late, "timely": timely, "far": far}


def _row(html: str, company: str) -> str:
    start = html.index(f">{company}</a></th>")
    return html[start : html.index("</tr>", start)]


def test_admin_sees_every_company_with_its_stage_agreements_and_work(client, admin_user, programme, case):
    client.force_login(admin_user)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    a, b, c = _row(html, "Company A"), _row(html, "Company B"), _row(html, "Company C")
    assert "Signed" in a and "May be named" in a and "Avery" not in a
    assert "In discussion" in b and "Not to be named" in b
    assert "Prospect" in c and "not yet recorded" in c and "None" in c  # no agreement
    overview = response.context["overview"]
    rows = {row.organisation.name: row for row in overview.companies}
    assert (rows["Company A"].releases_due, rows["Company A"].late_notices, rows["Company A"].open_cases) == (2, 1, 1)
    assert rows["Company A"].findings_text == "1 critical, 2 high"
    assert rows["Company B"].findings_text == "1 low"
    assert rows["Company B"].releases_due == 0  # its release is beyond 90 days
    assert [a.reference for a in rows["Company A"].agreements] == [rows["Company A"].agreements[0].reference]
    assert dict((label, n) for _v, label, n in overview.stage_counts) == {
        "Prospect": 1,
        "In discussion": 1,
        "Negotiating": 0,
        "Signed": 1,
        "Lapsed": 0,
    }
    assert [n.model_name for n in overview.releases] == ["Alpha-Next", "Alpha-Later"]
    assert [n.model_name for n in overview.late_notices] == ["Alpha-Next"]
    assert case.reference in html and "Beta-Far-Off" not in html


def test_charts_are_described_in_text_and_never_by_colour_alone(client, admin_user, programme, case):
    client.force_login(admin_user)
    html = client.get(URL).content.decode()
    assert html.count('role="img" aria-labelledby') == 3
    assert "Companies at each engagement stage: Prospect 1, In discussion 1, Negotiating 0, Signed 1, Lapsed 0." in html
    # The late release is marked by its words as well as its outline.
    assert f"Alpha-Next public release {programme['late'].planned_release_date:%-d %b} — late notice" in html
    assert f"{case.reference}: window ends" in html
    assert "Company A: 1 critical, 2 high; Company B: 1 low." in html
    # Each chart has a table with the same figures.
    assert '<th scope="row">All companies</th><td>1</td><td>2</td><td>0</td><td>1</td><td>0</td><td>4</td>' in html


def test_a_lead_sees_the_programme_but_only_the_cases_they_are_on(client, lead, programme, case, case_b):
    client.force_login(lead)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert case.reference in html
    assert case_b.reference not in html
    assert "1 more case is under way that you are not on" in html
    rows = {row.organisation.name: row for row in response.context["overview"].companies}
    assert rows["Company B"].open_cases == 1
    assert (
        "Record a change"
        not in client.get(
            reverse("programme:engagement", kwargs={"public_id": programme["late"].organisation.public_id})
        ).content.decode()
    )


@pytest.mark.parametrize("who", ["liaison_a", "liaison_b", "evaluator"])
def test_liaisons_and_evaluators_get_a_404_and_no_programme_link(request, client, who, programme, company_a):
    person = request.getfixturevalue(who)
    client.force_login(person)
    assert client.get(URL).status_code == 404
    engagement_url = reverse("programme:engagement", kwargs={"public_id": company_a.public_id})
    assert client.get(engagement_url).status_code == 404
    assert client.post(engagement_url, {"stage": "lapsed", "note": "x"}).status_code == 404
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert URL not in dashboard
    assert "Programme" not in dashboard.split('aria-label="Primary navigation"')[1].split("</nav>")[0]


def test_no_liaison_ever_sees_another_company_participation(client, api, liaison_a, programme, company_b):
    """Company B is in discussion: nothing a liaison of company A can open says so."""
    client.force_login(liaison_a)
    for url in (reverse("dashboard"), reverse("agreements:list"), reverse("assessments:list")):
        html = client.get(url).content.decode()
        assert "Company B" not in html and "In discussion" not in html, url
    companies = api(liaison_a).get(reverse("organisation-list")).json()["results"]
    assert "Company B" not in {row["name"] for row in companies}
    assert all("engagement_stage" not in row for row in companies)
    other = reverse("organisation-detail", kwargs={"public_id": company_b.public_id})
    assert api(liaison_a).get(other).status_code == 404


def test_programme_link_is_in_the_navigation_of_those_who_run_it(client, admin_user, lead):
    for person in (admin_user, lead):
        client.force_login(person)
        nav = client.get(reverse("dashboard")).content.decode().split('aria-label="Primary navigation"')[1]
        assert f'href="{URL}"' in nav.split("</nav>")[0]


def test_an_empty_programme_says_so(client, admin_user, centre):
    client.force_login(admin_user)
    html = client.get(URL).content.decode()
    assert "No companies yet." in html
    assert "No covered release is expected and no assessment window is open" in html
    assert "No open findings." in html


# --- A company's engagement page ------------------------------------------------------------------


def _engagement_url(company):
    return reverse("programme:engagement", kwargs={"public_id": company.public_id})


def test_admin_records_a_stage_on_the_company_page(client, admin_user, company_b):
    client.force_login(admin_user)
    page = client.get(_engagement_url(company_b)).content.decode()
    assert "Record a change" in page and "No change has been recorded yet." in page
    assert '<option value="signed"' not in page  # only the moves a prospect can make are offered
    response = client.post(
        _engagement_url(company_b),
        {"stage": "in_discussion", "disclosure_permitted": "on", "note": "Intro call with their policy team."},
        follow=True,
    )
    html = response.content.decode()
    assert "Company B&#x27;s engagement was recorded." in html
    assert "Prospect → In discussion" in html and "Intro call with their policy team." in html
    company_b.refresh_from_db()
    assert (company_b.engagement_stage, company_b.disclosure_permitted) == ("in_discussion", True)


def test_a_refused_change_keeps_what_was_typed(client, admin_user, company_b):
    organisation_engagement_change(actor=admin_user, organisation=company_b, stage=EngagementStage.IN_DISCUSSION)
    client.force_login(admin_user)
    response = client.post(_engagement_url(company_b), {"stage": "lapsed", "note": ""})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Say why Company B is recorded as lapsed." in html
    assert '<option value="lapsed" selected' in html
    assert EngagementChange.objects.filter(organisation=company_b).count() == 1


def test_hostile_input_on_the_engagement_form_is_a_clear_error(client, admin_user, company_b):
    client.force_login(admin_user)
    response = client.post(_engagement_url(company_b), {"stage": "in_discussion", "note": "a\x00b"})
    assert response.status_code == 200
    assert "control character" in response.content.decode()
    response = client.post(_engagement_url(company_b), {"stage": "signed' OR 1=1", "note": ""})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not EngagementChange.objects.exists()


def test_the_centre_has_no_engagement_page(client, admin_user, centre):
    client.force_login(admin_user)
    assert client.get(_engagement_url(centre)).status_code == 404


def test_a_long_list_of_cases_is_cut_to_the_soonest_ending_and_says_so(client, admin_user, lead, case, monkeypatch):
    from assessments.tests.factories import AssessmentFactory
    from reviewportal.programme import selectors

    monkeypatch.setattr(selectors, "CASES_SHOWN", 2)
    later = [
        AssessmentFactory(
            submission=case.submission, lead=lead, window_end=case.window_end + datetime.timedelta(days=d)
        )
        for d in (1, 2)
    ]
    client.force_login(admin_user)
    html = client.get(URL).content.decode()
    assert case.reference in html and later[0].reference in html
    assert later[1].reference not in html
    assert "These are the 2 whose windows end soonest of the 3 under way" in html


def test_a_company_recorded_as_signed_without_an_agreement_in_force_is_pointed_out(
    client, admin_user, company_a, agreement_a
):
    from agreements.models import AgreementStatus

    for stage in (EngagementStage.NEGOTIATING, EngagementStage.SIGNED):
        organisation_engagement_change(actor=admin_user, organisation=company_a, stage=stage)
    client.force_login(admin_user)
    assert "No agreement in force" not in _row(client.get(URL).content.decode(), "Company A")
    agreement_a.status = AgreementStatus.EXPIRED
    agreement_a.save(update_fields=["status"])
    assert "No agreement in force" in _row(client.get(URL).content.decode(), "Company A")
