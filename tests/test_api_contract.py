"""Cross-cutting API contract: one company, or one case team, never sees another's objects.

For every list endpoint registered on the /api/v1/ router when the test runs
(so endpoints added later are covered without touching this file), company
A's liaison, authenticated with a personal API token, pages through the whole
list and must find nothing of company B: none of the ids company B's liaison
sees (except the shared centre organisation), none of company B's names. Each
of company B's objects fetched directly by A is a 404 with the standard error
body. The world gives both companies one of everything: agreement, model
submission, assessment, access ticket, released finding, deadline and
notification. The same check runs for two evaluator teams: the evaluator on
case A sees none of case B's assessments, tickets, findings (drafts too),
deadlines or notifications, and each of them is a 404.
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
    from findings.tests.factories import recommendation_in, released_finding
    from reminders.models import Notification
    from reminders.tests.factories import make_deadline

    # Approved through the service: the company sees a ticket only once the centre approved it.
    ticket_approve(actor=lead, ticket=AccessTicketFactory(assessment=case))
    ticket_approve(actor=lead2, ticket=AccessTicketFactory(assessment=case_b, justification="Company B access"))
    finding_a = released_finding(assessment=case, author=evaluator, released_by=lead, title="Finding on A")
    finding_b = released_finding(
        assessment=case_b, author=evaluator_other, released_by=lead2, title="Company B finding"
    )
    recommendation_in(finding_a, "issued")
    recommendation_in(finding_b, "issued", text="Company B recommendation")
    due = timezone.now() + timezone.timedelta(days=5)
    make_deadline(due_at=due, recipients=[liaison_a], organisation=company_a, title="Company A response due")
    make_deadline(due_at=due, recipients=[liaison_b], organisation=company_b, title="Company B response due")
    Notification.objects.create(recipient=liaison_a, title="Reminder for Company A")
    Notification.objects.create(recipient=liaison_b, title="Reminder for Company B")
    from agreements.services.release_notices import release_notice_record

    for agreement, model in ((case.submission.agreement, "Alpha-Next"), (case_b.submission.agreement, "Beta-Next")):
        release_notice_record(
            actor=lead,
            agreement=agreement,
            model_name=model,
            planned_release_date=timezone.localdate() + timezone.timedelta(days=30),
            notice_given_on=timezone.localdate(),
        )


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


def _assert_isolated(client, route, *, viewer, other, shared: set[str], markers, who: str, must_see=True) -> None:
    """``viewer`` finds none of what only ``other`` sees on the route's list, and each of it is a 404.

    ``shared`` are ids both may legitimately see; ``markers`` are words only
    ``other``'s records carry. With ``must_see`` the check fails when ``other``
    sees nothing of its own there (it would prove nothing).
    """
    prefix, basename, viewset = route
    url = reverse(f"{basename}-list")
    rows_other, _ = _list_all(client, url, _bearer(other))
    headers = _bearer(viewer)
    rows_viewer, body = _list_all(client, url, headers)

    only_other = _ids(rows_other) - shared
    if must_see:
        assert only_other, f"/{prefix}/: the other side sees none of its own objects, so the check would prove nothing"
    leaked = _ids(rows_viewer) & only_other
    assert not leaked, f"/{prefix}/: {who} sees {sorted(leaked)}"
    for marker in markers:
        assert marker not in body, f"/{prefix}/: {who} sees {marker!r}"

    lookup = getattr(viewset, "lookup_url_kwarg", None) or getattr(viewset, "lookup_field", "pk")
    for row in rows_other:
        value = row.get(lookup) or row.get("id")
        if not value or str(value) in shared:
            continue
        try:
            detail = reverse(f"{basename}-detail", kwargs={lookup: value})
        except NoReverseMatch:
            break  # a list-only resource
        response = client.get(detail, **headers)
        assert response.status_code == 404, f"{detail} as {who}: {response.status_code}"
        assert response.json() == {"detail": "Not found.", "code": "not_found", "errors": {}}


# The centre's own records, which no company sees, its own case's included (their lists are empty for
# every liaison; the team check below covers them).
CENTRE_ONLY = ("evaluation-runs",)


@pytest.mark.parametrize("route", LIST_ROUTES, ids=[r[0] for r in LIST_ROUTES])
def test_liaison_never_sees_another_companys_objects(route, two_companies, client, liaison_a, liaison_b, centre):
    # Both companies see the centre, their counterpart.
    _assert_isolated(
        client,
        route,
        viewer=liaison_a,
        other=liaison_b,
        shared={str(centre.public_id)},
        markers=B_MARKERS,
        who="company A's liaison",
        must_see=route[0] not in CENTRE_ONLY,
    )


# Words that only case B's records carry, as its evaluator sees them.
TEAM_B_MARKERS = ("Beta-Frontier", "Company B finding", "Company B access", "Case B draft", "Case B team")
# The resources where case B's team must see something of its own, so the check proves something.
TEAM_RESOURCES = ("assessments", "access-tickets", "findings", "recommendations", "deadlines", "evaluation-runs")


@pytest.fixture
def two_teams(two_companies, case, case_b, evaluator, evaluator_other, company_a, company_b):
    """On top of both companies' records: what only each case's team sees (a draft, a deadline, a notice)."""
    from django.utils import timezone

    from findings.models import EvaluationRun
    from findings.tests.factories import FindingFactory, recommendation_in
    from reminders.models import Notification
    from reminders.tests.factories import make_deadline

    draft = FindingFactory(assessment=case_b, author=evaluator_other, title="Case B draft finding")
    recommendation_in(draft, text="Case B proposal")
    # An imported Inspect log on each case (the summary as an import writes it; no file needed to list it).
    for on_case, author, name in ((case_b, evaluator_other, "Case B team run.eval"), (case, evaluator, "A run.eval")):
        EvaluationRun.objects.create(
            assessment=on_case,
            original_name=name,
            content_type="application/zip",
            size=1,
            sha256=name.ljust(64, "0")[:64],
            uploaded_by=author,
            import_status="imported",
            task_name="refusal_probe",
            model="mockllm/model",
        )
    due = timezone.now() + timezone.timedelta(days=3)
    make_deadline(owner=case_b, due_at=due, recipients=[evaluator_other], title="Case B team: report due")
    make_deadline(due_at=due, recipients=[evaluator], title="Case A team: report due")
    Notification.objects.create(recipient=evaluator_other, title="Case B team reminder")
    Notification.objects.create(recipient=evaluator, title="Case A team reminder")


@pytest.mark.parametrize("route", LIST_ROUTES, ids=[r[0] for r in LIST_ROUTES])
def test_evaluator_never_sees_another_teams_objects(route, two_teams, client, evaluator, evaluator_other):
    from accounts.models import Organisation

    # Centre staff see the whole directory of organisations by design; nothing of the other case may show.
    directory = {str(public_id) for public_id in Organisation.objects.values_list("public_id", flat=True)}
    _assert_isolated(
        client,
        route,
        viewer=evaluator,
        other=evaluator_other,
        shared=directory,
        markers=TEAM_B_MARKERS,
        who="the evaluator on case A",
        must_see=route[0] in TEAM_RESOURCES,
    )


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
