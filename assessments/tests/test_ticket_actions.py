"""A ticket page offers only the actions that apply to the ticket's state, and the revoke page
says what revoking really does: a request is rejected (there is nothing to revoke), an approval
is withdrawn (no credential exists yet), live access ends and its credential is destroyed."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from assessments import services
from assessments.models import AccessTicket, TicketStatus
from assessments.tests.conftest import SECRET
from audit.models import AuditEvent
from core.errors import TransitionNotAllowed

pytestmark = pytest.mark.django_db

_ACTIONS = re.compile(r'<div class="portal-actions">(.*?)</div>', re.S)
_LABEL = re.compile(r"<(?:a|button)\b[^>]*>\s*([^<]+?)\s*</(?:a|button)>")


def _buttons(client, ticket) -> set[str]:
    response = client.get(ticket.get_absolute_url())
    assert response.status_code == 200
    block = _ACTIONS.search(response.content.decode())
    return set(_LABEL.findall(block.group(1))) if block else set()


def _intro(body: str) -> str:
    return re.search(r'<p class="usa-intro">(.*?)</p>', body, re.S).group(1)


def _revoke_url(ticket) -> str:
    return reverse("assessments:ticket_revoke", args=[ticket.reference])


@pytest.fixture
def documentation_live(case, evaluator, lead, liaison_a):
    """Documentation access: provisioned with an address and no credential at all."""
    ticket = services.ticket_request(
        actor=evaluator,
        assessment=case,
        kind="documentation",
        justification="Read the system card.",
        wanted_from=case.window_start,
        wanted_to=case.window_end,
    )
    ticket = services.ticket_approve(actor=lead, ticket=ticket)
    return services.ticket_provision(
        actor=liaison_a, ticket=ticket, endpoint="https://docs.a.test/card", credential="", instructions=""
    )


# --- The buttons, per state and role -----------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("lead", {"Approve", "Reject"}),
        ("admin_user", {"Approve", "Reject"}),
        ("evaluator", set()),  # the requester waits for the decision
    ],
)
def test_a_request_offers_approve_and_reject_and_never_revoke(client_for, request, requested, who, expected):
    assert _buttons(client_for(request.getfixturevalue(who)), requested) == expected


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("lead", {"Ask for an extension", "Revoke approval"}),
        ("evaluator", {"Ask for an extension", "Revoke approval"}),
        ("liaison_a", {"Provision access", "Revoke approval"}),
        ("admin_user", {"Revoke approval"}),
    ],
)
def test_an_approval_not_yet_provisioned_offers_to_revoke_the_approval(client_for, request, approved, who, expected):
    assert _buttons(client_for(request.getfixturevalue(who)), approved) == expected


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("evaluator", {"Reveal credential", "Ask for an extension", "Revoke access"}),
        ("lead", {"Reveal credential", "Ask for an extension", "Revoke access"}),
        ("liaison_a", {"Revoke access"}),
    ],
)
def test_live_access_offers_to_revoke_access(client_for, request, provisioned, who, expected):
    assert _buttons(client_for(request.getfixturevalue(who)), provisioned) == expected


@pytest.mark.parametrize("end", ["reject", "revoke"])
def test_an_ended_ticket_offers_nothing(client_for, request, lead, liaison_a, end):
    if end == "reject":
        ticket = services.ticket_reject(actor=lead, ticket=request.getfixturevalue("requested"), reason="Not needed.")
    else:
        ticket = services.ticket_revoke(actor=liaison_a, ticket=request.getfixturevalue("approved"), reason="Gone.")
    assert _buttons(client_for(lead), ticket) == set()


# --- The revoke page: refuses a request, and says what revoking does ---------------------


def test_revoke_page_refuses_a_request_and_points_to_reject(client_for, requested, lead):
    client = client_for(lead)

    shown = client.get(_revoke_url(requested), follow=True)
    posted = client.post(_revoke_url(requested), {"reason": "Not needed."}, follow=True)

    for response in (shown, posted):
        assert response.redirect_chain[-1][0] == requested.get_absolute_url()
        body = response.content.decode()
        assert "no access was granted, so there is nothing to revoke" in body
        assert "destroyed" not in body
    ticket = AccessTicket.objects.get(pk=requested.pk)
    assert (ticket.status, ticket.end_reason) == (TicketStatus.REQUESTED, "")
    assert not AuditEvent.objects.filter(object_id=ticket.reference, summary__startswith="Revoked").exists()


def test_the_service_and_the_api_refuse_to_revoke_a_request(client_for, requested, evaluator, lead):
    from rest_framework.test import APIClient

    with pytest.raises(TransitionNotAllowed, match="nothing to revoke"):
        services.ticket_revoke(actor=evaluator, ticket=requested, reason="Changed my mind.")
    api = APIClient()
    api.force_authenticate(lead)
    response = api.post(f"/api/v1/access-tickets/{requested.reference}/revoke/", {"reason": "x"}, format="json")
    assert response.status_code == 409
    assert "nothing to revoke" in response.json()["detail"]
    assert AccessTicket.objects.get(pk=requested.pk).status == TicketStatus.REQUESTED


def test_revoke_page_of_an_approval_says_no_credential_exists(client_for, approved, lead):
    response = client_for(lead).get(_revoke_url(approved))
    body = response.content.decode()
    assert response.status_code == 200
    assert _intro(body) == (
        "The approval is withdrawn: the company will not provide this access. "
        "No credential was given, so there is none to destroy. The ticket stays in the history with your reason."
    )
    assert "destroyed" not in body
    assert "Revoke approval" in body


def test_revoke_page_of_live_access_says_the_credential_is_destroyed(client_for, provisioned, liaison_a):
    client = client_for(liaison_a)
    body = client.get(_revoke_url(provisioned)).content.decode()
    assert _intro(body) == (
        "Access ends now and the stored credential is destroyed. The ticket stays in the history with your reason."
    )
    assert "Revoke access" in body

    client.post(_revoke_url(provisioned), {"reason": "Suspicious traffic."})
    ticket = AccessTicket.objects.get(pk=provisioned.pk)
    assert (ticket.status, ticket.has_credential) == (TicketStatus.REVOKED, False)
    assert SECRET not in ticket.credential_ciphertext


def test_revoke_page_of_access_without_a_credential_does_not_mention_one(client_for, documentation_live, lead):
    body = client_for(lead).get(_revoke_url(documentation_live)).content.decode()
    assert _intro(body) == "Access ends now. The ticket stays in the history with your reason."
