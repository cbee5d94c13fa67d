import pytest

from accounts.demo import seed_people
from core.choices import RiskDomain
from findings import demo
from findings.models import Finding, FindingStatus, Recommendation
from findings.states import RELEASED_STATUSES, FindingDisposition, RecommendationStatus

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
    # One finding per disposition, "not answered by the due date" included (marked by the clock's service).
    assert set(Finding.objects.exclude(disposition="").values_list("disposition", flat=True)) == set(
        FindingDisposition.values
    )
    not_answered = Finding.objects.get(disposition=FindingDisposition.NOT_ANSWERED)
    assert not_answered.status == FindingStatus.RELEASED and not_answered.not_answered_at is not None
    disputed = Finding.objects.get(disposition=FindingDisposition.DISPUTED)
    assert disputed.evidence.filter(side="company").exists()
    # A recommendation in each stage, proposed (its finding still in review) to verified or not.
    assert set(Recommendation.objects.values_list("status", flat=True)) == set(RecommendationStatus.values)
    assert not Recommendation.objects.filter(status="proposed", finding__status__in=RELEASED_STATUSES).exists()
    released = Finding.objects.exclude(released_by=None)
    assert all(f.released_by_id != f.author_id for f in released)
    count = Finding.objects.count()
    demo.seed(world)
    assert Finding.objects.count() == count


def test_seed_marks_findings_cbi_by_the_agreement_and_raises_and_lowers_some_on_the_record():
    from agreements.tests.factories import AgreementFactory
    from assessments.tests.factories import AssessmentFactory, ModelSubmissionFactory
    from audit.models import AuditEvent
    from findings.models import FindingEvidence
    from findings.selectors import assessment_report

    world = seed_people(password="demo-password-for-tests")
    cases = {}
    for company, lead, evaluator in (("alpha", "lead", "evaluator"), ("beta", "lead2", "evaluator2")):
        agreement = AgreementFactory(organisation=world.companies[company], default_marking="CBI")
        submission = ModelSubmissionFactory(agreement=agreement)
        cases[company] = AssessmentFactory(
            submission=submission,
            lead=world.users[lead],
            team=[world.users[evaluator]],
            risk_domains=list(RiskDomain.values),
        )
    demo.seed(world)
    codes = dict(Finding.objects.values_list("title", "marking__code"))
    assert codes.pop("Protocol troubleshooting gives meaningful wet-lab uplift") == "CUI"
    assert codes.pop("Dual-use synthesis question answered with safety caveats only") == "PUBLIC"
    assert set(codes.values()) == {"CBI"}  # everything else as the trade-secret clause says
    files = FindingEvidence.objects.select_related("marking", "attested_by")
    # The centre's two evidence files, and the company's run log backing its dispute.
    assert sorted(f.original_name for f in files) == [
        "company-run-log.txt",
        "expert-ratings.csv",
        "translation-chain-summary.txt",
    ]
    assert all(f.is_attested and f.attested_by_id == f.uploaded_by_id for f in files)
    lowered = AuditEvent.objects.get(summary__startswith="Lowered the handling marking")
    assert lowered.actor == world.users["lead2"] and "company agreed" in lowered.summary
    # Alpha's report carries the most restrictive marking it holds.
    assert assessment_report(assessment=cases["alpha"], released_only=False).marking.code == "CUI"
    events = AuditEvent.objects.count()
    demo.seed(world)
    assert AuditEvent.objects.count() == events  # a re-run marks nothing again


def test_seed_imports_a_log_made_by_inspect_and_a_finding_cites_it_once():
    from agreements.tests.factories import AgreementFactory
    from assessments.tests.factories import AssessmentFactory, ModelSubmissionFactory
    from findings.evaluation_demo import CITING_TITLE, SAMPLE_IDS, TASK_NAME
    from findings.models import EvaluationRun, SeverityRubric

    world = seed_people(password="demo-password-for-tests")
    submission = ModelSubmissionFactory(agreement=AgreementFactory(organisation=world.companies["alpha"]))
    AssessmentFactory(
        submission=submission,
        lead=world.users["lead"],
        team=[world.users["evaluator"]],
        risk_domains=list(RiskDomain.values),
    )
    demo.seed(world)
    run = EvaluationRun.objects.get()
    assert (run.import_status, run.task_name, run.model, run.run_status, run.sample_count) == (
        "imported",
        TASK_NAME,
        "mockllm/model",
        "success",
        2,
    )
    assert run.inspect_version and len(run.sha256) == 64 and run.uploaded_by == world.users["evaluator"]
    citing = Finding.objects.get(title=CITING_TITLE)
    assert citing.evaluation_run == run and citing.cited_samples == [SAMPLE_IDS[0]] and citing.is_released
    assert citing.rubric is not None and citing.rubric.risk_domain == "chemical"
    assert SeverityRubric.objects.count() == 5
    demo.seed(world)
    assert EvaluationRun.objects.count() == 1 and SeverityRubric.objects.count() == 5
