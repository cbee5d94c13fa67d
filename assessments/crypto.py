"""Encryption at rest of model-access credentials.

Credentials are sealed with Fernet (AES-128-CBC plus HMAC-SHA256, so a
tampered value fails to open rather than decrypting to garbage). The keys
come from ``settings.CREDENTIAL_KEYS``, newest first: the newest key seals
new values and every listed key may open old ones, so a key can be rotated
by putting a new key in front, running ``manage.py reencrypt_credentials``,
and only then dropping the old key.

Nothing here logs: plaintext stays in local variables of the caller.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class CredentialUnreadable(Exception):
    """The stored value opens with none of the configured keys (a key was dropped too early)."""


def _cipher() -> MultiFernet:
    keys = [k for k in (settings.CREDENTIAL_KEYS or []) if k]
    if not keys:
        raise ImproperlyConfigured("CREDENTIAL_KEYS is empty: access credentials cannot be encrypted.")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "CREDENTIAL_KEYS must be url-safe base64 Fernet keys (generate one with: python -c "
            "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')."
        ) from exc


def seal(plaintext: str) -> str:
    """Encrypt ``plaintext`` under the newest key; empty stays empty."""
    if not plaintext:
        return ""
    return _cipher().encrypt(plaintext.encode("utf-8")).decode("ascii")


def unseal(token: str) -> str:
    """Decrypt a stored value with whichever configured key sealed it."""
    if not token:
        return ""
    try:
        return _cipher().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise CredentialUnreadable("The stored credential cannot be decrypted with the configured keys.") from exc


def reseal(token: str) -> str:
    """The same secret sealed under the newest key (for key rotation)."""
    if not token:
        return ""
    try:
        return _cipher().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken as exc:
        raise CredentialUnreadable("The stored credential cannot be decrypted with the configured keys.") from exc
