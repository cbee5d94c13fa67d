"""Load the demo world (idempotent) and print the demo logins."""

from __future__ import annotations

import importlib

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.demo import DEMO_USERS, seed_engagement, seed_people
from core.markings import HandlingMarking, markings_seed

# Apps that add demo records, in dependency order. Each has demo.seed(world).
DEMO_APPS = ["agreements", "assessments", "findings", "reminders"]


class Command(BaseCommand):
    help = "Create the demo organisations, users and records (safe to run again), and print the logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force-demo-password",
            action="store_true",
            help="Allow the shared demo password even though DEBUG is off (never on a real deployment).",
        )

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["force_demo_password"]:
            raise CommandError(
                "Refusing to create demo accounts with a shared password while DEBUG is off. "
                "Use --force-demo-password only on a throw-away deployment."
            )
        password = settings.DEMO_PASSWORD
        with transaction.atomic():
            # The demo's agreements mark the companies' material CBI: the programme's standard markings
            # must be there (the migration seeds them; an emptied database has lost them).
            markings_seed(HandlingMarking)
            world = seed_people(password=password)
            seed_engagement(world)
            for app_label in DEMO_APPS:
                importlib.import_module(f"{app_label}.demo").seed(world)
        for line in world.log:
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"Demo data is ready. Sign in at {settings.SITE_URL} with:"))
        width = max(len(email) for email, *_ in DEMO_USERS.values())
        for email, _name, _org, role in DEMO_USERS.values():
            self.stdout.write(f"  {email.ljust(width)}  {role.label}")
        self.stdout.write(f"  password for all: {password}")
