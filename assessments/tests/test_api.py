"""The REST API: scoped lists per role, 400s with field messages, 409s for illegal transitions, no credential leaks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from assessments.models import AccessTicket, CredentialReveal
from assessments.tests.conftest import SECRET
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _refs(response):
    assert response.status_code == 200, response.content
    return {row["reference"] for row in response.json()["results"]}


@pytest.mark.parametrize(
    "who, sees_a, sees_b",
    [
        ("admin_user", True, True),
        ("lead", True, False),
        ("lead2", False, True),
        ("evaluator", True, False),
        ("evaluator_other", False, True),
        ("liaison_a", True, False),
        ("liaison_b", False, True),
    ],
)
def test_lists_are_scoped_per_role(api, case, case_b, who, sees_a, sees_b, request):
    client = api(request.getfixturevalue(who))
    cases = _refs(client.get("/api/v1/assessments/"))
    assert (case.reference in cases, case_b.reference in cases) == (sees_a, sees_b)
    subs = _refs(client.get("/api/v1/submissions/"))
    if who.startswith("lead"):
        sees_a = sees_b = True  # leads see every submission, so they can open a case for a new one
    assert (case.submission.reference in subs, case_b.submission.reference in subs) == (sees_a, sees_b)


def test_internal_notes_only_for_centre_staff(api, case, evaluator, liaison_a):
    case.internal_notes = "Possible eval awareness."
    case.save()
    staff = api(evaluator).get(f"/api/v1/assessments/{case.reference}/").json()
    company = api(liaison_a).get(f"/api/v1/assessments/{case.reference}/").json()
    assert staff["internal_notes"] == "Possible eval awareness."
    assert "internal_notes" not in company
    assert all("internal_notes" not in row for row in api(liaison_a).get("/api/v1/assessments/").json()["results"])


def test_ticket_lifecycle_through_the_api(api, case, lead, evaluator, liaison_a):
    created = api(evaluator).post(
        "/api/v1/access-tickets/",
        {
            "assessment": case.reference,
            "kind": "hosted_api",
            "justification": "Cyber range.",
            "wanted_from": case.window_start.isoformat(),
            "wanted_to": case.window_end.isoformat(),
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    ref = created.json()["reference"]
    assert api(evaluator).post(f"/api/v1/access-tickets/{ref}/approve/", {}, format="json").status_code == 403
    assert api(lead).post(f"/api/v1/access-tickets/{ref}/approve/", {}, format="json").json()["status"] == "approved"
    provisioned = api(liaison_a).post(
        f"/api/v1/access-tickets/{ref}/provision/",
        {"endpoint": "https://api.a.test", "credential": SECRET, "instructions": "Bearer token."},
        format="json",
    )
    assert provisioned.status_code == 200 and provisioned.json()["has_credential"] is True
    assert SECRET not in provisioned.content.decode()
    for url in ("/api/v1/access-tickets/", f"/api/v1/access-tickets/{ref}/"):
        response = api(evaluator).get(url)
        assert response.status_code == 200 and ref in response.content.decode(), url
        assert SECRET not in response.content.decode()
    revealed = api(evaluator).post(f"/api/v1/access-tickets/{ref}/reveal/")
    assert revealed.status_code == 200 and revealed.json()["credential"] == SECRET
    assert "no-store" in revealed["Cache-Control"]
    assert CredentialReveal.objects.filter(ticket__reference=ref, revealed_by=evaluator).count() == 1
    assert AuditEvent.objects.filter(action="reveal", object_id=ref).count() == 1
    revoked = api(liaison_a).post(f"/api/v1/access-tickets/{ref}/revoke/", {"reason": "Rotated keys."}, format="json")
    assert revoked.json()["status"] == "revoked" and revoked.json()["end_reason"] == "Rotated keys."
    assert api(evaluator).post(f"/api/v1/access-tickets/{ref}/reveal/").status_code == 409


def test_validation_errors_are_400_with_field_messages(api, case, evaluator, liaison_a, agreement_a):
    bad_window = api(evaluator).post(
        "/api/v1/access-tickets/",
        {
            "assessment": case.reference,
            "kind": "hosted_api",
            "justification": "x",
            "wanted_from": case.window_start.isoformat(),
            "wanted_to": (case.window_end + timedelta(days=2)).isoformat(),
        },
        format="json",
    )
    assert bad_window.status_code == 400 and "wanted_to" in bad_window.json()["errors"]
    missing = api(liaison_a).post("/api/v1/submissions/", {"agreement": agreement_a.reference}, format="json")
    assert missing.status_code == 400 and {"model_name", "model_version", "modalities"} <= set(missing.json()["errors"])


def test_submission_under_inactive_agreement_is_400(api, liaison_a, company_a):
    from agreements.models import AgreementStatus
    from agreements.tests.factories import AgreementFactory

    draft = AgreementFactory(organisation=company_a, status=AgreementStatus.DRAFT)
    response = api(liaison_a).post(
        "/api/v1/submissions/",
        {"agreement": draft.reference, "model_name": "M", "model_version": "1", "modalities": ["text"]},
        format="json",
    )
    assert response.status_code == 400
    assert "active agreement" in response.json()["errors"]["agreement"][0]


def test_illegal_transitions_are_409(api, case, lead, evaluator):
    assert (
        api(lead).post(f"/api/v1/assessments/{case.reference}/advance/", {"to_status": "scheduled"}).status_code == 409
    )
    ticket = AccessTicket.objects.create(
        reference="TKT-TEST-0001",
        assessment=case,
        kind="hosted_api",
        justification="x",
        requested_by=evaluator,
        wanted_from=case.window_start,
        wanted_to=case.window_end,
    )
    api(lead).post(f"/api/v1/access-tickets/{ticket.reference}/approve/", {}, format="json")
    again = api(lead).post(f"/api/v1/access-tickets/{ticket.reference}/approve/", {}, format="json")
    assert again.status_code == 409 and "approved" in again.json()["detail"]


def test_transitions_by_role(api, case, lead, evaluator, liaison_a, liaison_b, evaluator_other):
    url = f"/api/v1/assessments/{case.reference}/advance/"
    assert api(liaison_b).post(url, {"to_status": "reporting"}).status_code == 404
    assert api(evaluator_other).post(url, {"to_status": "reporting"}).status_code == 404
    assert api(liaison_a).post(url, {"to_status": "reporting"}).status_code == 403
    assert api(evaluator).post(url, {"to_status": "reporting"}).status_code == 403
    assert api(lead).post(url, {"to_status": "reporting"}).json()["status"] == "reporting"
    close = f"/api/v1/assessments/{case.reference}/close/"
    assert api(lead).post(close, {"outcome": "no_concerns"}, format="json").status_code == 400
    done = api(lead).post(close, {"outcome": "no_concerns", "rationale": "Nothing material."}, format="json")
    assert done.json()["status"] == "completed"


def test_patch_refuses_a_window_over_the_agreement_cap(api, case, lead):
    agreement = case.submission.agreement
    agreement.max_window_days = 14
    agreement.save()
    response = api(lead).patch(
        f"/api/v1/assessments/{case.reference}/",
        {"window_end": (case.window_start + timedelta(days=15)).isoformat()},
        format="json",
    )
    assert response.status_code == 400 and "at most 14 days" in response.json()["errors"]["window_end"][0]
    ok = api(lead).patch(f"/api/v1/assessments/{case.reference}/", {"internal_notes": "Day 3."}, format="json")
    assert ok.status_code == 200 and ok.json()["internal_notes"] == "Day 3."
