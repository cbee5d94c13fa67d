"""Helpers for the assessments tests: tickets moved through the real services."""

from __future__ import annotations

import pytest

from assessments import services
from assessments.tests.factories import AccessTicketFactory

SECRET = "sk-live-TOPSECRET-4242"


@pytest.fixture
def requested(case, evaluator):
    """A ticket ``evaluator`` asked for on ``case``."""
    return services.ticket_request(
        actor=evaluator,
        assessment=case,
        kind="hosted_api",
        justification="Probe cyber uplift through the hosted API.",
        wanted_from=case.window_start,
        wanted_to=case.window_end,
    )


@pytest.fixture
def approved(requested, lead):
    return services.ticket_approve(actor=lead, ticket=requested)


@pytest.fixture
def provisioned(approved, liaison_a):
    return services.ticket_provision(
        actor=liaison_a,
        ticket=approved,
        endpoint="https://api.a.test/v1",
        credential=SECRET,
        instructions="Use the header X-Api-Key.",
    )


@pytest.fixture
def ticket_b(case_b, evaluator_other):
    """Company B's requested ticket on case_b."""
    return AccessTicketFactory(assessment=case_b, requested_by=evaluator_other)
