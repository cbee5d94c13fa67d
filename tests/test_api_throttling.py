"""Writes are rate-limited per API token (API_WRITE_RATE); reads are not.

Each test mints fresh tokens, and the throttle is keyed by token, so no count carries over.
"""

from __future__ import annotations

from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from accounts.authentication import BearerTokenAuthentication
from accounts.services import api_token_create


class _Write(APIView):
    """Any write endpoint: the throttle is the project default, not set per view."""

    authentication_classes = [BearerTokenAuthentication]
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response({"ok": True})

    def post(self, request):
        return Response({"ok": True}, status=201)


def call(method: str, token: str):
    request = getattr(APIRequestFactory(), method)("/write/", {}, format="json", HTTP_AUTHORIZATION=f"Bearer {token}")
    response = _Write.as_view()(request)
    response.render()
    return response


def test_writes_beyond_the_rate_get_429_with_retry_after(settings, evaluator):
    settings.API_WRITE_RATE = "3/min"
    _, token = api_token_create(actor=evaluator, user=evaluator, name="t", days=1)
    statuses = [call("post", token).status_code for _ in range(4)]
    assert statuses == [201, 201, 201, 429]
    response = call("post", token)
    assert response.data["code"] == "throttled"
    assert set(response.data) == {"detail", "code", "errors"}
    assert int(response["Retry-After"]) > 0


def test_reads_are_not_throttled(settings, evaluator):
    settings.API_WRITE_RATE = "1/min"
    _, token = api_token_create(actor=evaluator, user=evaluator, name="t", days=1)
    assert [call("get", token).status_code for _ in range(5)] == [200] * 5
    assert call("post", token).status_code == 201


def test_each_token_has_its_own_budget(settings, evaluator):
    settings.API_WRITE_RATE = "1/min"
    _, first = api_token_create(actor=evaluator, user=evaluator, name="first", days=1)
    _, second = api_token_create(actor=evaluator, user=evaluator, name="second", days=1)
    assert call("post", first).status_code == 201
    assert call("post", first).status_code == 429
    assert call("post", second).status_code == 201


def test_writes_go_through_when_the_cache_is_down(settings, evaluator, monkeypatch):
    from reviewportal.throttles import WriteRateThrottle

    class DownCache:
        def get(self, *args, **kwargs):
            raise ConnectionError("cache unreachable")

        set = get

    settings.API_WRITE_RATE = "1/min"
    monkeypatch.setattr(WriteRateThrottle, "cache", DownCache())
    _, token = api_token_create(actor=evaluator, user=evaluator, name="t", days=1)
    assert [call("post", token).status_code for _ in range(3)] == [201, 201, 201]
