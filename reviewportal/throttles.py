"""The REST API's write throttle (DRF imports it while its views are loading: import nothing of DRF's views here)."""

from __future__ import annotations

import logging

from django.conf import settings
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import SimpleRateThrottle

from audit.services import client_ip

logger = logging.getLogger(__name__)


class WriteRateThrottle(SimpleRateThrottle):
    """Limits writes per API token (per signed-in user for session calls); reads are not limited.

    The rate is ``settings.API_WRITE_RATE`` (env ``API_WRITE_RATE``, e.g. ``60/min``), read on
    each request so it can be changed in tests. The key is the token's public id, so each
    token of a person has its own budget and revoking one does not reset another.
    """

    scope = "write"

    def get_rate(self) -> str:
        return settings.API_WRITE_RATE

    def allow_request(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        try:
            return super().allow_request(request, view)
        except Exception:  # noqa: BLE001 - the cache (Redis) is down: serve the write rather than fail it
            logger.warning("Write throttle skipped: the cache is unreachable.", exc_info=True)
            return True

    def get_cache_key(self, request, view) -> str:
        token_id = getattr(request.auth, "public_id", None)
        if token_id is not None:
            ident = f"token:{token_id}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.public_id}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def get_ident(self, request) -> str:
        # The address the audit trail and the sign-in lockout use, not DRF's own reading of
        # X-Forwarded-For (which trusts its first entry, written by the client).
        return client_ip(request) or ""
