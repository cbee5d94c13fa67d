"""/api/v1/agreements/: scoping per role, field errors, transitions by role, the negotiation record."""

from __future__ import annotations

import datetime

import pytest

from agreements.models import Agreement, AgreementStatus
from agreements.tests.factories import AgreementFactory, NegotiationEntryFactory, OpenPointFactory

LIST = "/api/v1/agreements/"
NEXT_WEEK = (datetime.date.today() + datetime.timedelta(days=7)).isoformat()


def _refs(response) -> set[str]:
    return {row["reference"] for row in response.json()["results"]}


@pytest.mark.parametrize(
    ("role", "sees_a", "sees_b"),
    [
        ("admin_user", True, True),
        ("lead", True, True),
        ("evaluator", True, False),  # only the agreement behind the case they are on
        ("evaluator_other", False, True),
        ("liaison_a", True, False),
        ("liaison_b", False, True),
    ],
)
def test_list_is_scoped_per_role(request, api, case, case_b, agreement_a, agreement_b, role, sees_a, sees_b):
    response = api(request.getfixturevalue(role)).get(LIST)
    assert response.status_code == 200
    refs = _refs(response)
    assert (agreement_a.reference in refs) is sees_a
    assert (agreement_b.reference in refs) is sees_b


def test_detail_of_another_companys_agreement_is_404(api, liaison_a, agreement_b):
    response = api(liaison_a).get(f"{LIST}{agreement_b.reference}/")
    assert response.status_code == 404
    assert agreement_b.title not in response.content.decode()


def test_detail_shows_terms_current_version_and_signatures(api, lead, agreement_a):
    response = api(lead).get(f"{LIST}{agreement_a.reference}/")
    body = response.json()
    assert body["reference"] == agreement_a.reference
    assert body["max_window_days"] == 30
    assert body["organisation"] == str(agreement_a.organisation.public_id)
    assert body["signatures"] == []
    assert "id" in body and body["id"] == str(agreement_a.public_id)


def _create_body(company, **overrides):
    return {
        "organisation": str(company.public_id),
        "title": "Pilot",
        "max_window_days": 21,
        "risk_domains": ["cyber"],
        "access_modalities": ["hosted_api"],
        "release_notice_days": 14,
        "risk_consequence": "release_hold",
    } | overrides


def test_lead_creates_an_agreement_with_version_one(api, lead, company_a):
    response = api(lead).post(LIST, _create_body(company_a), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft" and body["current_version"] == 1
    assert Agreement.objects.get(reference=body["reference"]).created_by == lead


def test_create_with_bad_terms_answers_400_with_field_messages(api, lead, company_a):
    response = api(lead).post(
        LIST, _create_body(company_a, max_window_days=45, risk_domains=["weather"]), format="json"
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "max_window_days" in errors
    assert any(key.startswith("risk_domains") for key in errors)
    assert not Agreement.objects.exists()


def test_expiry_before_effective_is_a_field_error_from_the_service(api, lead, company_a):
    body = _create_body(company_a, effective_date="2027-01-01", expiry_date="2026-06-01")
    response = api(lead).post(LIST, body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["expiry_date"] == ["The expiry date must be after the effective date."]


@pytest.mark.parametrize("role", ["liaison_a", "evaluator"])
def test_only_negotiators_create(request, api, role, company_a):
    response = api(request.getfixturevalue(role)).post(LIST, _create_body(company_a), format="json")
    assert response.status_code == 403
    assert not Agreement.objects.exists()


def test_patching_terms_makes_a_new_version_that_compares(api, lead, company_a):
    client = api(lead)
    ref = client.post(LIST, _create_body(company_a), format="json").json()["reference"]
    response = client.patch(f"{LIST}{ref}/", {"max_window_days": 10, "note": "Shorter window"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["current_version"] == 2 and response.json()["max_window_days"] == 10
    versions = client.get(f"{LIST}{ref}/versions/").json()
    assert [v["number"] for v in versions] == [2, 1]
    assert versions[0]["changed_clauses"] == ["max_window_days"]
    diff = client.get(f"{LIST}{ref}/versions/compare/", {"from": 1, "to": 2}).json()
    assert [row["name"] for row in diff if row["changed"]] == ["max_window_days"]


@pytest.mark.parametrize(("role", "status"), [("liaison_a", 403), ("liaison_b", 404), ("evaluator", 404)])
def test_patching_terms_is_refused_to_others(request, api, role, status, company_a):
    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)
    response = api(request.getfixturevalue(role)).patch(
        f"{LIST}{agreement.reference}/", {"max_window_days": 5}, format="json"
    )
    assert response.status_code == status
    agreement.refresh_from_db()
    assert agreement.max_window_days == 30


def test_patching_terms_of_an_active_agreement_is_409(api, lead, agreement_a):
    response = api(lead).patch(f"{LIST}{agreement_a.reference}/", {"max_window_days": 5}, format="json")
    assert response.status_code == 409
    assert "draft or negotiating" in response.json()["detail"]


@pytest.mark.parametrize(
    ("role", "start", "transition", "expected", "end"),
    [
        ("lead", "draft", "open_negotiation", 200, "negotiating"),
        ("admin_user", "negotiating", "submit_for_signature", 200, "awaiting_signature"),
        ("lead", "awaiting_signature", "withdraw", 200, "withdrawn"),
        ("admin_user", "active", "terminate", 200, "terminated"),
        ("lead", "active", "terminate", 403, "active"),
        ("liaison_a", "draft", "open_negotiation", 403, "draft"),
        ("evaluator", "draft", "open_negotiation", 404, "draft"),
        ("liaison_b", "draft", "open_negotiation", 404, "draft"),
        ("lead", "active", "open_negotiation", 409, "active"),
        ("admin_user", "withdrawn", "withdraw", 409, "withdrawn"),
    ],
)
def test_transitions_by_role(request, api, company_a, role, start, transition, expected, end):
    agreement = AgreementFactory(organisation=company_a, status=start)
    response = api(request.getfixturevalue(role)).post(
        f"{LIST}{agreement.reference}/transition/",
        {"transition": transition, "reason": "Stated.", "signature_due": NEXT_WEEK},
        format="json",
    )
    assert response.status_code == expected, response.json()
    agreement.refresh_from_db()
    assert agreement.status == end
    if expected == 200:
        assert response.json()["status"] == end


def test_unknown_transition_is_a_field_error(api, lead, agreement_a):
    response = api(lead).post(f"{LIST}{agreement_a.reference}/transition/", {"transition": "sell"}, format="json")
    assert response.status_code == 400
    assert "transition" in response.json()["errors"]


def test_two_signatures_through_the_api_make_the_agreement_active(api, lead, liaison_a, company_a):
    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.AWAITING_SIGNATURE)
    url = f"{LIST}{agreement.reference}/sign/"
    first = api(liaison_a).post(url, {"signer_name": "Alex Alpha", "capacity": "CEO"}, format="json")
    assert first.status_code == 200 and first.json()["status"] == "awaiting_signature"
    again = api(liaison_a).post(url, {"signer_name": "Alex Alpha", "capacity": "CEO"}, format="json")
    assert again.status_code == 409
    second = api(lead).post(url, {"signer_name": "Lena Lead", "capacity": "Director"}, format="json")
    assert second.status_code == 200
    assert second.json()["status"] == "active"
    assert {s["side"] for s in second.json()["signatures"]} == {"centre", "company"}


def test_sign_without_capacity_is_400_naming_the_field(api, liaison_a, company_a):
    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.AWAITING_SIGNATURE)
    response = api(liaison_a).post(f"{LIST}{agreement.reference}/sign/", {"signer_name": "A"}, format="json")
    assert response.status_code == 400
    assert "capacity" in response.json()["errors"]


def test_liaison_adds_a_counter_proposal_and_both_sides_read_the_log(api, lead, liaison_a, company_a):
    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)
    proposal = NegotiationEntryFactory(agreement=agreement, author=lead)
    url = f"{LIST}{agreement.reference}/entries/"
    response = api(liaison_a).post(
        url,
        {
            "kind": "counter_proposal",
            "clause": "max_window_days",
            "text": "14 days",
            "responds_to": str(proposal.public_id),
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["author_side"] == "company"
    log = api(lead).get(url).json()
    assert [e["kind"] for e in log] == ["proposal", "counter_proposal"]
    assert log[1]["responds_to"] == str(proposal.public_id)


def test_entry_answering_another_companys_entry_is_400(api, liaison_a, company_a, company_b):
    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)
    foreign = NegotiationEntryFactory(agreement=AgreementFactory(organisation=company_b))
    response = api(liaison_a).post(
        f"{LIST}{agreement.reference}/entries/",
        {"kind": "counter_proposal", "text": "x", "responds_to": str(foreign.public_id)},
        format="json",
    )
    assert response.status_code == 400
    assert "responds_to" in response.json()["errors"]


def test_open_points_are_raised_listed_and_resolved(api, lead, liaison_a, company_a):
    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)
    url = f"{LIST}{agreement.reference}/open-points/"
    created = api(lead).post(
        url, {"title": "Retention", "owner": str(liaison_a.public_id), "due_date": NEXT_WEEK}, format="json"
    )
    assert created.status_code == 201, created.json()
    point_id = created.json()["id"]
    assert api(liaison_a).get(url).json()[0]["status"] == "open"
    resolved = api(liaison_a).post(f"{url}{point_id}/resolve/", {"resolution": "90 days."}, format="json")
    assert resolved.status_code == 200
    assert resolved.json()["status"] == "resolved"


def test_open_point_without_due_date_is_400(api, lead, liaison_a, company_a):
    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)
    response = api(lead).post(
        f"{LIST}{agreement.reference}/open-points/", {"title": "X", "owner": str(liaison_a.public_id)}, format="json"
    )
    assert response.status_code == 400
    assert "due_date" in response.json()["errors"]


def test_liaison_who_does_not_own_a_point_cannot_resolve_it(api, lead, liaison_a, company_a):
    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)
    point = OpenPointFactory(agreement=agreement, owner=lead)
    response = api(liaison_a).post(
        f"{LIST}{agreement.reference}/open-points/{point.public_id}/resolve/", {"resolution": "x"}, format="json"
    )
    assert response.status_code == 403
    point.refresh_from_db()
    assert point.is_open
