"""Fixtures shared by every test: the people of the permission matrix.

centre admin, lead (leads ``case``), lead2 (a second lead, not on ``case``),
evaluator (on ``case``), evaluator_other (not on ``case``), liaison_a (company
A, which owns ``case``) and liaison_b (company B).
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

import pytest

from accounts.models import Organisation, Role


@pytest.fixture
def centre(db):
    from accounts.tests.factories import OrganisationFactory

    return OrganisationFactory(name="Test Centre", kind=Organisation.Kind.AGENCY, email_domains=["centre.test"])


@pytest.fixture
def company_a(db):
    from accounts.tests.factories import OrganisationFactory

    return OrganisationFactory(name="Company A", kind=Organisation.Kind.DEVELOPER, email_domains=["a.test"])


@pytest.fixture
def company_b(db):
    from accounts.tests.factories import OrganisationFactory

    return OrganisationFactory(name="Company B", kind=Organisation.Kind.DEVELOPER, email_domains=["b.test"])


def _person(email: str, role: str, organisation):
    from accounts.tests.factories import UserFactory

    return UserFactory(
        email=email, full_name=email.split("@")[0].replace(".", " ").title(), role=role, organisation=organisation
    )


@pytest.fixture
def admin_user(centre):
    return _person("admin@centre.test", Role.PROGRAMME_ADMIN, centre)


@pytest.fixture
def lead(centre):
    return _person("lead@centre.test", Role.LEAD_EVALUATOR, centre)


@pytest.fixture
def lead2(centre):
    return _person("lead2@centre.test", Role.LEAD_EVALUATOR, centre)


@pytest.fixture
def evaluator(centre):
    return _person("evaluator@centre.test", Role.EVALUATOR, centre)


@pytest.fixture
def evaluator_other(centre):
    return _person("evaluator.other@centre.test", Role.EVALUATOR, centre)


@pytest.fixture
def liaison_a(company_a):
    return _person("liaison@a.test", Role.LIAISON, company_a)


@pytest.fixture
def liaison_b(company_b):
    return _person("liaison@b.test", Role.LIAISON, company_b)


@pytest.fixture
def agreement_a(company_a):
    from agreements.tests.factories import AgreementFactory

    return AgreementFactory(organisation=company_a, title="Agreement A")


@pytest.fixture
def agreement_b(company_b):
    from agreements.tests.factories import AgreementFactory

    return AgreementFactory(organisation=company_b, title="Agreement B")


@pytest.fixture
def negotiation(company_a, lead):
    """An agreement with company A that ``lead`` is negotiating."""
    from agreements.models import AgreementStatus
    from agreements.tests.factories import AgreementFactory

    return AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING, created_by=lead)


@pytest.fixture
def case(agreement_a, lead, evaluator):
    """Company A's model under assessment, led by ``lead`` with ``evaluator`` on the team."""
    from assessments.tests.factories import AssessmentFactory, ModelSubmissionFactory

    submission = ModelSubmissionFactory(agreement=agreement_a, model_name="Alpha-Frontier", model_version="2.0")
    return AssessmentFactory(submission=submission, lead=lead, team=[evaluator])


@pytest.fixture
def case_b(agreement_b, lead2, evaluator_other):
    """Company B's model, led by ``lead2`` with ``evaluator_other`` on the team."""
    from assessments.tests.factories import AssessmentFactory, ModelSubmissionFactory

    submission = ModelSubmissionFactory(agreement=agreement_b, model_name="Beta-Frontier", model_version="1.0")
    return AssessmentFactory(submission=submission, lead=lead2, team=[evaluator_other])


@pytest.fixture
def client_for(client):
    """``client_for(user)`` returns the test client logged in as ``user``."""

    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def api():
    """``api(user)`` returns a DRF test client authenticated as ``user``."""
    from rest_framework.test import APIClient

    def as_user(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return as_user


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The real Redis of REDIS_URL. Skipped without it, unless REQUIRE_SERVICES=1 makes that a failure."""
    url = os.environ.get("REDIS_URL", "")
    required = os.environ.get("REQUIRE_SERVICES", "") == "1"
    if not url or not _reachable(url, 6379):
        message = f"Redis is not reachable at {url or '(REDIS_URL unset)'}"
        if required:
            pytest.fail(message + " and REQUIRE_SERVICES=1.")
        pytest.skip(message)
    return url


@pytest.fixture(scope="session")
def postgres_required(django_db_setup, django_db_blocker) -> None:
    """For tests of PostgreSQL-only behaviour. Skipped on SQLite unless REQUIRE_SERVICES=1."""
    from django.db import connection

    if connection.vendor != "postgresql":
        message = "This test needs PostgreSQL (set DATABASE_URL)"
        if os.environ.get("REQUIRE_SERVICES", "") == "1":
            pytest.fail(message + " and REQUIRE_SERVICES=1.")
        pytest.skip(message)


@pytest.fixture(scope="session", autouse=True)
def _flush_past_the_audit_truncate_trigger():
    """Let the test runner empty the audit table between transactional tests on PostgreSQL.

    A ``django_db(transaction=True)`` test ends with Django's flush, one TRUNCATE of every table,
    and the audit table refuses TRUNCATE (audit migration 0005). The test database's flush switches
    that one trigger off inside its own transaction, as the table's owner may; nothing else does.
    """
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = original(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        if not statements or "audit_auditevent" not in tables:
            return statements
        toggle = "ALTER TABLE audit_auditevent {} TRIGGER audit_event_no_truncate"
        return [toggle.format("DISABLE"), *statements, toggle.format("ENABLE")]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "sql_flush", sql_flush)
        yield


@pytest.fixture(autouse=True)
def _pages_rendered(monkeypatch):
    """Every test sees pages rendered, as on a first visit: what a page shows and the queries it costs
    are the render's, with or without Redis. Kept pages (core/page_cache.py) are tested in
    tests/test_page_cache.py, which turns them on, and across web nodes by deploy/rehearsal.py.

    Set on the settings themselves, not through pytest-django's ``settings`` (an override, whose
    settings no longer name their module, as a test that starts Django afresh needs)."""
    from django.conf import settings

    monkeypatch.setattr(settings, "PAGE_CACHE", False)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Every test starts with an empty cache: cached totals are keyed by ids a database reuses."""
    from django.core.cache import cache

    cache.clear()
