"""A Celery worker's memory and time while it builds the PDF of the longest report, as in production.

Starts one Celery worker (solo pool, the portal's production settings, Redis as broker and cache)
against a database made by ``bench/seed_scale.py``, asks for the full report of the Alpha AI case
with the most findings through the same service the page's "Build the PDF" button calls
(``findings.reports.report_request``, as the demo lead), and follows the job until the worker has
stored the file. It prints the worker's resident memory before and after, the time the build took,
and the PDF's size and pages. Earlier jobs of that case and kind are removed first, so the worker
builds the report rather than offering the last one.

    .venv/bin/python bench/report_memory.py --database-url postgres://postgres@127.0.0.1:5432/rp_scale_1

Needs Redis (``--redis-url``, default ``redis://127.0.0.1:6379/13``); the same database guard as
the other benchmarks applies.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess  # nosec B404
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from pages import ROLES, server_environment  # noqa: E402
from seed_scale import refuse_unless_scale_database  # noqa: E402


def rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=None, help="postgres://… (default: DATABASE_URL)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13", help="broker and cache of the run")
    parser.add_argument("--yes-i-mean-it", action="store_true", help="allow a database not named rp_scale*/scale*")
    parser.add_argument("--timeout", type=float, default=600, help="longest wait for the build, seconds")
    args = parser.parse_args()
    url = args.database_url or os.environ.get("DATABASE_URL", "")
    refuse_unless_scale_database(url, yes=args.yes_i_mean_it)
    env = {
        **server_environment(url, ROOT),
        "DJANGO_SETTINGS_MODULE": "reviewportal.settings",
        "REDIS_URL": args.redis_url,
        "CELERY_BROKER_URL": args.redis_url,
    }
    os.environ.update(env)

    import django

    django.setup()
    from django.db import transaction
    from django.db.models import Count

    from accounts.models import User
    from assessments.models import Assessment
    from findings.models import ReportJob, ReportJobStatus, ReportKind
    from findings.reports import report_request

    lead = User.objects.get(email=ROLES["lead"])
    big = (
        Assessment.objects.filter(lead=lead, submission__organisation__name="Alpha AI")
        .annotate(n=Count("findings"))
        .order_by("-n")
        .first()
    )
    if big is None:
        sys.exit("No Alpha AI case led by the demo lead: seed with bench/seed_scale.py.")
    ReportJob.objects.filter(assessment=big, kind=ReportKind.FULL).delete()

    log = tempfile.NamedTemporaryFile(prefix="bench-celery-", suffix=".log", delete=False)  # noqa: SIM115
    binary = Path(sys.executable).with_name("celery")
    # Fixed arguments, no shell.
    worker = subprocess.Popen(  # noqa: S603  # nosec B603
        [str(binary), "-A", "reviewportal", "worker", "--pool=solo", "--loglevel=WARNING", "--without-heartbeat"],
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        # The worker has imported the portal and connected once its memory stops growing.
        time.sleep(8)
        if worker.poll() is not None:
            sys.exit(f"the worker stopped at start; see {log.name}")
        before = rss_mib(worker.pid)
        with transaction.atomic():
            job = report_request(actor=lead, assessment=big, kind=ReportKind.FULL)
        asked = time.monotonic()
        peak = before
        while time.monotonic() - asked < args.timeout:
            job.refresh_from_db()
            peak = max(peak, rss_mib(worker.pid))
            if job.status in (ReportJobStatus.DONE, ReportJobStatus.FAILED):
                break
            time.sleep(0.5)
        took = time.monotonic() - asked
        after = rss_mib(worker.pid)
        print(f"case {big.reference}: {big.n:,} findings, full report")
        pdf = getattr(job, "pdf", None) if job.status == ReportJobStatus.DONE else None
        size = f"; the PDF is {pdf.size:,} bytes" if pdf is not None else ""
        print(f"job {job.pk}: {job.get_status_display().lower()} in {took:.1f} s{size}")
        print(f"worker memory: {before:.0f} MiB before, {after:.0f} MiB after (peak seen {peak:.0f} MiB)")
        if job.status != ReportJobStatus.DONE:
            sys.exit(f"the build did not finish; see {log.name}")
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
