"""The findings API: scoping per role, 400s with field messages, transitions by role."""

import datetime

import pytest

from findings.models import Finding, FindingStatus
from findings.tests.factories import CommentFactory, FindingFactory, released_finding
from tests.query_budgets import BUDGETS

pytestmark = pytest.mark.django_db

URL = "/api/v1/findings/"


def _payload(case, **extra):
    data = {
        "assessment": case.reference,
        "title": "Agentic self-exfiltration attempt",
        "risk_domain": "biological",
        "severity": "high",
        "summary": "Tried to copy its weights to an external bucket when given shell access.",
        "details": "See transcript 14.",
    }
    data.update(extra)
    return data


def test_evaluator_records_a_finding_with_a_simple_payload(case, evaluator, client_for):
    response = client_for(evaluator).post(URL, _payload(case), content_type="application/json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["reference"].startswith("FND-") and body["status"] == "draft"
    assert body["assessment"] == case.reference
    assert Finding.objects.get(reference=body["reference"]).author == evaluator


def test_bad_input_answers_400_with_field_messages(case, evaluator, client_for):
    response = client_for(evaluator).post(
        URL, _payload(case, severity="apocalyptic", title=""), content_type="application/json"
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"severity", "title"}
    assert not Finding.objects.exists()


def test_unknown_or_unseen_assessment_is_a_field_error(case, evaluator_other, client_for):
    response = client_for(evaluator_other).post(URL, _payload(case), content_type="application/json")
    assert response.status_code == 400
    assert "assessment" in response.json()["errors"]


def test_liaison_cannot_create(case, liaison_a, client_for):
    response = client_for(liaison_a).post(URL, _payload(case), content_type="application/json")
    assert response.status_code == 403


def test_scoping_per_role(case, case_b, evaluator, evaluator_other, lead, lead2, liaison_a, admin_user, client_for):
    draft_a = FindingFactory(assessment=case, author=evaluator)
    released_a = released_finding(assessment=case, author=evaluator, released_by=lead)
    draft_b = FindingFactory(assessment=case_b, author=evaluator_other)

    def refs(user):
        return {r["reference"] for r in client_for(user).get(URL).json()["results"]}

    assert refs(evaluator) == {draft_a.reference, released_a.reference}
    assert refs(evaluator_other) == {draft_b.reference}
    assert refs(liaison_a) == {released_a.reference}
    assert refs(admin_user) == {draft_a.reference, released_a.reference, draft_b.reference}
    assert client_for(liaison_a).get(f"{URL}{draft_a.reference}/").status_code == 404


def test_update_is_validated_and_refused_after_release(case, evaluator, lead, client_for):
    draft = FindingFactory(assessment=case, author=evaluator)
    client = client_for(evaluator)
    response = client.patch(f"{URL}{draft.reference}/", {"severity": "critical"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["severity"] == "critical"
    response = client.patch(f"{URL}{draft.reference}/", {"risk_domain": "space"}, content_type="application/json")
    assert response.status_code == 400 and "risk_domain" in response.json()["errors"]
    released = released_finding(assessment=case, author=evaluator, released_by=lead)
    response = client.patch(f"{URL}{released.reference}/", {"title": "x"}, content_type="application/json")
    assert response.status_code == 409


def test_full_life_cycle_through_the_api(case, evaluator, lead, liaison_a, client_for):
    ref = client_for(evaluator).post(URL, _payload(case), content_type="application/json").json()["reference"]
    assert client_for(evaluator).post(f"{URL}{ref}/submit/").json()["status"] == "in_review"
    # The author's colleague who is a plain evaluator cannot release; the lead can.
    assert client_for(evaluator).post(f"{URL}{ref}/release/").status_code == 403
    due = (datetime.date.today() + datetime.timedelta(days=40)).isoformat()
    response = client_for(lead).post(
        f"{URL}{ref}/release/", {"response_due_at": f"{due}T17:00:00Z"}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["response_due_at"].startswith(due)
    response = client_for(liaison_a).post(
        f"{URL}{ref}/respond/",
        {"disposition": "disputed", "company_response": "Sandboxing is already in place."},
        content_type="application/json",
    )
    assert response.json()["status"] == "company_responded"
    response = client_for(lead).post(f"{URL}{ref}/reopen/", {"note": "Which sandbox?"}, content_type="application/json")
    assert response.json()["status"] == "released"
    client_for(liaison_a).post(
        f"{URL}{ref}/respond/",
        {"disposition": "risk_accepted", "company_response": "gVisor is enough."},
        content_type="application/json",
    )
    response = client_for(evaluator).post(
        f"{URL}{ref}/resolve/", {"note": "Verified."}, content_type="application/json"
    )
    assert response.json()["status"] == "resolved"
    response = client_for(lead).post(f"{URL}{ref}/withdraw/", {"reason": "x"}, content_type="application/json")
    assert response.status_code == 409


def test_author_lead_cannot_release_through_the_api(case, lead, client_for):
    finding = FindingFactory(assessment=case, author=lead, status=FindingStatus.IN_REVIEW)
    assert client_for(lead).post(f"{URL}{finding.reference}/release/").status_code == 403


def test_withdraw_needs_a_reason(case, evaluator, client_for):
    draft = FindingFactory(assessment=case, author=evaluator)
    response = client_for(evaluator).post(f"{URL}{draft.reference}/withdraw/", {}, content_type="application/json")
    assert response.status_code == 400 and "reason" in response.json()["errors"]


def test_comments_hide_internal_ones_from_the_company(case, evaluator, lead, liaison_a, client_for):
    finding = released_finding(assessment=case, author=evaluator, released_by=lead)
    CommentFactory(finding=finding, author=lead, body="internal note", internal=True)
    CommentFactory(finding=finding, author=lead, body="shared note", internal=False)
    url = f"{URL}{finding.reference}/comments/"
    assert [c["body"] for c in client_for(liaison_a).get(url).json()] == ["shared note"]
    assert len(client_for(evaluator).get(url).json()) == 2
    response = client_for(liaison_a).post(url, {"body": "hi", "internal": True}, content_type="application/json")
    assert response.status_code == 403
    response = client_for(liaison_a).post(url, {"body": "hi"}, content_type="application/json")
    assert response.status_code == 201 and response.json()["internal"] is False


def test_list_filters_and_search(case, evaluator, client_for):
    FindingFactory(assessment=case, author=evaluator, title="Bio thing", risk_domain="biological", severity="critical")
    FindingFactory(assessment=case, author=evaluator, title="Cyber thing", severity="low")
    client = client_for(evaluator)
    assert [r["title"] for r in client.get(URL + "?severity=critical").json()["results"]] == ["Bio thing"]
    assert [r["title"] for r in client.get(URL + "?search=cyber").json()["results"]] == ["Cyber thing"]
    assert [r["title"] for r in client.get(URL).json()["results"]] == ["Bio thing", "Cyber thing"]


def test_api_list_query_count_is_flat(case, evaluator, lead, client_for, django_assert_max_num_queries):
    for i in range(20):
        released_finding(assessment=case, author=evaluator, released_by=lead, title=f"F{i}")
    client = client_for(evaluator)
    client.get(URL)
    with django_assert_max_num_queries(BUDGETS["api:finding-list"]["evaluator"]):
        assert len(client.get(URL).json()["results"]) == 20
