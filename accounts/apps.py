from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and organisations"

    def ready(self) -> None:
        # The policy's rules for accounts (and the audit trail); the account-security module
        # registers its deploy checks and session bookkeeping on Django's sign-in signals.
        from accounts import rules, security  # noqa: F401
