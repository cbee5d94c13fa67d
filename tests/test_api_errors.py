"""Every API error has one body shape: {"detail": str, "code": str, "errors": {field: [str]}}.

Real endpoints show 401/404/400-from-a-filter; small views stand in for a
service that refuses (403), rejects input (400) or an illegal transition
(409), because those go through the same exception handler whatever the
resource.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from accounts.services import api_token_create
from core.api import flatten_errors as _flatten
from core.errors import RuleViolation, TransitionNotAllowed

ORGANISATIONS = "/api/v1/organisations/"


def assert_error_shape(body: dict) -> None:
    assert set(body) == {"detail", "code", "errors"}
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["code"], str) and body["code"]
    assert isinstance(body["errors"], dict)
    for field, messages in body["errors"].items():
        assert isinstance(field, str)
        assert isinstance(messages, list) and all(isinstance(m, str) for m in messages)


class _Terms(serializers.Serializer):
    max_window_days = serializers.IntegerField(max_value=30)


class _Payload(serializers.Serializer):
    title = serializers.CharField()
    terms = _Terms()


class _StandIn(APIView):
    """Raises what a service would, to show how the handler answers."""

    permission_classes = [IsAuthenticated]

    def post(self, request):
        kind = request.data.get("kind")
        if kind == "refused":
            raise PermissionDenied("Only a lead evaluator other than the author can release a finding.")
        if kind == "transition":
            raise TransitionNotAllowed("A finding in draft cannot be released; submit it for review first.")
        if kind == "rule":
            raise RuleViolation("The window is too long.", errors={"window_end": ["At most 30 days."]})
        _Payload(data=request.data).is_valid(raise_exception=True)
        return Response({})


def call_stand_in(user, data):
    request = APIRequestFactory().post("/stand-in/", data, format="json")
    force_authenticate(request, user=user)
    response = _StandIn.as_view()(request)
    response.render()
    return response


def test_no_credentials_is_401_in_the_error_shape(client, db):
    response = client.get(ORGANISATIONS)
    assert response.status_code == 401
    assert_error_shape(response.json())
    assert response.json()["code"] == "not_authenticated"


def test_another_organisations_object_is_404_in_the_error_shape(client, liaison_a, company_b):
    _, token = api_token_create(actor=liaison_a, user=liaison_a, name="t", days=1)
    response = client.get(f"{ORGANISATIONS}{company_b.public_id}/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found", "errors": {}}
    assert "Company B" not in response.content.decode()


def test_bad_filter_value_is_400_naming_the_field(client_for, lead):
    response = client_for(lead).get(ORGANISATIONS, {"kind": "bogus"})
    assert response.status_code == 400
    body = response.json()
    assert_error_shape(body)
    assert body["code"] == "invalid"
    assert "kind" in body["errors"]


def test_refused_by_policy_is_403_with_the_message(lead):
    response = call_stand_in(lead, {"kind": "refused"})
    assert response.status_code == 403
    assert response.data == {
        "detail": "Only a lead evaluator other than the author can release a finding.",
        "code": "permission_denied",
        "errors": {},
    }


def test_illegal_transition_is_409_with_the_message(lead):
    response = call_stand_in(lead, {"kind": "transition"})
    assert response.status_code == 409
    assert response.data["code"] == "conflict"
    assert response.data["detail"] == "A finding in draft cannot be released; submit it for review first."
    assert_error_shape(response.data)


def test_rule_violation_is_400_with_field_errors(lead):
    response = call_stand_in(lead, {"kind": "rule"})
    assert response.status_code == 400
    assert response.data == {
        "detail": "The window is too long.",
        "code": "invalid",
        "errors": {"window_end": ["At most 30 days."]},
    }


def test_serializer_errors_are_flattened_to_field_paths(lead):
    response = call_stand_in(lead, {"terms": {"max_window_days": 45}})
    assert response.status_code == 400
    body = response.data
    assert_error_shape(body)
    assert body["errors"] == {
        "title": ["This field is required."],
        "terms.max_window_days": ["Ensure this value is less than or equal to 30."],
    }
    assert body["detail"] == "title: This field is required."


def test_malformed_json_is_400_parse_error(client_for, lead):
    response = client_for(lead).generic("OPTIONS", ORGANISATIONS)  # sanity: the endpoint answers
    assert response.status_code == 200
    request = APIRequestFactory().post("/stand-in/", "{not json", content_type="application/json")
    force_authenticate(request, user=lead)
    response = _StandIn.as_view()(request)
    assert response.status_code == 400
    assert response.data["code"] == "parse_error"
    assert_error_shape(response.data)


@pytest.mark.parametrize(
    ("raw", "flat"),
    [
        ({"a": ["m"]}, {"a": ["m"]}),
        ({"a": {"b": ["m"]}}, {"a.b": ["m"]}),
        ({"items": [{}, {"name": ["n"]}]}, {"items.1.name": ["n"]}),
        (["whole object is wrong"], {"non_field_errors": ["whole object is wrong"]}),
    ],
)
def test_flatten_field_paths(raw, flat):
    assert _flatten(raw) == flat


def test_an_api_address_matching_no_route_answers_json_404(client_for, evaluator):
    response = client_for(evaluator).post("/api/v1/findings/Not a reference./release/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found.", "code": "not_found", "errors": {}}


def test_a_portal_address_matching_no_route_still_shows_the_page(client_for, evaluator):
    response = client_for(evaluator).get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/findings/{finding}/comments.json",
        "/api/v1/findings/{finding}/files/0.5/",
        "/api/v1/findings/{finding}.json",
        "/api/v1/findings.json",
        "/api/v1/agreements/{agreement}/versions.json",
        "/api/v1/.json",
    ],
)
def test_a_format_suffix_is_a_json_404_on_every_route(client_for, lead, case, path):
    """The API has no format-suffix addresses (choose JSON with Accept); they answer like any unknown address."""
    from findings.tests.factories import FindingFactory

    finding = FindingFactory(assessment=case, author=lead)
    url = path.format(finding=finding.reference, agreement=case.submission.agreement.reference)
    response = client_for(lead).get(url)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found", "errors": {}}


def test_the_two_factor_refusal_has_the_error_shape(client_for, evaluator, settings):
    settings.REQUIRE_2FA = True
    response = client_for(evaluator).get(ORGANISATIONS)
    assert response.status_code == 403
    assert response.json() == {
        "detail": "Two-factor verification is required for this session.",
        "code": "permission_denied",
        "errors": {},
    }


def test_an_unexpected_error_under_the_api_is_a_json_500(client_for, lead, monkeypatch):
    from accounts.api.views import OrganisationViewSet

    def broken(self, request, *args, **kwargs):
        raise RuntimeError("a defect")

    monkeypatch.setattr(OrganisationViewSet, "list", broken)
    client = client_for(lead)
    client.raise_request_exception = False
    response = client.get(ORGANISATIONS)
    assert response.status_code == 500
    body = response.json()
    assert_error_shape(body)
    assert body["code"] == "server_error"
    assert "a defect" not in body["detail"]
