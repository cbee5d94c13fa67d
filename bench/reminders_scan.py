"""Benchmark: the reminders scan costs what is due, not how many deadlines exist.

Seeds 10,000 and then 100,000 open deadlines, 500 of them due for a reminder
(each with one recipient), times ``reminders_scan`` at both sizes, and on
PostgreSQL prints EXPLAIN ANALYZE of the scan's queries. It builds and then
drops its own throw-away test database (never your development data), and
counts the deliveries it would enqueue instead of publishing them.

    DEBUG=1 .venv/bin/python bench/reminders_scan.py
    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/reviewportal .venv/bin/python bench/reminders_scan.py

Options: --due N (default 500), --sizes 10000,100000, --runs 5.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewportal.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--due", type=int, default=500)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))

    import django

    django.setup()
    from django.db import connection

    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    print(f"database: {connection.vendor} ({test_db})")
    try:
        run(sizes=sizes, due=args.due, runs=args.runs)
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)


def run(*, sizes: list[int], due: int, runs: int) -> None:
    from unittest import mock

    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from django.utils import timezone

    from accounts.models import Membership, Organisation, Role, User
    from reminders import services
    from reminders.models import Deadline, DeadlineKind, Reminder

    now = timezone.now()
    centre = Organisation.objects.create(name="Bench Centre", kind=Organisation.Kind.AGENCY)
    people = User.objects.bulk_create(
        [User(email=f"bench{i}@centre.example", full_name=f"Bench {i}") for i in range(50)]
    )
    Membership.objects.bulk_create([Membership(user=u, organisation=centre, role=Role.EVALUATOR) for u in people])
    owner_type = ContentType.objects.get_for_model(Organisation)
    through = Deadline.recipients.through
    created = 0

    def seed(count: int, *, due_now: int) -> None:
        nonlocal created
        rows = []
        for i in range(count):
            n = created + i
            if i < due_now:
                due_at = now + timedelta(days=2, minutes=n % 600)  # inside the 3-day stage: due for a reminder
            else:
                due_at = now + timedelta(days=30 + n % 365, minutes=n % 1440)  # far ahead
            rows.append(
                Deadline(
                    owner_type=owner_type,
                    owner_id=n + 1,
                    kind=DeadlineKind.WINDOW_END,
                    title=f"Bench deadline {n}",
                    due_at=due_at,
                    next_reminder_at=services.first_stage_time(due_at),
                )
            )
        for start in range(0, len(rows), 5000):
            batch = Deadline.objects.bulk_create(rows[start : start + 5000])
            through.objects.bulk_create(
                [
                    through(deadline_id=d.pk, user_id=people[(created + start + j) % len(people)].pk)
                    for j, d in enumerate(batch)
                ]
            )
        created += count
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE reminders_deadline; ANALYZE reminders_deadline_recipients;")

    due_ids: list[int] = []

    def measure(total: int) -> float:
        timings = []
        for _ in range(runs):
            # Re-arm the same due deadlines, so every run does the same work.
            Reminder.objects.all().delete()
            rearm = list(Deadline.objects.filter(pk__in=due_ids).only("id", "due_at"))
            for d in rearm:
                d.next_reminder_at = services.first_stage_time(d.due_at)
            Deadline.objects.bulk_update(rearm, ["next_reminder_at"], batch_size=1000)
            enqueued = []
            with mock.patch(
                "reminders.services.scan.enqueue_on_commit", side_effect=lambda task, *a, sink=enqueued: sink.append(a)
            ):
                started = time.perf_counter()
                result = services.reminders_scan(now=now)
                elapsed = time.perf_counter() - started
            assert result.deadlines == due and result.reminders_created == due, result
            assert len(enqueued) == due
            timings.append(elapsed)
        median = statistics.median(timings)
        print(
            f"total deadlines {total:>7,}  due {due}  scan median {median * 1000:7.1f} ms "
            f"(min {min(timings) * 1000:.1f}, max {max(timings) * 1000:.1f}, {runs} runs)  "
            f"-> {result.reminders_created} reminders created, {len(enqueued)} deliveries enqueued"
        )
        return median

    first = True
    results = {}
    for size in sizes:
        seed(size - created, due_now=due if first else 0)
        if first:
            due_ids.extend(Deadline.objects.filter(next_reminder_at__lte=now).values_list("pk", flat=True))
            first = False
        results[size] = measure(size)

    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        print(
            f"ratio scan({large:,}) / scan({small:,}) = {results[large] / results[small]:.2f} "
            f"for {large / small:.0f}x the deadlines"
        )

    if connection.vendor == "postgresql":
        Reminder.objects.all().delete()
        Deadline.objects.filter(pk__in=due_ids).update(next_reminder_at=now - timedelta(days=5))
        from django.db import transaction

        with transaction.atomic():
            print("\nEXPLAIN ANALYZE — the scan's read of the deadline table:")
            print(services.due_deadlines_query(now=now, batch_size=5000).explain(analyze=True))
        with mock.patch("reminders.services.scan.enqueue_on_commit"):
            services.reminders_scan(now=now)
        print("\nEXPLAIN ANALYZE — pending reminders to enqueue:")
        print(
            Reminder.objects.filter(status="pending")
            .order_by("send_at")
            .values_list("id", flat=True)[:5000]
            .explain(analyze=True)
        )


if __name__ == "__main__":
    main()
