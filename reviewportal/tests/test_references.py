"""Reference numbers: past any width, one counter row per prefix and year, and never twice.

The concurrency tests need PostgreSQL (two connections writing at once), like CI runs
them; on SQLite they are skipped unless REQUIRE_SERVICES=1 makes that a failure.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from accounts.tests.factories import OrganisationFactory
from agreements.models import Agreement
from agreements.tests.factories import AgreementFactory
from core.models import ReferenceCounter
from core.references import reference_number_next, save_with_reference
from findings.models import Finding
from findings.tests.factories import FindingFactory
from tests.waiting import wait_for

YEAR = timezone.now().year


def _set_reference(obj, reference: str) -> None:
    type(obj).objects.filter(pk=obj.pk).update(reference=reference)


@pytest.mark.django_db
def test_after_9999_comes_10000_then_10001(case, evaluator):
    # Findings made before the counter existed: the highest is read as a number, not as text.
    old = [FindingFactory(assessment=case, author=evaluator) for _ in range(2)]
    _set_reference(old[0], f"FND-{YEAR}-9998")
    _set_reference(old[1], f"FND-{YEAR}-9999")
    ReferenceCounter.objects.all().delete()

    first = FindingFactory(assessment=case, author=evaluator)
    second = FindingFactory(assessment=case, author=evaluator)

    assert (first.reference, second.reference) == (f"FND-{YEAR}-10000", f"FND-{YEAR}-10001")
    assert ReferenceCounter.objects.get(prefix="FND", year=YEAR).last_number == 10001


@pytest.mark.django_db
def test_the_counter_seeds_from_the_highest_number_not_the_last_in_text_order():
    for number in ("9999", "10000", "0042"):
        _set_reference(AgreementFactory(), f"AGR-{YEAR}-{number}")
    ReferenceCounter.objects.all().delete()

    assert AgreementFactory().reference == f"AGR-{YEAR}-10001"


@pytest.mark.django_db
def test_each_prefix_and_year_counts_on_its_own():
    ReferenceCounter.objects.create(prefix="TKT", year=YEAR, last_number=41)
    ReferenceCounter.objects.create(prefix="AGR", year=YEAR - 1, last_number=900)

    assert AgreementFactory().reference == f"AGR-{YEAR}-0001"
    assert AgreementFactory().reference == f"AGR-{YEAR}-0002"
    assert reference_number_next(model=Agreement, prefix="TKT", year=YEAR) == 42
    assert ReferenceCounter.objects.get(prefix="AGR", year=YEAR - 1).last_number == 900


@pytest.mark.django_db
def test_the_next_number_costs_one_query_whatever_the_number_of_references(django_assert_num_queries):
    for _ in range(5):
        AgreementFactory()
    with django_assert_num_queries(1):
        assert reference_number_next(model=Agreement, prefix="AGR", year=YEAR) == 6


@pytest.mark.django_db
def test_a_rolled_back_creation_gives_its_number_back_and_nothing_is_given_twice():
    kept = AgreementFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        lost = AgreementFactory()
        assert lost.reference == f"AGR-{YEAR}-0002"
        raise RuntimeError("the rest of the creation failed")
    again = AgreementFactory()

    # No gap: the number of the rolled-back row is the next one given.
    assert [kept.reference, again.reference] == [f"AGR-{YEAR}-0001", f"AGR-{YEAR}-0002"]
    assert Agreement.objects.filter(reference=f"AGR-{YEAR}-0002").count() == 1


@pytest.mark.django_db
def test_a_number_already_held_by_a_row_written_past_the_counter_is_skipped():
    AgreementFactory()
    _set_reference(AgreementFactory(), f"AGR-{YEAR}-0003")  # as an import might leave it: counter at 2, row at 3
    ReferenceCounter.objects.filter(prefix="AGR", year=YEAR).update(last_number=2)

    made = AgreementFactory()

    assert made.reference == f"AGR-{YEAR}-0004"
    references = list(Agreement.objects.values_list("reference", flat=True))
    assert len(references) == len(set(references)) == 3


@pytest.mark.django_db
def test_the_data_migration_seeds_counters_from_stored_references(case, evaluator):
    from importlib import import_module

    from django.apps import apps

    seed = import_module("core.migrations.0002_seed_reference_counters").seed_counters
    _set_reference(FindingFactory(assessment=case, author=evaluator), f"FND-{YEAR}-10000")
    _set_reference(FindingFactory(assessment=case, author=evaluator), f"FND-{YEAR}-9999")
    _set_reference(AgreementFactory(), f"AGR-{YEAR - 1}-0007")
    ReferenceCounter.objects.all().delete()

    seed(apps, None)

    counters = {(c.prefix, c.year): c.last_number for c in ReferenceCounter.objects.all()}
    assert counters[("FND", YEAR)] == 10000
    assert counters[("AGR", YEAR - 1)] == 7
    assert Finding.objects.filter(reference=f"FND-{YEAR}-10000").exists()


# --- Two transactions at once, on PostgreSQL -------------------------------------------


def _another_transaction_waits_for_mine() -> bool:
    """True when another connection is waiting for a lock this connection's transaction holds."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE NOT granted AND pid <> pg_backend_pid()"
            " AND pg_backend_pid() = ANY(pg_blocking_pids(pid)))"
        )
        return cursor.fetchone()[0]


def _create_in_two_transactions_at_once(organisation) -> tuple[list[str], list[BaseException]]:
    """Two threads, each on its own connection, open a transaction, meet at a barrier, then both
    create an agreement; the first to take a number keeps its transaction open until the other
    is waiting for it, so the second allocation really happens against an uncommitted number."""
    barrier = threading.Barrier(2, timeout=10)
    references: list[str] = []
    errors: list[BaseException] = []
    ended: list[str] = []  # the threads whose transaction is over, committed or not
    lock = threading.Lock()

    def create() -> None:
        try:
            try:
                with transaction.atomic():
                    barrier.wait()
                    agreement = save_with_reference(AgreementFactory.build(organisation=organisation), "AGR")
                    wait_for(
                        lambda: _another_transaction_waits_for_mine() or len(ended) == 1,
                        what="the other transaction to wait for the number this one holds (or to end)",
                        timeout=10,
                    )
            finally:
                with lock:
                    ended.append(threading.current_thread().name)
            with lock:
                references.append(agreement.reference)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread, which fails on it
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return references, errors


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("counter_exists", [True, False], ids=["counter-exists", "first-use"])
def test_two_transactions_at_once_get_different_numbers_and_both_commit(postgres_required, counter_exists):
    organisation = OrganisationFactory()
    _set_reference(AgreementFactory(organisation=organisation), f"AGR-{YEAR}-0041")
    if counter_exists:
        ReferenceCounter.objects.filter(prefix="AGR", year=YEAR).update(last_number=41)
    else:
        ReferenceCounter.objects.all().delete()  # both threads seed the counter at the same time

    references, errors = _create_in_two_transactions_at_once(organisation)

    assert errors == []
    assert sorted(references) == [f"AGR-{YEAR}-0042", f"AGR-{YEAR}-0043"]
    assert set(Agreement.objects.values_list("reference", flat=True)) == {
        f"AGR-{YEAR}-0041",
        f"AGR-{YEAR}-0042",
        f"AGR-{YEAR}-0043",
    }
    assert ReferenceCounter.objects.get(prefix="AGR", year=YEAR).last_number == 43
