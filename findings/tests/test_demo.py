import pytest

from accounts.demo import seed_people
from core.choices import RiskDomain
from findings import demo
from findings.models import Finding, FindingStatus

pytestmark = pytest.mark.django_db


def test_seed_without_assessments_does_nothing():
    world = seed_people(password="demo-password-for-tests")
    demo.seed(world)
    assert not Finding.objects.exists()


def test_seed_records_findings_in_every_state_once():
    from agreements.tests.factories import AgreementFactory
    from assessments.tests.factories import AssessmentFactory, ModelSubmissionFactory

    world = seed_people(password="demo-password-for-tests")
    for company, lead, evaluator in (("alpha", "lead", "evaluator"), ("beta", "lead2", "evaluator2")):
        submission = ModelSubmissionFactory(agreement=AgreementFactory(organisation=world.companies[company]))
        # Cases open for every domain, since a finding's domain must lie within its case's.
        AssessmentFactory(
            submission=submission,
            lead=world.users[lead],
            team=[world.users[evaluator]],
            risk_domains=list(RiskDomain.values),
        )
    demo.seed(world)
    assert set(Finding.objects.values_list("status", flat=True)) == set(FindingStatus.values)
    assert Finding.objects.values("risk_domain").distinct().count() == 6
    assert Finding.objects.values("severity").distinct().count() == 5
    released = Finding.objects.exclude(released_by=None)
    assert all(f.released_by_id != f.author_id for f in released)
    count = Finding.objects.count()
    demo.seed(world)
    assert Finding.objects.count() == count
