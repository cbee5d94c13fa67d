"""Store a fresh rendering of every finding's details that an older renderer made, or none did.

Run after raising ``findings.markdown.RENDERER_VERSION`` (until then such rows are rendered
on every read), or after loading findings around the services (bulk inserts). Safe to run at
any time and to run again: it renders only what is stale.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from findings.services import finding_details_render_stale


class Command(BaseCommand):
    help = "Render the Markdown details of findings whose stored HTML is missing or from an older renderer."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500, help="Findings per transaction (default 500).")

    def handle(self, *args, **options):
        count = finding_details_render_stale(batch_size=max(1, options["batch_size"]))
        self.stdout.write(self.style.SUCCESS(f"Rendered the details of {count} finding(s)."))
