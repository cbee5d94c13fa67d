import pytest

from accounts.demo import seed_people
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
        AssessmentFactory(submission=submission, lead=world.users[lead], team=[world.users[evaluator]])
    demo.seed(world)
    assert set(Finding.objects.values_list("status", flat=True)) == set(FindingStatus.values)
    assert Finding.objects.values("risk_domain").distinct().count() == 6
    assert Finding.objects.values("severity").distinct().count() == 5
    released = Finding.objects.exclude(released_by=None)
    assert all(f.released_by_id != f.author_id for f in released)
    count = Finding.objects.count()
    demo.seed(world)
    assert Finding.objects.count() == count


def test_seed_imports_a_log_made_by_inspect_and_a_finding_cites_it_once():
    from agreements.tests.factories import AgreementFactory
    from assessments.tests.factories import AssessmentFactory, ModelSubmissionFactory
    from findings.evaluation_demo import CITING_TITLE, SAMPLE_IDS, TASK_NAME
    from findings.models import EvaluationRun, SeverityRubric

    world = seed_people(password="demo-password-for-tests")
    submission = ModelSubmissionFactory(agreement=AgreementFactory(organisation=world.companies["alpha"]))
    AssessmentFactory(submission=submission, lead=world.users["lead"], team=[world.users["evaluator"]])
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
