"""Mint a personal API token for a user from the command line, for scripts.

    python manage.py create_api_token someone@example.gov --name "nightly export" --days 30

The token is printed once, on standard output, and cannot be shown again.
Having a shell on the server is the authority here; the creation is
recorded in the audit trail like one made in the portal.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.services import api_token_create, api_token_max_days
from core.errors import RuleViolation


class Command(BaseCommand):
    help = "Create a personal API token for EMAIL and print it once."

    def add_arguments(self, parser):
        parser.add_argument("email", help="Email address of the user the token acts as.")
        parser.add_argument("--name", required=True, help="What the token is for, e.g. 'nightly export'.")
        parser.add_argument(
            "--days", type=int, default=90, help=f"Days until the token expires (1 to {api_token_max_days()})."
        )

    def handle(self, *args, email: str, name: str, days: int, **options):
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No user with the email address {email!r}.")
        try:
            token, plaintext = api_token_create(actor=None, user=user, name=name, days=days, source="command line")
        except RuleViolation as exc:
            problems = "; ".join(message for messages in exc.errors.values() for message in messages)
            raise CommandError(problems or str(exc))
        self.stderr.write(
            f"Token '{token.name}' for {user.email}, expires {token.expires_at:%Y-%m-%d %H:%M} UTC. "
            "Copy it now: it is not stored and will not be shown again."
        )
        self.stdout.write(plaintext)
