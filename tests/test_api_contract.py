"""Cross-cutting API contract: one company never sees another company's objects.

For every list endpoint registered on the /api/v1/ router when the test runs
(so endpoints added later are covered without touching this file), company
A's liaison, authenticated with a personal API token, pages through the whole
list and must find nothing of company B: none of the ids company B's liaison
sees (except the shared centre organisation), none of company B's names. Each
of company B's objects fetched directly by A is a 404 with the standard error
body. The world gives both companies one of everything: agreement, model
submission, assessment, access ticket, released finding, deadline and
notification.
"""

from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, reverse

from accounts.services import api_token_create
from reviewportal.api_urls import router

# Words that only company B's records carry (fixtures and the world below).
B_MARKERS = ("Company B", "Beta-Frontier", "Agreement B", "liaison@b.test")
ID_KEYS = ("id", "reference", "public_id")
LIST_ROUTES = [(prefix, basename, viewset) for prefix, viewset, basename in router.registry]


@pytest.fixture
def two_companies(case, case_b, lead, lead2, evaluator, evaluator_other, liaison_a, liaison_b, company_a, company_b):
    """Company A's and company B's records of every kind, built with each app's factories."""
    from django.utils import timezone

    from assessments.services.tickets import ticket_approve
    from assessments.tests.factories import AccessTicketFactory
    from findings.tests.factories import released_finding
    from reminders.models import Notification
    from reminders.tests.factories import make_deadline

    # Approved through the service: the company sees a ticket only once the centre approved it.
    ticket_approve(actor=lead, ticket=AccessTicketFactory(assessment=case))
    ticket_approve(actor=lead2, ticket=AccessTicketFactory(assessment=case_b, justification="Company B access"))
    released_finding(assessment=case, author=evaluator, released_by=lead, title="Finding on A")
    released_finding(assessment=case_b, author=evaluator_other, released_by=lead2, title="Company B finding")
    due = timezone.now() + timezone.timedelta(days=5)
    make_deadline(due_at=due, recipients=[liaison_a], organisation=company_a, title="Company A response due")
    make_deadline(due_at=due, recipients=[liaison_b], organisation=company_b, title="Company B response due")
    Notification.objects.create(recipient=liaison_a, title="Reminder for Company A")
    Notification.objects.create(recipient=liaison_b, title="Reminder for Company B")


def _bearer(user) -> dict:
    _, token = api_token_create(actor=user, user=user, name="contract test", days=1)
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def _list_all(client, url: str, headers: dict) -> tuple[list[dict], str]:
    """Every row of a paginated list, and the raw bodies joined (for the marker check)."""
    rows, bodies, next_url = [], [], f"{url}?page_size=100"
    while next_url:
        response = client.get(next_url, **headers)
        assert response.status_code == 200, f"{url}: {response.status_code} {response.content[:300]!r}"
        bodies.append(response.content.decode())
        data = response.json()
        if isinstance(data, list):  # an unpaginated list
            rows.extend(data)
            break
        rows.extend(data["results"])
        next_url = data.get("next")
    return rows, "\n".join(bodies)


def _ids(rows: list[dict]) -> set[str]:
    return {str(row[key]) for row in rows for key in ID_KEYS if row.get(key)}


@pytest.mark.parametrize(("prefix", "basename", "viewset"), LIST_ROUTES, ids=[r[0] for r in LIST_ROUTES])
def test_liaison_never_sees_another_companys_objects(
    prefix, basename, viewset, two_companies, client, liaison_a, liaison_b, centre
):
    url = reverse(f"{basename}-list")
    rows_b, _ = _list_all(client, url, _bearer(liaison_b))
    headers_a = _bearer(liaison_a)
    rows_a, body_a = _list_all(client, url, headers_a)

    shared = {str(centre.public_id)}  # both companies see the centre, their counterpart
    b_only = _ids(rows_b) - shared
    assert b_only, f"/{prefix}/: company B's liaison sees none of its own objects, so the check would prove nothing"
    leaked = _ids(rows_a) & b_only
    assert not leaked, f"/{prefix}/: company A's liaison sees company B's {sorted(leaked)}"
    for marker in B_MARKERS:
        assert marker not in body_a, f"/{prefix}/: company A's liaison sees {marker!r}"

    lookup = getattr(viewset, "lookup_url_kwarg", None) or getattr(viewset, "lookup_field", "pk")
    for row in rows_b:
        value = row.get(lookup) or row.get("id")
        if not value or str(value) in shared:
            continue
        try:
            detail = reverse(f"{basename}-detail", kwargs={lookup: value})
        except NoReverseMatch:
            break  # a list-only resource
        response = client.get(detail, **headers_a)
        assert response.status_code == 404, f"{detail} as company A's liaison: {response.status_code}"
        assert response.json() == {"detail": "Not found.", "code": "not_found", "errors": {}}


CREDENTIAL = "sk-live-contract-test-4f1c9a"  # noqa: S105 - a test credential


def test_credential_appears_only_in_the_audited_reveal(case, lead, evaluator, liaison_a, admin_user, client):
    from assessments.services.tickets import ticket_approve, ticket_provision
    from assessments.tests.factories import AccessTicketFactory
    from audit.models import AuditEvent

    ticket = ticket_approve(actor=lead, ticket=AccessTicketFactory(assessment=case, requested_by=evaluator))
    ticket = ticket_provision(
        actor=liaison_a, ticket=ticket, endpoint="https://api.a.test/v1", credential=CREDENTIAL, instructions="Use it."
    )
    list_url = reverse("access-ticket-list")
    detail_url = reverse("access-ticket-detail", kwargs={"reference": ticket.reference})
    for user in (admin_user, lead, evaluator, liaison_a):
        headers = _bearer(user)
        for url in (list_url, detail_url, reverse("assessment-detail", kwargs={"reference": case.reference})):
            response = client.get(url, **headers)
            assert response.status_code == 200, url
            assert CREDENTIAL not in response.content.decode(), f"{url} shows the credential to {user.email}"

    assert not AuditEvent.objects.filter(action=AuditEvent.Action.REVEAL).exists()
    reveal_url = reverse("access-ticket-reveal", kwargs={"reference": ticket.reference})
    response = client.post(reveal_url, **_bearer(evaluator))
    assert response.status_code == 200
    assert response.json()["credential"] == CREDENTIAL
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    reveal = AuditEvent.objects.get(action=AuditEvent.Action.REVEAL)
    assert (reveal.actor, reveal.object_id) == (evaluator, ticket.reference)
    assert CREDENTIAL not in str(list(AuditEvent.objects.values_list("changes", "summary", "object_repr")))
