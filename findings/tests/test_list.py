"""The findings list: what its search, filters and sorts find, as a user reads the page."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from findings import services
from findings.models import Finding, Severity
from findings.tests.factories import FindingFactory

pytestmark = pytest.mark.django_db


def _listed(client, query: str) -> list[str]:
    """The references the list shows for ``query``, in order."""
    response = client.get(reverse("findings:list") + "?" + query)
    assert response.status_code == 200
    return [f.reference for f in response.context["findings"]]


def _created(finding: Finding, days_ago: int) -> Finding:
    Finding.objects.filter(pk=finding.pk).update(created_at=timezone.now() - timedelta(days=days_ago))
    return finding


def test_search_by_reference_finds_that_finding_in_upper_or_lower_case(case, evaluator, client_for):
    wanted = FindingFactory(assessment=case, author=evaluator, title="Refusal bypass")
    FindingFactory(assessment=case, author=evaluator, title="Another bypass")
    client = client_for(evaluator)

    assert _listed(client, f"q={wanted.reference}") == [wanted.reference]
    assert _listed(client, f"q={wanted.reference.lower()}") == [wanted.reference]
    assert _listed(client, f"q=+{wanted.reference.lower()}+") == [wanted.reference]


def test_search_by_reference_is_exact_not_a_text_match(case, evaluator, client_for):
    wanted = FindingFactory(assessment=case, author=evaluator)
    FindingFactory(assessment=case, author=evaluator, title=f"Follow-up to {wanted.reference}")
    client = client_for(evaluator)

    assert _listed(client, f"q={wanted.reference}") == [wanted.reference]
    assert _listed(client, "q=FND-1999-0001") == []


def test_search_by_a_word_of_the_title_or_summary_in_any_case(case, evaluator, client_for):
    in_title = FindingFactory(assessment=case, author=evaluator, title="Jailbreak via translation", summary="Plain.")
    in_summary = FindingFactory(
        assessment=case, author=evaluator, title="Other", summary="A JAILBREAK that holds over many turns."
    )
    FindingFactory(assessment=case, author=evaluator, title="Unrelated", summary="Nothing to see.")
    client = client_for(evaluator)

    assert sorted(_listed(client, "q=jailbreak")) == sorted([in_title.reference, in_summary.reference])
    assert _listed(client, "q=translation") == [in_title.reference]


def test_a_search_finds_nothing_of_a_case_the_user_is_not_on(case, case_b, evaluator, evaluator_other, client_for):
    theirs = FindingFactory(assessment=case_b, author=evaluator_other, title="Jailbreak elsewhere")
    client = client_for(evaluator)

    assert _listed(client, f"q={theirs.reference}") == []
    assert _listed(client, "q=jailbreak") == []


def test_severity_sort_runs_critical_to_informational_newest_first_within_a_severity(case, evaluator, client_for):
    made = {}
    for days_ago, severity in enumerate(["low", "critical", "informational", "high", "medium", "high"]):
        finding = _created(FindingFactory(assessment=case, author=evaluator, severity=severity), days_ago)
        made.setdefault(severity, []).append(finding.reference)
    client = client_for(evaluator)

    expected = [
        *made["critical"],
        *made["high"],  # created 3 and 5 days ago: the newer first
        *made["medium"],
        *made["low"],
        *made["informational"],
    ]
    assert _listed(client, "sort=severity") == expected
    assert _listed(client, "") == expected  # the default sort


def test_severity_filter_and_sort_follow_an_edited_severity(case, evaluator, client_for):
    finding = FindingFactory(assessment=case, author=evaluator, severity=Severity.LOW)
    critical = _created(FindingFactory(assessment=case, author=evaluator, severity=Severity.CRITICAL), 1)
    services.finding_update(actor=evaluator, finding=finding, data={"severity": Severity.CRITICAL})
    client = client_for(evaluator)

    assert _listed(client, "severity=critical") == [finding.reference, critical.reference]
    assert _listed(client, "severity=low") == []


def test_assessment_filter_takes_the_case_reference_in_any_case(case, case_b, evaluator, lead2, client_for):
    ours = FindingFactory(assessment=case, author=evaluator)
    FindingFactory(assessment=case_b, author=lead2)
    client = client_for(evaluator)

    assert _listed(client, f"assessment={case.reference.lower()}") == [ours.reference]
    assert _listed(client, f"assessment={case_b.reference}") == []


def test_assessment_sort_groups_by_case_most_severe_first(case, case_b, evaluator, lead, client_for):
    case_b.team.add(evaluator)
    first, second = sorted([case, case_b], key=lambda a: a.reference)
    low = FindingFactory(assessment=first, author=lead, severity=Severity.LOW)
    critical = FindingFactory(assessment=first, author=lead, severity=Severity.CRITICAL)
    other = FindingFactory(assessment=second, author=lead, severity=Severity.CRITICAL)
    client = client_for(evaluator)

    assert _listed(client, "sort=assessment") == [critical.reference, low.reference, other.reference]
