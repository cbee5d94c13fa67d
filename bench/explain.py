"""Every key page's queries at programme scale, and the query plan of the slowest one.

Loads each page of ``bench/pages.py`` once as its role, in this process, against a database seeded
by ``bench/seed_scale.py`` (it refuses any other unless told ``--yes-i-mean-it``), and prints the
number of queries, their total time, and ``EXPLAIN (ANALYZE, BUFFERS)`` of the slowest. Each page
is loaded twice and the second load measured, so caches are warm as in production.

    .venv/bin/python bench/explain.py --database-url postgres://postgres@127.0.0.1:5432/rp_scale_1
    .venv/bin/python bench/explain.py --database-url … --only 'admin findings' --plan-lines 40
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from pages import PAGES, ROLES, prepare_database  # noqa: E402
from seed_scale import refuse_unless_scale_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=None, help="postgres://… (default: DATABASE_URL)")
    parser.add_argument("--yes-i-mean-it", action="store_true", help="allow a database not named rp_scale*/scale*")
    parser.add_argument("--only", default="", help="only rows whose 'role page path' matches this regex")
    parser.add_argument("--plan-lines", type=int, default=14, help="lines of each plan to print (default 14)")
    args = parser.parse_args()
    url = args.database_url or os.environ.get("DATABASE_URL", "")
    refuse_unless_scale_database(url, yes=args.yes_i_mean_it)
    os.environ.update(
        {
            "DATABASE_URL": url,
            "DEBUG": "1",
            "DJANGO_SETTINGS_MODULE": "reviewportal.settings",
            "REQUIRE_2FA": "1",
            "LOG_LEVEL": "ERROR",
        }
    )
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import User

    settings.ALLOWED_HOSTS = ["*"]
    targets, sizes = prepare_database()
    print("sizes:", ", ".join(f"{k} {v:,}" for k, v in sizes.items()))
    clients: dict[str, Client] = {}
    for role, email in ROLES.items():
        client = Client()
        user = User.objects.get(email=email)
        client.force_login(user, backend=settings.AUTHENTICATION_BACKENDS[-1])
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.filter(user=user).first().persistent_id
        session.save()
        clients[role] = client
    pattern = re.compile(args.only) if args.only else None
    for role, page, path, marker in PAGES:
        path = path.format(**targets)
        if pattern and not pattern.search(f"{role} {page} {path}"):
            continue
        client = clients[role]
        client.get(path)
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        elapsed = time.perf_counter() - started
        if response.status_code != 200 or marker.format(**targets).encode() not in response.content:
            print(f"\n## {role} · {page} ({path}): answered {response.status_code} without its marker")
            continue
        timed = [(float(q["time"]), q["sql"]) for q in queries.captured_queries]
        total = sum(t for t, _ in timed)
        print(f"\n## {role} · {page} ({path}): {len(timed)} queries, {1000 * total:.1f} ms in SQL,", end=" ")
        print(f"{1000 * elapsed:.0f} ms in all")
        selects = [(t, sql) for t, sql in timed if sql.lstrip().upper().startswith(("SELECT", "WITH"))]
        if not selects:
            continue
        slowest_time, slowest = max(selects)
        print(f"slowest ({1000 * slowest_time:.1f} ms): {slowest[:300]}{'…' if len(slowest) > 300 else ''}")
        with connection.cursor() as cursor:
            # The statement is one the page itself just ran, read back from the connection.
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest)  # nosec B608
            plan = [row[0] for row in cursor.fetchall()]
        shown = plan[: args.plan_lines] + [line for line in plan[args.plan_lines :] if "Execution Time" in line]
        print("\n".join("    " + line for line in shown))


if __name__ == "__main__":
    main()
