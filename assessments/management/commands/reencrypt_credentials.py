"""Re-encrypt every stored access credential under the newest key of CREDENTIAL_KEYS.

Key rotation: put the new key first in CREDENTIAL_KEYS (keep the old one
after it), deploy, run this command, then drop the old key.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from assessments.services import ticket_credentials_reencrypt


class Command(BaseCommand):
    help = "Re-encrypt stored access credentials under the newest CREDENTIAL_KEYS key (run after adding a key)."

    def handle(self, *args, **options):
        count = ticket_credentials_reencrypt()
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {count} credential(s) under the newest key."))
