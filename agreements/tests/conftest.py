"""Fixtures shared by the agreements tests."""

from __future__ import annotations

import datetime

import pytest

from agreements import services
from agreements.models import AgreementStatus
from agreements.tests.factories import AgreementFactory

SIGNATURE_DUE = datetime.date.today() + datetime.timedelta(days=7)


@pytest.fixture
def awaiting(company_a, lead, liaison_a):
    """Company A's agreement, sent for signature by ``lead`` (due in a week) once its liaison exists.

    The liaison is created first so that, as in real life, the signature deadline reaches both sides.
    """
    agreement = AgreementFactory(
        organisation=company_a,
        status=AgreementStatus.NEGOTIATING,
        created_by=lead,
        effective_date=None,
        expiry_date=None,
    )
    services.agreement_submit_for_signature(actor=lead, agreement=agreement, signature_due=SIGNATURE_DUE)
    agreement.refresh_from_db()
    return agreement
