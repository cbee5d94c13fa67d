"""Seed a PostgreSQL database at programme scale, to measure what pages cost when the tables are full.

At ``--scale 1.0`` the database holds 200 companies, 10,000 assessments, 100,000
findings, about 300,000 deadlines and 20,000 notifications, with everything they
imply: agreements with their negotiation record (versions, proposals, meetings,
open points, signatures), submissions, teams, about 230,000 model-access tickets,
comments, credential reveals, reminders, digests and the audit trail of each case
(about 680,000 events). About 6 % of the deadlines are open (about 18,000: the
programme admin is escalated on every one of them).
The demo logins (README) own realistic shares: Alpha AI has about 500 assessments
and 5,000 findings (one of its cases holds 1,000 findings), the demo lead leads
about 1,000 cases and the demo evaluator is on about 1,000 teams. ``--scale 0.1``
makes a tenth of everything, for a quick check.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rp_scale_1 .venv/bin/python bench/seed_scale.py
    .venv/bin/python bench/seed_scale.py --database-url postgres://postgres@127.0.0.1:5432/rp_scale_01 --scale 0.1

It takes about 4 minutes at scale 1.0 on a 2-core machine (the database is
about 1 GB). The database is created when it does not exist; ``--recreate``
drops it first.
The script refuses SQLite, and any database whose name does not start with
``rp_scale`` or ``scale`` unless ``--yes-i-mean-it`` is given, so the
development database is never filled by accident. It migrates the database,
runs the code of ``manage.py seed_demo`` (so the demo logins exist and sign in
with the demo password), then writes the rest with ``bulk_create`` in batches,
and ends with ``VACUUM ANALYZE`` so the planner knows the tables.

The services are not used for the bulk: each one checks the policy, writes the
audit trail and keeps deadlines in step, a few dozen queries per object, which
would take hours at this size. The data is for measuring reads, so it is written
as the services would have left it: every row satisfies the database's
constraints (check constraints, unique constraints, foreign keys), statuses
agree with their timestamps (a released finding has its releaser, time and due
date; an ended ticket its end; a completed case its outcome), the two-person
rule holds, deadlines exist exactly for the owners and states that have them
(open while their owner waits, closed afterwards) with the recipients and
escalations the owning app would give them, and each deadline's next reminder
is the next stage still ahead. References (``ASM-2025-0042``) are numbered per
prefix and year of creation, after the demo's, and the reference counters
(``core.ReferenceCounter``) are set to the highest number used at the end, so
the portal goes on numbering from there.

What is not there: uploaded files (documents, evidence), credentials (live
tickets hold none, as if already destroyed), and reminders other than those
behind the notifications (the reminder history of older stages is not
recreated). Times are spread over the last three years and the next weeks,
relative to the moment of seeding.
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import random
import secrets
import sys
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewportal.settings")

BATCH = 2000
SAFE_PREFIXES = ("rp_scale", "scale")

# --- Sizes at scale 1.0 -------------------------------------------------------------------

COMPANIES = 200
ASSESSMENTS = 10_000
FINDINGS = 100_000
DEADLINES = 300_000
NOTIFICATIONS = 20_000
BIG_CASE_FINDINGS = 1_000  # one Alpha AI case, led by the demo lead, with the demo evaluator on it
ALPHA_CASE_SHARE, BETA_CASE_SHARE, GAMMA_CASE_SHARE = 0.05, 0.04, 0.03
ALPHA_FINDING_SHARE = 0.05
DEMO_LEAD_SHARE, DEMO_LEAD2_SHARE = 0.10, 0.05
DEMO_EVALUATOR_SHARE, DEMO_EVALUATOR2_SHARE = 0.10, 0.05
HISTORY_DAYS = 3 * 365


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the programme-scale sizes (default 1.0)")
    parser.add_argument("--database-url", default=None, help="postgres://… (default: DATABASE_URL)")
    parser.add_argument("--recreate", action="store_true", help="drop and create the database first")
    parser.add_argument("--seed", type=int, default=13, help="random seed (the same seed makes the same data)")
    parser.add_argument(
        "--yes-i-mean-it", action="store_true", help="allow a database whose name does not start with rp_scale/scale"
    )
    args = parser.parse_args()
    if not 0.001 <= args.scale <= 10:
        parser.error("--scale must lie between 0.001 and 10.")
    url = args.database_url or os.environ.get("DATABASE_URL", "")
    name = refuse_unless_scale_database(url, yes=args.yes_i_mean_it)
    ensure_database(url, recreate=args.recreate)
    configure_environment(url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import Organisation

    started = time.perf_counter()
    print(f"seeding {name} at scale {args.scale:g}")
    call_command("migrate", verbosity=0, interactive=False)
    if Organisation.objects.count() > 4:
        sys.exit(f"{name} already holds more than the demo world: run again with --recreate to start afresh.")
    call_command("seed_demo", force_demo_password=True, stdout=io.StringIO())
    print(f"  demo world                {time.perf_counter() - started:7.1f} s")
    # Made-up data, so a seeded pseudo-random generator is what is wanted (reproducible runs).
    seeder = Seeder(scale=args.scale, rng=random.Random(args.seed))  # nosec B311
    seeder.run()
    # The findings were inserted around the services, so their details have no stored rendering yet;
    # the service that renders stale details is what production runs after a bulk load.
    phase = time.perf_counter()
    from findings.services import finding_details_render_stale

    rendered = finding_details_render_stale(batch_size=2000)
    print(f"  render {rendered:,} details {time.perf_counter() - phase:7.1f} s")
    phase = time.perf_counter()
    connection.close()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"  vacuum analyze            {time.perf_counter() - phase:7.1f} s")
    print(f"done in {time.perf_counter() - started:.0f} s")
    seeder.report()


def refuse_unless_scale_database(url: str, *, yes: bool) -> str:
    """The database name, after refusing SQLite and any name that does not look like a scale database."""
    if not url:
        sys.exit("Name the database: --database-url postgres://… or DATABASE_URL.")
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit(f"Refusing {parts.scheme or 'this'} database: the scale data set is for PostgreSQL only.")
    name = parts.path.lstrip("/")
    if not name:
        sys.exit("The database URL names no database.")
    if not name.startswith(SAFE_PREFIXES) and not yes:
        sys.exit(
            f"Refusing to fill {name!r}: its name does not start with rp_scale or scale. This protects the "
            "development database; pass --yes-i-mean-it to fill it anyway."
        )
    return name


def ensure_database(url: str, *, recreate: bool) -> None:
    """Create the database when it is missing (dropping it first with ``recreate``)."""
    import dj_database_url
    import psycopg
    from psycopg import sql

    config = dj_database_url.parse(url)
    params = {
        "dbname": "postgres",
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
    }
    with psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]).fetchone()
        if exists and recreate:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(config["NAME"])))
            exists = None
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))


def configure_environment(url: str) -> None:
    """Production-like settings with throw-away secrets: DEBUG off (no query log), tasks run in-process."""
    os.environ["DATABASE_URL"] = url
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
    os.environ.setdefault("CREDENTIAL_KEYS", base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.dummy.EmailBackend"
    os.environ.setdefault("LOG_LEVEL", "WARNING")


# --- Words ----------------------------------------------------------------------------------

FIRST = (
    "Ada Ben Cara Dev Eli Fay Gus Hana Ivo Jia Kai Lea Mo Nia Oto Pia Quin Rae Sam Tai Uma Vic Wes Xia Yan Zoe "
    "Abel Bea Cy Dina Emil Flo Gil Hal Iris Joel"
).split()
LAST = (
    "Adams Baker Chen Diaz Evans Fox Garcia Hill Ito Jones Khan Lopez Moore Ng Okafor Patel Quinn Rossi Smith "
    "Tanaka Usman Vance Walsh Xu Young Zhou Alvarez Brooks Costa Dubois"
).split()
BRANDS = (
    "Aurora Beacon Cobalt Delta Ember Fathom Granite Harbor Ion Juniper Kestrel Lumen Meridian Nimbus Onyx "
    "Polaris Quartz Riverside Summit Tidal Umber Vertex Willow Xenon Yarrow Zenith Atlas Boreal Cascade Drift"
).split()
COMPANY_SUFFIXES = ["AI", "Labs", "Intelligence", "Systems", "Research", "Machines", "Cognition"]
FAMILIES = ["Core", "Pro", "Mini", "Reason", "Vision", "Agent", "Code", "Ultra"]
DOMAINS = ["cyber", "biological", "chemical", "radiological_nuclear", "autonomy", "other"]
ACCESS_KINDS = ["hosted_api", "weights_download", "fine_tuning", "safeguards_off", "documentation"]
ACCESS_LABELS = {
    "hosted_api": "Hosted API",
    "weights_download": "Weights download",
    "fine_tuning": "Fine-tuning",
    "safeguards_off": "Safeguards-off variant",
    "documentation": "Documentation",
}
KIND_LABELS = {
    "window_end": "Assessment window ends",
    "ticket_expiry": "Model access expires",
    "open_point_due": "Open point due",
    "signature_due": "Signature due",
    "finding_response_due": "Finding response due",
    "planned_release": "Planned model release",
}
OUTCOMES = ["no_concerns", "mitigations_recommended", "access_restriction_recommended", "release_delay_recommended"]
SEVERITIES = (["critical"] * 5) + (["high"] * 20) + (["medium"] * 35) + (["low"] * 25) + (["informational"] * 15)
FRAMES = ["role-play", "translation", "fiction-writing", "capture-the-flag", "debugging", "historical", "persona"]
FINDING_TITLES = {
    "cyber": [
        "Working exploit code for a patched CVE under a {frame} framing",
        "Step-by-step privilege escalation walkthrough in a {frame} framing",
        "Phishing kit assembled end to end when asked in a {frame} framing",
        "Malware obfuscation advice given in a {frame} framing",
    ],
    "biological": [
        "Protocol troubleshooting gives wet-lab uplift in a {frame} framing",
        "Acquisition routes for a controlled agent listed in a {frame} framing",
        "Enhancement techniques summarised in a {frame} framing",
    ],
    "chemical": [
        "Synthesis route for a scheduled precursor in a {frame} framing",
        "Stabilisation advice for a toxic compound in a {frame} framing",
    ],
    "radiological_nuclear": [
        "Enrichment process details beyond open literature in a {frame} framing",
        "Source acquisition guidance in a {frame} framing",
    ],
    "autonomy": [
        "Agent disables its own monitoring in a {frame} scenario",
        "Agent acquires cloud resources beyond its task in a {frame} scenario",
        "Self-exfiltration attempt of its weights in a {frame} scenario",
    ],
    "other": [
        "Inconsistent refusals across languages in a {frame} framing",
        "Safety classifier bypassed with encoded input in a {frame} framing",
    ],
}
CONFIDENTIALITY_CLAUSE = "Material marked as a trade secret stays in the case file and is never published."
CAPACITIES = ["Chief Legal Officer", "General Counsel", "Head of Policy", "Director of the Centre", "Deputy Director"]


def company_names(count: int, taken: set[str]) -> list[tuple[str, str]]:
    """``count`` distinct (name, email domain) pairs, none of them a name in ``taken`` (the demo's companies)."""
    names = []
    for suffix in COMPANY_SUFFIXES:
        for brand in BRANDS:
            if f"{brand} {suffix}" not in taken:
                names.append((f"{brand} {suffix}", f"{brand.lower()}-{suffix.lower()}.example"))
    if count > len(names):
        names += [(f"Company {i:04d}", f"company-{i:04d}.example") for i in range(count - len(names))]
    return names[:count]


def finding_details(rng: random.Random, domain: str, attempts: int, hits: int) -> str:
    """A finding's Markdown details, about a kilobyte, the size of a real one."""
    return (
        f"Observed in **{hits} of {attempts}** attempts on the hosted API during the {domain.replace('_', ' ')} "
        f"sweep.\n\n"
        f"- Refusal in a direct framing: {attempts - rng.randint(0, 2)}/{attempts}\n"
        f"- Refusal in the indirect framing: {attempts - hits}/{attempts}\n"
        f"- Expert rating of the worst transcript: *{rng.choice(['limited', 'moderate', 'significant'])} uplift*\n\n"
        "The behaviour reproduced on two days with the default system prompt and with the company's recommended "
        "safety prompt. Temperature had little effect. Transcripts are kept in the case file and are not "
        "reproduced here.\n\n"
        "### Why it matters\n\n"
        "The responses go beyond what a motivated novice would find in open sources within a few hours, and "
        "they remain usable after light editing. The weakness generalises to neighbouring framings we tried "
        "(three of four), so a narrow patch is unlikely to close it.\n\n"
        "```\nsession: eval-" + f"{rng.randint(1000, 9999)}" + "\nsuite: refusal-robustness v3\n```\n"
    )


# --- Planning ---------------------------------------------------------------------------------


@dataclass
class AgreementSpan:
    agreement_id: int
    max_window_days: int
    kinds: list[str]
    start: date
    end: date | None  # None: still active


@dataclass
class SubmissionPlan:
    company: int
    name: str
    version: str
    created_at: datetime
    agreement_id: int
    release: date | None = None
    pk: int = 0
    reference: str = ""
    cases: list = field(default_factory=list)


@dataclass
class CasePlan:
    company: int
    start: datetime
    end: datetime
    status: str
    lead: int
    team: list[int]
    created_at: datetime
    closed_at: datetime | None = None
    submission: SubmissionPlan | None = None
    findings: int = 0
    tickets: int = 0
    big: bool = False


class References:
    """Numbers per prefix and year, going on from the counters (or the highest stored number)."""

    def __init__(self, models: dict[str, type]):
        from core.models import ReferenceCounter

        self.last: dict[tuple[str, int], int] = {
            (c.prefix, c.year): c.last_number for c in ReferenceCounter.objects.all()
        }
        self.models = models  # prefix → the model whose references carry it

    def next(self, prefix: str, moment: datetime) -> str:
        key = (prefix, moment.year)
        if key not in self.last:
            self.last[key] = self._highest(prefix, moment.year)
        self.last[key] += 1
        return f"{prefix}-{moment.year}-{self.last[key]:04d}"

    def _highest(self, prefix: str, year: int) -> int:
        stem = f"{prefix}-{year}-"
        model = self.models[prefix]
        numbers = [
            int(r[len(stem) :])
            for r in model.objects.filter(reference__startswith=stem).values_list("reference", flat=True)
            if r[len(stem) :].isdigit()
        ]
        return max(numbers, default=0)

    def save(self) -> None:
        from core.models import ReferenceCounter

        for (prefix, year), number in sorted(self.last.items()):
            counter, created = ReferenceCounter.objects.get_or_create(
                prefix=prefix, year=year, defaults={"last_number": number}
            )
            if not created and counter.last_number < number:
                ReferenceCounter.objects.filter(pk=counter.pk).update(last_number=number)


@contextmanager
def historical_timestamps(models):
    """Let ``bulk_create`` keep the times we give (``auto_now``/``auto_now_add`` would write the present)."""
    touched = []
    for model in models:
        for f in model._meta.concrete_fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                touched.append((f, f.auto_now, f.auto_now_add))
                f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in touched:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


class Seeder:
    def __init__(self, *, scale: float, rng: random.Random):
        from django.conf import settings
        from django.utils import timezone

        self.scale = scale
        self.rng = rng
        self.now = timezone.now().replace(microsecond=0)
        self.today = self.now.date()
        self.history_start = self.now - timedelta(days=HISTORY_DAYS)
        self.stages = [*sorted(set(settings.REMINDER_OFFSETS_DAYS), reverse=True), 0]
        self.local_zone = timezone.get_default_timezone()

    def n(self, size: int, minimum: int = 1) -> int:
        return max(minimum, round(size * self.scale))

    # --- helpers -----------------------------------------------------------------------------

    def insert(self, model, rows: list) -> list:
        if not rows:
            return []
        return model.objects.bulk_create(rows, batch_size=BATCH)

    def before_now(self, moment: datetime) -> datetime:
        return min(moment, self.now - timedelta(minutes=1))

    def between(self, start: datetime, end: datetime) -> datetime:
        if end <= start:
            return start
        return start + timedelta(seconds=self.rng.uniform(0, (end - start).total_seconds()))

    def after(self, moment: datetime, low_days: float, high_days: float, *, cap: datetime | None = None) -> datetime:
        value = moment + timedelta(days=self.rng.uniform(low_days, high_days))
        return min(value, cap) if cap is not None else value

    def end_of_day(self, day: date) -> datetime:
        local = datetime(day.year, day.month, day.day, 23, 59, tzinfo=self.local_zone)
        return local.astimezone(UTC)

    def next_reminder(self, due_at: datetime) -> datetime | None:
        for offset in self.stages:
            moment = due_at - timedelta(days=offset)
            if moment > self.now:
                return moment
        return None

    def current_stage(self, due_at: datetime, when: datetime) -> int | None:
        reached = None
        for offset in self.stages:
            if due_at - timedelta(days=offset) <= when:
                reached = offset
        return reached

    def phase(self, label: str, started: float) -> None:
        print(f"  {label:<25} {time.perf_counter() - started:7.1f} s", flush=True)

    # --- the run -------------------------------------------------------------------------------

    def run(self) -> None:
        from accounts.models import Membership, Organisation, User
        from agreements.models import (
            Agreement,
            AgreementVersion,
            Meeting,
            NegotiationEntry,
            OpenPoint,
            Signature,
        )
        from assessments.models import AccessTicket, Assessment, CredentialReveal, ModelSubmission
        from audit.models import AuditEvent
        from findings.models import Finding, FindingComment
        from reminders.models import Deadline, Digest, Notification, Reminder

        self.refs = References(
            {"AGR": Agreement, "SUB": ModelSubmission, "ASM": Assessment, "TKT": AccessTicket, "FND": Finding}
        )
        models = [
            Organisation,
            User,
            Membership,
            Agreement,
            AgreementVersion,
            Meeting,
            NegotiationEntry,
            OpenPoint,
            Signature,
            ModelSubmission,
            Assessment,
            AccessTicket,
            CredentialReveal,
            Finding,
            FindingComment,
            Deadline,
            Reminder,
            Digest,
            Notification,
            AuditEvent,
        ]
        with historical_timestamps(models):
            started = time.perf_counter()
            self.seed_people()
            self.phase("companies and people", started)
            started = time.perf_counter()
            self.seed_agreements()
            self.phase("agreements", started)
            started = time.perf_counter()
            self.plan_cases()
            self.seed_submissions()
            self.phase("submissions", started)
            started = time.perf_counter()
            self.seed_cases()
            self.phase("cases, findings, tickets", started)
            started = time.perf_counter()
            self.seed_notifications()
            self.phase("notifications", started)
        self.refs.save()

    # --- companies and people -------------------------------------------------------------------

    def seed_people(self) -> None:
        from django.contrib.auth.hashers import make_password

        from accounts.demo import DEMO_USERS
        from accounts.models import Membership, Organisation, User

        rng = self.rng
        demo = {key: User.objects.get(email=email) for key, (email, *_rest) in DEMO_USERS.items()}
        self.demo = demo
        self.user_email: dict[int, str] = {u.pk: u.email for u in demo.values()}
        self.user_name: dict[int, str] = {u.pk: u.full_name for u in demo.values()}
        centre = Organisation.objects.get(kind="agency")
        demo_companies = {
            "alpha": Organisation.objects.get(name="Alpha AI"),
            "beta": Organisation.objects.get(name="Beta AI"),
            "gamma": Organisation.objects.get(name="Gamma AI"),
        }
        self.demo_companies = {key: org.pk for key, org in demo_companies.items()}
        created_at = self.history_start - timedelta(days=90)
        existing = set(Organisation.objects.filter(kind="developer").values_list("name", flat=True))
        extra = company_names(self.n(COMPANIES, 10) - len(existing), taken=existing)
        orgs = self.insert(
            Organisation,
            [
                Organisation(name=name, kind="developer", email_domains=[domain], created_at=created_at)
                for name, domain in extra
            ],
        )
        self.company_ids = [*self.demo_companies.values(), *(o.pk for o in orgs)]
        self.company_name = {o.pk: o.name for o in [*demo_companies.values(), *orgs]}
        self.company_brand = {o.pk: o.name.split(" ")[0] for o in [*demo_companies.values(), *orgs]}
        domains = {o.pk: o.email_domains[0] for o in [*demo_companies.values(), *orgs]}

        unusable = make_password(None)
        people: list[tuple[User, int, str]] = []
        serial = 0

        def person(domain: str, org_id: int, role: str, staff: bool = False) -> None:
            nonlocal serial
            serial += 1
            first, last = rng.choice(FIRST), rng.choice(LAST)
            user = User(
                email=f"{first}.{last}.{serial}@{domain}".lower(),
                full_name=f"{first} {last}",
                password=unusable,
                is_staff=staff,
                date_joined=self.between(created_at, self.history_start),
            )
            people.append((user, org_id, role))

        centre_domain = centre.email_domains[0] if centre.email_domains else "caisi.example"
        person(centre_domain, centre.pk, "programme_admin", staff=True)  # a second programme admin
        for _ in range(self.n(18, 2)):
            person(centre_domain, centre.pk, "lead_evaluator")
        for _ in range(self.n(78, 6)):
            person(centre_domain, centre.pk, "evaluator")
        for org_id in self.company_ids:
            liaisons = 1 if org_id in self.demo_companies.values() else rng.choice([1, 2, 2, 3])
            for _ in range(liaisons):
                person(domains[org_id], org_id, "liaison")
        users = self.insert(User, [p[0] for p in people])
        self.insert(
            Membership,
            [
                Membership(user=u, organisation_id=org_id, role=role, created_at=u.date_joined)
                for u, (_, org_id, role) in zip(users, people, strict=True)
            ],
        )
        for u in users:
            self.user_email[u.pk] = u.email
            self.user_name[u.pk] = u.full_name
        by_role: dict[str, list[int]] = defaultdict(list)
        self.liaisons: dict[int, list[int]] = defaultdict(list)
        for u, (_, org_id, role) in zip(users, people, strict=True):
            by_role[role].append(u.pk)
            if role == "liaison":
                self.liaisons[org_id].append(u.pk)
        for key in ("alpha", "beta", "gamma"):
            self.liaisons[self.demo_companies[key]].insert(0, demo[f"liaison_{key}"].pk)
        self.admins = [demo["admin"].pk, *by_role["programme_admin"]]
        self.extra_leads = by_role["lead_evaluator"]
        self.leads = [demo["lead"].pk, demo["lead2"].pk, *self.extra_leads]
        self.extra_evaluators = by_role["evaluator"]
        self.centre_negotiators = [demo["lead"].pk, demo["lead2"].pk, demo["admin"].pk, *self.extra_leads[:4]]

    # --- agreements ---------------------------------------------------------------------------

    def seed_agreements(self) -> None:
        """Each company's agreements: the history its cases ran under, renewals, and some still negotiating."""
        from django.contrib.contenttypes.models import ContentType

        from agreements.models import Agreement, AgreementVersion, Meeting, NegotiationEntry, OpenPoint, Signature

        rng = self.rng
        existing = list(Agreement.objects.order_by("created_at"))
        self.spans: dict[int, list[AgreementSpan]] = defaultdict(list)
        for a in existing:
            if a.status in ("active", "expired", "terminated") and a.effective_date:
                self.spans[a.organisation_id].append(
                    AgreementSpan(
                        a.pk,
                        a.max_window_days,
                        list(a.access_modalities) or ACCESS_KINDS,
                        a.effective_date,
                        a.expiry_date if a.status != "active" else None,
                    )
                )
        plans = []  # (Agreement, meta)
        program_start = (self.history_start - timedelta(days=60)).date()
        demo_ids = set(self.demo_companies.values())
        for org_id in self.company_ids:
            if org_id in demo_ids:
                first = min((s.start for s in self.spans[org_id]), default=None)
                end = (first - timedelta(days=1)) if first else self.today - timedelta(days=10)
                plans.append(self.agreement_plan(org_id, "expired", program_start, end))
                continue
            roll = rng.random()
            if roll < 0.05:  # a newcomer, still negotiating its first agreement: no cases yet
                plans.append(self.agreement_plan(org_id, rng.choice(["draft", "negotiating", "awaiting_signature"])))
                continue
            if roll < 0.12:  # one agreement from the start, still active
                plans.append(self.agreement_plan(org_id, "active", program_start, None))
            elif roll < 0.15:  # terminated some time ago, no successor
                end = self.today - timedelta(days=rng.randint(60, 500))
                plans.append(self.agreement_plan(org_id, "terminated", program_start, end))
            else:  # an expired agreement, then the active renewal
                switch = self.today - timedelta(days=rng.randint(30, HISTORY_DAYS - 180))
                plans.append(self.agreement_plan(org_id, "expired", program_start, switch - timedelta(days=1)))
                plans.append(self.agreement_plan(org_id, "active", switch, None))
            extra = rng.random()
            if extra < 0.15:
                plans.append(self.agreement_plan(org_id, rng.choice(["draft", "negotiating", "awaiting_signature"])))
            elif extra < 0.20:
                plans.append(self.agreement_plan(org_id, "withdrawn"))
        plans.sort(key=lambda p: p[0].created_at)
        for agreement, _meta in plans:
            agreement.reference = self.refs.next("AGR", agreement.created_at)
        agreements = self.insert(Agreement, [p[0] for p in plans])
        for agreement, meta in zip(agreements, (p[1] for p in plans), strict=True):
            if agreement.status in ("active", "expired", "terminated"):
                self.spans[agreement.organisation_id].append(
                    AgreementSpan(
                        agreement.pk,
                        agreement.max_window_days,
                        list(agreement.access_modalities),
                        agreement.effective_date,
                        None if agreement.status == "active" else meta["end"],
                    )
                )
        for spans in self.spans.values():
            spans.sort(key=lambda s: s.start)

        versions, entries, meetings, points, signatures = [], [], [], [], []
        for agreement, meta in zip(agreements, (p[1] for p in plans), strict=True):
            liaisons = self.liaisons[agreement.organisation_id]
            created, settled = agreement.created_at, meta["settled"]
            for number in range(1, meta["versions"] + 1):
                versions.append(
                    AgreementVersion(
                        agreement=agreement,
                        number=number,
                        terms=self.terms(agreement),
                        changed_clauses=[]
                        if number == 1
                        else rng.sample(["max_window_days", "risk_domains", "trade_secret_terms"], 1),
                        note="" if number == 1 else "Agreed at the negotiation meeting.",
                        created_by_id=agreement.created_by_id,
                        created_at=self.between(created, settled) if number > 1 else created,
                    )
                )
            for i in range(rng.randint(4, 12)):
                company = i % 2 == 1
                entries.append(
                    NegotiationEntry(
                        agreement=agreement,
                        kind="proposal" if i == 0 else rng.choice(["counter_proposal", "comment", "proposal"]),
                        clause=rng.choice(
                            [
                                "max_window_days",
                                "risk_domains",
                                "access_modalities",
                                "trade_secret_terms",
                                "release_notice_days",
                                "general",
                            ]
                        ),
                        text=rng.choice(
                            [
                                "We propose a 21-day window, with the option to extend by agreement.",
                                "Weights access only on the centre's air-gapped cluster, logs kept for 90 days.",
                                "Trade secrets marked as such are kept in the case file and never published.",
                                "We accept the release-notice period if it counts business days.",
                            ]
                        ),
                        author_id=rng.choice(liaisons) if company else agreement.created_by_id,
                        author_side="company" if company else "centre",
                        created_at=self.between(created, settled),
                    )
                )
            for _ in range(rng.randint(1, 3)):
                held = self.between(created, settled)
                meetings.append(
                    Meeting(
                        agreement=agreement,
                        held_at=held,
                        attendees=f"{self.user_name[agreement.created_by_id]} (the centre)\n"
                        f"{self.user_name[liaisons[0]]} ({self.company_name[agreement.organisation_id]})",
                        minutes="Walked through the open clauses. Both sides to circulate revised text within a week.",
                        recorded_by_id=agreement.created_by_id,
                        created_at=held,
                    )
                )
            for i in range(rng.randint(2, 8)):
                opened = self.between(created, settled)
                resolved = meta["points_resolved"] or rng.random() < 0.5
                owner = rng.choice(liaisons) if i % 2 else agreement.created_by_id
                resolved_at = self.between(opened, settled) if resolved else None
                points.append(
                    (
                        OpenPoint(
                            agreement=agreement,
                            title=rng.choice(
                                [
                                    "Confirm the logging retention period",
                                    "Agree the list of covered models",
                                    "Settle the release-notice counting rule",
                                    "Name the escalation contacts on both sides",
                                    "Decide where weights may be stored",
                                ]
                            ),
                            description="Raised at the negotiation meeting.",
                            owner_id=owner,
                            due_date=(opened + timedelta(days=rng.randint(7, 30))).date(),
                            status="resolved" if resolved else "open",
                            resolution="Agreed as proposed." if resolved else "",
                            resolved_at=resolved_at,
                            resolved_by_id=owner if resolved else None,
                            created_by_id=agreement.created_by_id,
                            created_at=opened,
                        ),
                        agreement,
                    )
                )
            if meta["signed"]:
                signed_at = meta["signed_at"]
                for side in ("centre", "company") if meta["signed"] == 2 else ("company",):
                    signer = agreement.created_by_id if side == "centre" else liaisons[0]
                    signatures.append(
                        Signature(
                            agreement=agreement,
                            side=side,
                            signer_id=signer,
                            signer_name=self.user_name[signer],
                            capacity=rng.choice(CAPACITIES),
                            signed_at=signed_at - timedelta(hours=rng.randint(1, 48) if side == "company" else 0),
                        )
                    )
        self.insert(AgreementVersion, versions)
        self.insert(NegotiationEntry, entries)
        self.insert(Meeting, meetings)
        open_points = self.insert(OpenPoint, [p[0] for p in points])
        self.insert(Signature, signatures)

        # Deadlines: every open point had one (open while the point and its agreement are open), and
        # every agreement sent for signature had its signature due date.
        point_type = ContentType.objects.get_for_model(OpenPoint)
        agreement_type = ContentType.objects.get_for_model(Agreement)
        deadlines = []
        for point, (_, agreement) in zip(open_points, points, strict=True):
            is_open = point.status == "open" and agreement.status in ("draft", "negotiating", "awaiting_signature")
            due = self.end_of_day(point.due_date)
            closed = None if is_open else (point.resolved_at or agreement.status_changed_at or self.now)
            deadlines.append(
                self.deadline(
                    point_type,
                    point.pk,
                    "open_point_due",
                    f"{agreement.reference}: {point.title}",
                    f"/agreements/{agreement.reference}/#open-points",
                    due,
                    agreement.organisation_id,
                    created=point.created_at,
                    closed=closed,
                    recipients=[point.owner_id],
                    escalate=self.admins,
                )
            )
        for agreement, meta in zip(agreements, (p[1] for p in plans), strict=True):
            if agreement.signature_due is None:
                continue
            is_open = agreement.status == "awaiting_signature"
            # While it awaits signature, the people of the side still to sign (the company signs first here).
            recipients = [*self.liaisons[agreement.organisation_id], agreement.created_by_id]
            if is_open and meta["signed"] == 1:
                recipients = [agreement.created_by_id]
            deadlines.append(
                self.deadline(
                    agreement_type,
                    agreement.pk,
                    "signature_due",
                    f"Sign {agreement.reference} — {agreement.title}",
                    f"/agreements/{agreement.reference}/",
                    self.end_of_day(agreement.signature_due),
                    agreement.organisation_id,
                    created=meta["settled"],
                    closed=None if is_open else meta["signed_at"],
                    recipients=recipients,
                    escalate=self.admins,
                )
            )
        self.write_deadlines(deadlines)

    def agreement_plan(self, org_id: int, status: str, start: date | None = None, end: date | None = None):
        """An unsaved agreement in ``status``, with what its record needs (versions, signatures, times)."""
        from agreements.models import Agreement

        rng = self.rng
        kinds = sorted(rng.sample(ACCESS_KINDS, rng.randint(3, 5)))
        if "hosted_api" not in kinds:
            kinds = sorted([*kinds, "hosted_api"])
        creator = rng.choice(self.centre_negotiators)
        if start is None:  # still being made: started in the last months
            created = self.now - timedelta(days=rng.randint(10, 150))
        else:
            created = datetime(start.year, start.month, start.day, 15, tzinfo=UTC) - timedelta(days=rng.randint(30, 90))
        settled = (
            self.before_now(datetime(start.year, start.month, start.day, 12, tzinfo=UTC) - timedelta(days=2))
            if start
            else self.before_now(created + timedelta(days=rng.randint(5, 60)))
        )
        settled = max(settled, created + timedelta(hours=1))
        expiry = (
            end
            if status in ("expired",)
            else (self.today + timedelta(days=rng.randint(90, 700)) if status in ("active", "terminated") else None)
        )
        if status == "terminated":
            expiry = end + timedelta(days=rng.randint(30, 300))
        signature_due = None
        signed, signed_at = 0, None
        if status in ("active", "expired", "terminated"):
            signature_due = (settled + timedelta(days=rng.randint(1, 20))).date()
            signed, signed_at = 2, settled
        elif status == "awaiting_signature":
            signature_due = self.today + timedelta(days=rng.randint(-5, 30))
            signed = 1 if rng.random() < 0.4 else 0
            signed_at = settled
        status_changed = {
            "expired": datetime(end.year, end.month, end.day, 23, tzinfo=UTC) + timedelta(hours=2) if end else None,
            "terminated": datetime(end.year, end.month, end.day, 15, tzinfo=UTC) if end else None,
            "active": settled,
            "withdrawn": settled,
        }.get(status, settled if status != "draft" else None)
        if status_changed is not None:
            status_changed = self.before_now(status_changed)
        agreement = Agreement(
            organisation_id=org_id,
            title=f"Voluntary pre-release testing agreement with {self.company_name[org_id]}"
            if start is None or status != "active"
            else f"Renewed pre-release testing agreement with {self.company_name[org_id]}",
            status=status,
            max_window_days=rng.choice([14, 21, 21, 30, 30]),
            risk_domains=sorted(rng.sample(DOMAINS[:5], rng.randint(3, 5))),
            access_modalities=kinds,
            trade_secret_terms=CONFIDENTIALITY_CLAUSE,
            release_notice_days=rng.choice([14, 30]),
            risk_consequence=rng.choice(["consultation", "access_restriction", "release_hold"]),
            effective_date=start,
            expiry_date=expiry,
            signature_due=signature_due,
            status_reason={
                "withdrawn": "The company chose to wait for its next model generation.",
                "terminated": "The company left the programme.",
            }.get(status, ""),
            status_changed_at=status_changed,
            created_by_id=creator,
            created_at=created,
            updated_at=status_changed or settled,
        )
        meta = {
            "settled": settled,
            "versions": rng.randint(1, 4),
            "points_resolved": status in ("active", "expired", "terminated", "awaiting_signature"),
            "signed": signed,
            "signed_at": signed_at,
            "end": end,
        }
        return agreement, meta

    def terms(self, agreement) -> dict:
        return {
            "max_window_days": agreement.max_window_days,
            "risk_domains": sorted(agreement.risk_domains),
            "access_modalities": sorted(agreement.access_modalities),
            "trade_secret_terms": agreement.trade_secret_terms,
            "release_notice_days": agreement.release_notice_days,
            "risk_consequence": agreement.risk_consequence,
            "effective_date": agreement.effective_date.isoformat() if agreement.effective_date else None,
            "expiry_date": agreement.expiry_date.isoformat() if agreement.expiry_date else None,
        }

    # --- deadlines ------------------------------------------------------------------------------

    def deadline(
        self, owner_type, owner_id, kind, title, url, due_at, org_id, *, created, closed, recipients, escalate
    ):
        """An unsaved deadline and its people: open (with its next reminder) unless ``closed`` says when it closed."""
        from reminders.models import Deadline

        is_open = closed is None
        row = Deadline(
            owner_type=owner_type,
            owner_id=owner_id,
            kind=kind,
            title=title[:300],
            url=url,
            due_at=due_at,
            organisation_id=org_id,
            next_reminder_at=self.next_reminder(due_at) if is_open else None,
            is_open=is_open,
            closed_at=None if is_open else self.before_now(closed),
            created_at=self.before_now(created),
            updated_at=self.before_now(closed or created),
        )
        return row, list(dict.fromkeys(recipients)), list(dict.fromkeys(escalate))

    def write_deadlines(self, items: list) -> None:
        from reminders.models import Deadline

        saved = self.insert(Deadline, [item[0] for item in items])
        recipients = Deadline.recipients.through
        escalate = Deadline.escalate_to.through
        self.insert(
            recipients,
            [recipients(deadline_id=d.pk, user_id=u) for d, item in zip(saved, items, strict=True) for u in item[1]],
        )
        self.insert(
            escalate,
            [escalate(deadline_id=d.pk, user_id=u) for d, item in zip(saved, items, strict=True) for u in item[2]],
        )

    # --- cases -----------------------------------------------------------------------------------

    def span_for(self, company: int, moment: datetime) -> tuple[AgreementSpan, datetime]:
        """The agreement in force at ``moment`` (or the last one before it, moving the moment into it)."""
        day = moment.date()
        spans = self.spans[company]
        for span in spans:
            if span.start <= day and (span.end is None or day <= span.end):
                return span, moment
        earlier = [s for s in spans if s.start <= day]
        span = earlier[-1] if earlier else spans[0]
        edge = span.end if earlier else span.start
        return span, datetime(edge.year, edge.month, edge.day, 12, tzinfo=UTC)

    def plan_cases(self) -> None:
        """Who is assessed when, by whom, in what state, with how many findings and tickets."""
        rng = self.rng
        total = self.n(ASSESSMENTS, 20)
        alpha, beta, gamma = (self.demo_companies[k] for k in ("alpha", "beta", "gamma"))
        shares = {alpha: ALPHA_CASE_SHARE, beta: BETA_CASE_SHARE, gamma: GAMMA_CASE_SHARE}
        eligible = [c for c in self.company_ids if c not in shares and self.spans[c]]
        weights = {c: 1 / (rank + 8) ** 0.9 for rank, c in enumerate(rng.sample(eligible, len(eligible)))}
        rest = 1 - sum(shares.values())
        scale = rest / sum(weights.values())
        wanted = {**shares, **{c: w * scale for c, w in weights.items()}}
        counts = {c: int(total * share) for c, share in wanted.items()}
        shortfall = total - sum(counts.values())
        for c in rng.sample(eligible, len(eligible))[:shortfall]:
            counts[c] += 1

        cases: list[CasePlan] = []
        pool_base = [*self.extra_evaluators, *self.extra_leads, self.demo["lead2"].pk]
        demo_lead, demo_lead2 = self.demo["lead"].pk, self.demo["lead2"].pk
        demo_eval, demo_eval2 = self.demo["evaluator"].pk, self.demo["evaluator2"].pk
        horizon = self.now + timedelta(days=60)
        for company, count in counts.items():
            spans = self.spans[company]
            first = spans[0].start
            last_end = spans[-1].end
            low = max(self.history_start, datetime(first.year, first.month, first.day, tzinfo=UTC) + timedelta(days=20))
            high = (
                horizon
                if last_end is None
                else min(
                    horizon, datetime(last_end.year, last_end.month, last_end.day, tzinfo=UTC) + timedelta(days=45)
                )
            )
            for _ in range(count):
                start = low + (high - low) * (rng.random() ** 0.5)
                start = start.replace(microsecond=0, second=0)
                roll = rng.random()
                lead = (
                    demo_lead
                    if roll < DEMO_LEAD_SHARE
                    else demo_lead2
                    if roll < DEMO_LEAD_SHARE + DEMO_LEAD2_SHARE
                    else rng.choice(self.extra_leads)
                )
                pool = [p for p in pool_base if p != lead]
                team = rng.sample(pool, min(len(pool), rng.choice([2, 3, 3, 4, 4, 4, 5, 5, 6])))
                if rng.random() < DEMO_EVALUATOR_SHARE:
                    team.append(demo_eval)
                if rng.random() < DEMO_EVALUATOR2_SHARE:
                    team.append(demo_eval2)
                cases.append(CasePlan(company, start, start, "", lead, team, start))
        # The big case: Alpha AI, led by the demo lead, the demo evaluator on it, in reporting.
        alpha_cases = [c for c in cases if c.company == alpha]
        big = alpha_cases[0]
        big.big, big.lead = True, demo_lead
        big.start = (self.now - timedelta(days=24)).replace(microsecond=0, second=0)
        big.team = [p for p in big.team if p != demo_lead]
        if demo_eval not in big.team:
            big.team.append(demo_eval)
        cases.sort(key=lambda c: c.start)

        # Submissions: most cases assess a new model version; some assess one again.
        last_submission: dict[int, SubmissionPlan] = {}
        per_company: Counter = Counter()
        self.submissions: list[SubmissionPlan] = []
        taken = self.taken_model_names()
        for case in cases:
            submitted = self.before_now(case.start - timedelta(days=rng.uniform(10, 40)))
            span, submitted = self.span_for(case.company, submitted)
            previous = last_submission.get(case.company)
            if previous is None or rng.random() < 0.8 or previous.agreement_id != span.agreement_id:
                while True:
                    i = per_company[case.company]
                    per_company[case.company] += 1
                    name = f"{self.company_brand[case.company]} {FAMILIES[i % len(FAMILIES)]}"
                    version = f"{1 + i // len(FAMILIES)}.{rng.randint(0, 9)}"
                    if (case.company, name, version) not in taken:
                        taken.add((case.company, name, version))
                        break
                previous = SubmissionPlan(
                    case.company, name, version, submitted.replace(microsecond=0), span.agreement_id
                )
                last_submission[case.company] = previous
                self.submissions.append(previous)
            case.submission = previous
            previous.cases.append(case)
            length = rng.randint(min(7, span.max_window_days), span.max_window_days)
            if case.big:
                length = min(21, span.max_window_days)
            case.start = max(case.start, previous.created_at + timedelta(days=1))
            case.end = case.start + timedelta(days=length)
            case.created_at = self.before_now(
                max(previous.created_at + timedelta(hours=2), case.start - timedelta(days=rng.uniform(3, 20)))
            )
            self.case_state(case)
        for submission in self.submissions:
            last_end = max(c.end for c in submission.cases)
            submission.release = (last_end + timedelta(days=rng.randint(7, 60))).date()
        self.cases = cases
        self.allocate_findings_and_tickets()

    def taken_model_names(self) -> set:
        from assessments.models import ModelSubmission

        return set(ModelSubmission.objects.values_list("organisation_id", "model_name", "model_version"))

    def case_state(self, case: CasePlan) -> None:
        rng = self.rng
        now = self.now
        if case.big:
            case.status = "reporting"
        elif case.start > now:
            case.status = "access_pending" if rng.random() < 0.3 else "scheduled"
        elif case.end > now:
            roll = rng.random()
            case.status = "in_progress" if roll < 0.86 else "access_pending" if roll < 0.95 else "withdrawn"
        elif case.end > now - timedelta(days=45):
            case.status = "reporting" if rng.random() < 0.8 else "completed"
        else:
            case.status = "completed" if rng.random() < 0.93 else "withdrawn"
        if case.status == "completed":
            case.closed_at = self.before_now(case.end + timedelta(days=rng.uniform(2, 20)))
        elif case.status == "withdrawn":
            case.closed_at = self.before_now(case.start + timedelta(days=rng.uniform(0, 5)))

    def allocate_findings_and_tickets(self) -> None:
        """Spread the findings (Alpha AI's share first) and enough tickets to reach the deadline total."""
        rng = self.rng
        total = self.n(FINDINGS, 50)
        big_count = self.n(BIG_CASE_FINDINGS, 20)
        alpha = self.demo_companies["alpha"]
        started = [
            c
            for c in self.cases
            if c.start <= self.now and not c.big and c.status not in ("scheduled", "access_pending")
        ]
        alpha_cases = [c for c in started if c.company == alpha]
        other_cases = [c for c in started if c.company != alpha]
        alpha_total = max(0, round(total * ALPHA_FINDING_SHARE) - big_count)
        big = next(c for c in self.cases if c.big)
        big.findings = big_count
        for group, amount in ((alpha_cases, alpha_total), (other_cases, total - big_count - alpha_total)):
            weights = []
            for c in group:
                elapsed = min(1.0, max(0.05, (self.now - c.start) / (c.end - c.start)))
                factor = 0.2 if c.status == "withdrawn" else 1.0
                weights.append(rng.lognormvariate(0, 0.8) * elapsed * factor)
            scale = amount / sum(weights) if weights else 0
            given = 0
            for c, w in zip(group, weights, strict=True):
                exact = w * scale
                c.findings = int(exact) + (rng.random() < exact - int(exact))
                given += c.findings
            # Settle the rounding on the largest cases so the total is exact.
            for c in sorted(group, key=lambda c: -c.findings)[: abs(amount - given)]:
                c.findings += 1 if amount > given else -1 if c.findings > 0 else 0

        # Deadlines other than tickets': one per case, per submission, per ever-released finding, plus agreements'.
        from reminders.models import Deadline

        released_share = {"completed": 0.89, "reporting": 0.75, "in_progress": 0.40, "withdrawn": 0.0}
        expected = Deadline.objects.count() + len(self.cases) + len(self.submissions)
        expected += sum(c.findings * released_share.get(c.status, 0) for c in self.cases)
        remaining = max(0, self.n(DEADLINES) - expected)
        # Tickets per team member; the share that reached approval (and so has a deadline) by case state.
        approved_share = {
            "completed": 0.88,
            "reporting": 0.88,
            "in_progress": 0.85,
            "withdrawn": 0.6,
            "access_pending": 0.3,
            "scheduled": 0.3,
        }
        capacity = sum(
            (len(c.team) + 1) * approved_share[c.status] * (0.15 if c.start > self.now else 1) for c in self.cases
        )
        per_person = remaining / capacity if capacity else 0
        for c in self.cases:
            exact = (len(c.team) + 1) * per_person * (0.15 if c.start > self.now else 1)
            c.tickets = int(exact) + (rng.random() < exact - int(exact))

    def seed_submissions(self) -> None:
        from django.contrib.contenttypes.models import ContentType

        from assessments.models import ModelSubmission

        rng = self.rng
        rows = []
        for s in self.submissions:
            s.reference = self.refs.next("SUB", s.created_at)
            rows.append(
                ModelSubmission(
                    reference=s.reference,
                    organisation_id=s.company,
                    agreement_id=s.agreement_id,
                    model_name=s.name,
                    model_version=s.version,
                    modalities=sorted(
                        rng.sample(["text", "code", "image", "audio", "video", "agentic"], rng.randint(1, 4))
                    ),
                    intended_release_date=s.release,
                    notes="Release candidate; safety card attached to the agreement record.",
                    submitted_by_id=self.liaisons[s.company][0],
                    created_at=s.created_at,
                )
            )
        for s, saved in zip(self.submissions, self.insert(ModelSubmission, rows), strict=True):
            s.pk = saved.pk

        # The planned release date is a deadline for the people of the submission's open cases.
        submission_type = ContentType.objects.get_for_model(ModelSubmission)
        items = []
        for s in self.submissions:
            open_cases = [c for c in s.cases if c.status not in ("completed", "withdrawn")]
            people = open_cases or s.cases[-1:]
            recipients = [p for c in people for p in (c.lead, *c.team)]
            due = datetime(s.release.year, s.release.month, s.release.day, 9, tzinfo=self.local_zone).astimezone(UTC)
            closed = None if open_cases else max(c.closed_at or c.end for c in s.cases)
            items.append(
                self.deadline(
                    submission_type,
                    s.pk,
                    "planned_release",
                    f"{self.company_name[s.company]} plans to release {s.name} {s.version}",
                    f"/submissions/{s.reference}/",
                    due,
                    s.company,
                    created=s.cases[0].created_at,
                    closed=closed,
                    recipients=recipients,
                    escalate=self.admins,
                )
            )
        self.write_deadlines(items)

    def seed_cases(self) -> None:
        chunk = 250
        for i in range(0, len(self.cases), chunk):
            self.seed_case_chunk(self.cases[i : i + chunk])
            done = min(i + chunk, len(self.cases))
            if done % 2500 < chunk or done == len(self.cases):
                print(f"    {done:>6,} / {len(self.cases):,} cases", flush=True)

    def seed_case_chunk(self, plans: list[CasePlan]) -> None:
        from django.contrib.contenttypes.models import ContentType
        from django.db import transaction

        from assessments.models import AccessTicket, Assessment, CredentialReveal
        from findings.models import Finding, FindingComment

        rng = self.rng
        with transaction.atomic():
            rows = []
            for c in plans:
                completed = c.status == "completed"
                rows.append(
                    Assessment(
                        reference=self.refs.next("ASM", c.created_at),
                        submission_id=c.submission.pk,
                        lead_id=c.lead,
                        risk_domains=sorted(rng.sample(DOMAINS[:5], rng.randint(1, 4))),
                        window_start=c.start,
                        window_end=c.end,
                        status=c.status,
                        outcome=rng.choice(OUTCOMES) if completed else "",
                        outcome_rationale="The findings were answered and the mitigations verified by the team."
                        if completed
                        else ("The company withdrew the model from release." if c.status == "withdrawn" else ""),
                        closed_at=c.closed_at,
                        closed_by_id=c.lead if c.closed_at else None,
                        internal_notes="Baseline sweep first, then targeted red-teaming on the weakest domain.",
                        created_by_id=c.lead,
                        created_at=c.created_at,
                        updated_at=self.before_now(c.closed_at or max(c.created_at, min(c.start, self.now))),
                    )
                )
            cases = self.insert(Assessment, rows)
            team = Assessment.team.through
            self.insert(
                team, [team(assessment_id=a.pk, user_id=u) for a, c in zip(cases, plans, strict=True) for u in c.team]
            )

            findings, tickets, audit = [], [], []
            for a, c in zip(cases, plans, strict=True):
                findings += self.plan_findings(a, c)
                tickets += self.plan_tickets(a, c)
                audit += self.case_audit(a, c)
            saved_findings = self.insert(Finding, [f for f, _ in findings])
            saved_tickets = self.insert(AccessTicket, [t for t, _ in tickets])

            comments, reveals = [], []
            for f, (_, (a, c)) in zip(saved_findings, findings, strict=True):
                for _ in range(rng.choice([0, 0, 1, 1, 2]) if f.submitted_at else 0):
                    shared = f.released_at is not None and rng.random() < 0.4
                    author = (
                        rng.choice(self.liaisons[c.company])
                        if shared and rng.random() < 0.5
                        else rng.choice([c.lead, *c.team])
                    )
                    comments.append(
                        FindingComment(
                            finding=f,
                            author_id=author,
                            body=rng.choice(
                                [
                                    "Reproduced on the second account; same result.",
                                    "Could you share the exact prompt template you used?",
                                    "Severity looks right to me given the expert rating.",
                                    "We are testing a fix and will report back this week.",
                                ]
                            ),
                            internal=not shared,
                            created_at=self.between(
                                f.submitted_at, self.before_now(f.submitted_at + timedelta(days=5))
                            ),
                        )
                    )
                audit.append(
                    self.event(
                        f.author_id,
                        "create",
                        "findings.finding",
                        f.reference,
                        str(f),
                        a.reference,
                        f"Recorded finding {f.reference}",
                        f.created_at,
                    )
                )
                if f.released_at:
                    audit.append(
                        self.event(
                            f.released_by_id,
                            "transition",
                            "findings.finding",
                            f.reference,
                            str(f),
                            a.reference,
                            "Released to the company",
                            f.released_at,
                        )
                    )
            for t, (_, (a, _c)) in zip(saved_tickets, tickets, strict=True):
                audit.append(
                    self.event(
                        t.requested_by_id,
                        "create",
                        "assessments.accessticket",
                        t.reference,
                        t.reference,
                        a.reference,
                        f"Requested {ACCESS_LABELS[t.kind]} access",
                        t.requested_at,
                    )
                )
                if t.decided_at:
                    audit.append(
                        self.event(
                            t.decided_by_id,
                            "transition",
                            "assessments.accessticket",
                            t.reference,
                            t.reference,
                            a.reference,
                            "Rejected" if t.status == "rejected" else "Approved",
                            t.decided_at,
                        )
                    )
                if t.status == "active":
                    reveals.append(
                        CredentialReveal(
                            ticket=t,
                            revealed_by_id=t.requested_by_id,
                            revealed_at=t.activated_at,
                            source_ip="10.0.0.8",
                            user_agent="Mozilla/5.0",
                        )
                    )
            self.insert(FindingComment, comments)
            self.insert(CredentialReveal, reveals)
            from audit.models import AuditEvent

            self.insert(AuditEvent, audit)

            case_type = ContentType.objects.get_for_model(Assessment)
            finding_type = ContentType.objects.get_for_model(Finding)
            ticket_type = ContentType.objects.get_for_model(AccessTicket)
            items = []
            for a, c in zip(cases, plans, strict=True):
                items.append(
                    self.deadline(
                        case_type,
                        a.pk,
                        "window_end",
                        f"Access window of {a.reference} ({c.submission.name} {c.submission.version}) ends",
                        f"/assessments/{a.reference}/",
                        a.window_end,
                        c.company,
                        created=a.created_at,
                        closed=c.closed_at,
                        recipients=[c.lead, *c.team, *self.liaisons[c.company]],
                        escalate=self.admins,
                    )
                )
            for f, (_, (_a, c)) in zip(saved_findings, findings, strict=True):
                if f.released_at is None:
                    continue
                items.append(
                    self.deadline(
                        finding_type,
                        f.pk,
                        "finding_response_due",
                        f"Response to finding {f.reference}: {f.title}",
                        f"/findings/{f.reference}/",
                        f.response_due_at,
                        c.company,
                        created=f.released_at,
                        closed=None if f.status == "released" else (f.responded_at or f.resolved_at or f.updated_at),
                        recipients=self.liaisons[c.company],
                        escalate=[c.lead, *self.admins],
                    )
                )
            for t, (_, (a, c)) in zip(saved_tickets, tickets, strict=True):
                if t.starts_at is None:
                    continue
                live = t.status in ("approved", "provisioned", "active")
                items.append(
                    self.deadline(
                        ticket_type,
                        t.pk,
                        "ticket_expiry",
                        f"{ACCESS_LABELS[t.kind]} access {t.reference} for {c.submission.name} "
                        f"{c.submission.version} ends",
                        f"/access/{t.reference}/",
                        min(t.ends_at, a.window_end),
                        c.company,
                        created=t.decided_at,
                        closed=None if live else t.ended_at,
                        recipients=[t.requested_by_id, *self.liaisons[c.company]],
                        escalate=self.admins,
                    )
                )
            self.write_deadlines(items)

    def event(self, actor, action, object_type, object_id, object_repr, case_ref, summary, when):
        from audit.models import AuditEvent

        return AuditEvent(
            actor_id=actor,
            actor_email=self.user_email.get(actor, ""),
            action=action,
            object_type=object_type,
            object_id=object_id,
            object_repr=object_repr[:300],
            case_ref=case_ref,
            summary=summary[:500],
            changes={},
            occurred_at=self.before_now(when),
        )

    def case_audit(self, a, c: CasePlan) -> list:
        events = [
            self.event(
                c.lead,
                "create",
                "assessments.assessment",
                a.reference,
                a.reference,
                a.reference,
                f"Opened assessment of {c.submission.name} {c.submission.version}",
                a.created_at,
            )
        ]
        path = ["scheduled", "access_pending", "in_progress", "reporting", "completed"]
        if c.status in path:
            moments = [a.created_at, c.start - timedelta(days=1), c.start, c.end, c.closed_at]
            for i in range(1, path.index(c.status) + 1):
                when = moments[i] or c.end
                if when > self.now:
                    break
                events.append(
                    self.event(
                        c.lead,
                        "transition",
                        "assessments.assessment",
                        a.reference,
                        a.reference,
                        a.reference,
                        f"Status {path[i - 1]} → {path[i]}",
                        when,
                    )
                )
        elif c.status == "withdrawn":
            events.append(
                self.event(
                    c.lead,
                    "transition",
                    "assessments.assessment",
                    a.reference,
                    a.reference,
                    a.reference,
                    "Withdrawn",
                    c.closed_at,
                )
            )
        return events

    # --- findings --------------------------------------------------------------------------------

    FINDING_MIX = {
        "completed": (("resolved", 68), ("company_responded", 11), ("released", 10), ("withdrawn", 11)),
        "reporting": (
            ("draft", 5),
            ("in_review", 15),
            ("released", 30),
            ("company_responded", 25),
            ("resolved", 20),
            ("withdrawn", 5),
        ),
        "in_progress": (
            ("draft", 30),
            ("in_review", 25),
            ("released", 25),
            ("company_responded", 10),
            ("resolved", 5),
            ("withdrawn", 5),
        ),
        "withdrawn": (("draft", 40), ("in_review", 20), ("withdrawn", 40)),
    }

    def plan_findings(self, a, c: CasePlan) -> list:
        from findings.models import Finding

        rng = self.rng
        if not c.findings:
            return []
        mix = self.FINDING_MIX.get(c.status, self.FINDING_MIX["in_progress"])
        statuses = [s for s, _ in mix]
        weights = [w for _, w in mix]
        authors = c.team or [c.lead]
        last = self.before_now(c.closed_at or min(c.end, self.now))
        rows = []
        for _ in range(c.findings):
            status = rng.choices(statuses, weights)[0]
            domain = rng.choice(a.risk_domains)
            title = rng.choice(FINDING_TITLES[domain]).format(frame=rng.choice(FRAMES))
            created = self.between(c.start, last)
            attempts = rng.choice([6, 8, 10, 12, 20])
            hits = rng.randint(1, attempts - 1)
            submitted = released = due = responded = resolved = None
            released_by = responded_by = resolved_by = None
            if status != "draft" and not (status == "withdrawn" and rng.random() < 0.5):
                submitted = self.after(created, 0, 3, cap=self.before_now(self.now))
            if status in ("released", "company_responded", "resolved"):
                released = self.after(submitted, 0.5, 5, cap=self.before_now(self.now))
                released_by = c.lead
                due = released + timedelta(days=10)
            if status in ("company_responded", "resolved"):
                responded = self.after(released, 1, 12, cap=self.before_now(self.now))
                responded_by = self.liaisons[c.company][0]
            if status == "resolved":
                resolved = self.after(responded, 1, 10, cap=self.before_now(self.now))
                resolved_by = c.lead
            author = rng.choice(authors)
            if released_by == author:  # the two-person rule: a lead other than the author releases
                author = next((p for p in c.team if p != released_by), None) or author
            updated = resolved or responded or released or submitted or created
            rows.append(
                (
                    Finding(
                        reference=self.refs.next("FND", created),
                        assessment=a,
                        title=title,
                        risk_domain=domain,
                        severity=rng.choice(SEVERITIES),
                        summary=f"In a {rng.choice(FRAMES)} framing the model gave actionable help it refuses when "
                        f"asked directly ({hits} of {attempts} attempts).",
                        details=finding_details(rng, domain, attempts, hits),
                        reproduction_steps="1. Open a session with the default system prompt.\n"
                        "2. Set up the framing described above.\n3. Ask the target question.",
                        recommended_action="Extend refusal training to the framing and its neighbours; re-test.",
                        status=status,
                        author_id=author,
                        submitted_at=submitted,
                        released_by_id=released_by,
                        released_at=released,
                        response_due_at=due,
                        company_response="We reproduced the behaviour and are retraining the refusal classifier."
                        if responded
                        else "",
                        planned_mitigation="Classifier update in the next release." if responded else "",
                        disposition="will_mitigate" if responded else "",
                        responded_by_id=responded_by,
                        responded_at=responded,
                        resolved_by_id=resolved_by,
                        resolved_at=resolved,
                        resolution_note="Verified fixed in the retest." if resolved else "",
                        withdrawn_reason="Duplicate of an earlier finding." if status == "withdrawn" else "",
                        created_at=created,
                        updated_at=updated,
                    ),
                    (a, c),
                )
            )
        return rows

    # --- tickets ----------------------------------------------------------------------------------

    def plan_tickets(self, a, c: CasePlan) -> list:
        from assessments.models import AccessTicket

        rng = self.rng
        now = self.now
        span, _ = self.span_for(c.company, c.submission.created_at)
        kinds = span.kinds or ACCESS_KINDS
        requesters = c.team or [c.lead]
        liaison = self.liaisons[c.company][0]
        rows = []
        for _ in range(c.tickets):
            requester = rng.choice(requesters)
            length = (c.end - c.start).total_seconds() / 86400
            offset = rng.uniform(0, max(0.0, length - 2))
            wanted_from = (c.start + timedelta(days=offset)).replace(microsecond=0)
            wanted_to = min(c.end, wanted_from + timedelta(days=rng.uniform(2, max(2.5, length - offset))))
            requested = self.before_now(max(a.created_at, wanted_from - timedelta(days=rng.uniform(1, 7))))
            status = self.ticket_status(c, wanted_from, wanted_to)
            t = AccessTicket(
                reference=self.refs.next("TKT", requested),
                assessment=a,
                kind=rng.choice(kinds),
                justification="Needed for the baseline capability sweep across the domains in scope.",
                status=status,
                requested_by_id=requester,
                requested_at=requested,
                wanted_from=wanted_from,
                wanted_to=wanted_to,
                created_at=requested,
            )
            if status != "requested":
                t.decided_by_id = c.lead if c.lead != requester else self.demo["admin"].pk
                t.decided_at = self.before_now(requested + timedelta(hours=rng.uniform(1, 30)))
            if status == "rejected":
                t.decision_note = "The request duplicates access the team already holds."
                t.ended_at, t.ended_by_id, t.end_reason = t.decided_at, t.decided_by_id, t.decision_note
            elif status != "requested":
                t.starts_at, t.ends_at = wanted_from, wanted_to
                t.decision_note = "Approved for the requested period."
            if status in ("provisioned", "active", "expired", "revoked") and not (
                status == "revoked" and rng.random() < 0.4
            ):
                t.provisioned_by_id = liaison
                t.provisioned_at = self.before_now(t.decided_at + timedelta(hours=rng.uniform(1, 30)))
                t.endpoint = f"https://eval-gateway.{self.company_brand[c.company].lower()}.example/v1"
                t.instructions = "Rate limit 600 requests/minute; logs retained 30 days by the company."
            if status in ("active", "expired"):
                t.activated_at = self.before_now(max(t.provisioned_at, t.starts_at))
            if status == "expired":
                t.ended_at = self.before_now(min(t.ends_at, c.end))
            if status == "revoked":
                start = t.provisioned_at or t.decided_at
                t.ended_at = self.between(start, self.before_now(min(t.ends_at, c.end, now)))
                t.ended_by_id = rng.choice([c.lead, liaison])
                t.end_reason = "The team finished with this access early."
            if status == "active" and rng.random() < 0.05:
                t.extension_requested_to = min(c.end, t.ends_at + timedelta(days=3))
                if t.extension_requested_to <= t.ends_at:
                    t.extension_requested_to = None
                else:
                    t.extension_reason = "The autonomy suite needs two more days."
                    t.extension_requested_by_id = requester
                    t.extension_requested_at = self.before_now(now - timedelta(hours=5))
            t.updated_at = self.before_now(
                t.ended_at or t.activated_at or t.provisioned_at or t.decided_at or requested
            )
            rows.append((t, (a, c)))
        return rows

    def ticket_status(self, c: CasePlan, wanted_from: datetime, wanted_to: datetime) -> str:
        rng = self.rng
        now = self.now
        roll = rng.random()
        if c.status in ("completed", "withdrawn", "reporting") or wanted_to <= now:
            if c.status == "withdrawn" and c.start > now:
                return "rejected" if roll < 0.4 else "revoked"
            if wanted_from > now:  # a withdrawn case whose access never began
                return "rejected" if roll < 0.5 else "revoked"
            return "expired" if roll < 0.8 else "revoked" if roll < 0.88 else "rejected"
        if c.status in ("scheduled", "access_pending") or wanted_from > now:
            return "requested" if roll < 0.6 else "approved" if roll < 0.9 else "rejected"
        # A live case whose access period has begun and not ended.
        if roll < 0.55:
            return "active"
        if roll < 0.70:
            return "provisioned"
        if roll < 0.80:
            return "approved"
        if roll < 0.88:
            return "requested"
        return "rejected" if roll < 0.95 else "revoked"

    # --- notifications ------------------------------------------------------------------------------

    def seed_notifications(self) -> None:
        """The notifications of the last months: one per sent reminder, and the admins' and leads' digests."""
        from django.db import connection

        from reminders.models import Digest, Notification, Reminder

        rng = self.rng
        wanted = self.n(NOTIFICATIONS, 20)
        days = 30
        digest_people = [*self.admins, *self.leads]
        digest_count = min(len(digest_people) * days, wanted // 10)
        reminder_count = wanted - digest_count
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT d.id, d.revision, d.due_at, d.created_at, d.closed_at, d.title, d.url, d.kind, r.user_id"
                " FROM reminders_deadline d JOIN reminders_deadline_recipients r ON r.deadline_id = d.id"
                " WHERE d.due_at BETWEEN %s AND %s ORDER BY d.id, r.user_id",
                [self.now - timedelta(days=120), self.now + timedelta(days=7)],
            )
            candidates = cursor.fetchall()
        rng.shuffle(candidates)
        reminders, texts = [], []
        for deadline_id, revision, due_at, created_at, closed_at, title, url, kind, user_id in candidates:
            if len(reminders) >= reminder_count:
                break
            stage = self.current_stage(due_at, min(self.now, closed_at or self.now))
            if stage is None:
                continue
            # The scan sends the stage reached when it runs: at the stage time, or at once for a late deadline.
            sent = max(due_at - timedelta(days=stage), created_at) + timedelta(minutes=rng.randint(1, 5))
            if sent >= self.now:
                continue
            reminders.append(
                Reminder(
                    deadline_id=deadline_id,
                    revision=revision,
                    offset_days=stage,
                    recipient_id=user_id,
                    send_at=due_at - timedelta(days=stage),
                    status="sent",
                    email_status="sent",
                    attempts=1,
                    sent_at=sent,
                    emailed_at=sent,
                    created_at=sent,
                )
            )
            local = due_at.astimezone(self.local_zone)
            when = f"{local.day} {local:%b %Y, %H:%M} {local.tzname()}"
            if stage == 0:
                texts.append((f"Overdue: {title}", f"{KIND_LABELS[kind]}: {when}, now past.", url))
            else:
                texts.append(
                    (f"Due in {stage} day{'s' if stage != 1 else ''}: {title}", f"{KIND_LABELS[kind]}: {when}.", url)
                )
        saved = self.insert(Reminder, reminders)
        notifications = []
        for reminder, (title, body, url) in zip(saved, texts, strict=True):
            notifications.append(
                self.notification(reminder.recipient_id, title, body, url, reminder.sent_at, reminder=reminder)
            )

        digests = []
        for i in range(digest_count):
            person = digest_people[i % len(digest_people)]
            day = self.today - timedelta(days=1 + i // len(digest_people))
            sent = datetime(day.year, day.month, day.day, 12, 5, tzinfo=UTC)
            digests.append(
                Digest(
                    recipient_id=person,
                    kind="overdue",
                    day=day,
                    status="sent",
                    attempts=1,
                    sent_at=sent,
                    item_count=rng.randint(1, 40),
                    created_at=sent,
                )
            )
        for digest in self.insert(Digest, digests):
            items = digest.item_count
            notifications.append(
                self.notification(
                    digest.recipient_id,
                    f"{items} overdue deadline{'s' if items != 1 else ''}",
                    "Overdue deadlines of your cases and agreements.",
                    "/deadlines/?show=overdue",
                    digest.sent_at,
                    digest=digest,
                )
            )
        self.insert(Notification, notifications)

    def notification(self, recipient, title, body, url, sent, *, reminder=None, digest=None):
        from reminders.models import Notification

        age = (self.now - sent).days
        read = sent + timedelta(hours=self.rng.uniform(1, 48)) if age > 3 and self.rng.random() < 0.75 else None
        return Notification(
            recipient_id=recipient,
            reminder=reminder,
            digest=digest,
            title=title[:300],
            body=body,
            url=url,
            created_at=sent,
            read_at=self.before_now(read) if read else None,
        )

    # --- report ---------------------------------------------------------------------------------------

    def report(self) -> None:
        from django.db.models import Count

        from accounts.models import Organisation
        from assessments.models import AccessTicket, Assessment
        from findings.models import Finding
        from reminders.models import Deadline, Notification

        alpha = self.demo_companies["alpha"]
        lead, evaluator = self.demo["lead"], self.demo["evaluator"]
        rows = [
            ("companies", Organisation.objects.filter(kind="developer").count()),
            ("assessments", Assessment.objects.count()),
            ("findings", Finding.objects.count()),
            ("access tickets", AccessTicket.objects.count()),
            ("deadlines", Deadline.objects.count()),
            ("  open deadlines", Deadline.objects.filter(is_open=True).count()),
            ("notifications", Notification.objects.count()),
            ("Alpha AI assessments", Assessment.objects.filter(submission__organisation_id=alpha).count()),
            ("Alpha AI findings", Finding.objects.filter(assessment__submission__organisation_id=alpha).count()),
            ("cases led by the demo lead", Assessment.objects.filter(lead=lead).count()),
            ("teams of the demo evaluator", Assessment.objects.filter(team=evaluator).count()),
        ]
        biggest = Assessment.objects.annotate(n=Count("findings")).order_by("-n").values_list("reference", "n").first()
        for label, value in rows:
            print(f"  {label:<30} {value:>9,}")
        if biggest:
            print(f"  largest case                   {biggest[0]} ({biggest[1]:,} findings)")


if __name__ == "__main__":
    main()
