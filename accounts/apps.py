from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and organisations"

    def ready(self) -> None:
        from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
        from django_otp.plugins.otp_totp.models import TOTPDevice

        # The policy's rules for accounts (and the audit trail); the account-security module
        # registers its deploy checks and session bookkeeping on Django's sign-in signals.
        from accounts import rules, security  # noqa: F401
        from accounts.models import Membership, Organisation, User
        from core.page_cache import read_before_views

        # Read for every request before its view (accounts/backends.py, django-otp's middleware):
        # a kept page stays true only while none of them changes.
        read_before_views(User, Membership, Organisation, TOTPDevice, StaticDevice, StaticToken)
