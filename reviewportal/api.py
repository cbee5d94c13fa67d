"""Shared REST API plumbing: one error body shape (pagination and throttle: api_defaults.py; schema: api_schema.py).

Every error answers one shape, so clients handle all resources the same way::

    {"detail": "Human-readable message.", "code": "not_found", "errors": {"field": ["message"]}}

``errors`` maps a field path to its messages (nested fields are joined with
dots, list items by index: ``"terms.max_window_days"``, ``"items.0.name"``;
errors not tied to a field are under ``"non_field_errors"``); it is ``{}``
when no field is at fault. Service rule violations
(``reviewportal.errors``) become 400 (``RuleViolation``) and 409
(``TransitionNotAllowed``), so an API caller gets the same message as the
web form.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from reviewportal.errors import RuleViolation, TransitionNotAllowed

# --- Error bodies ------------------------------------------------------------------


def _flatten(errors, prefix: str = "") -> dict[str, list[str]]:
    """``{"a": {"b": ["m"]}, "c": [{"d": ["n"]}]}`` → ``{"a.b": ["m"], "c.0.d": ["n"]}``."""
    flat: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(errors, list | tuple):
        if all(not isinstance(item, dict | list | tuple) for item in errors):
            flat.setdefault(prefix or "non_field_errors", []).extend(str(item) for item in errors)
        else:
            for index, item in enumerate(errors):
                if isinstance(item, dict | list | tuple):
                    if item:
                        flat.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
                else:
                    flat.setdefault(prefix or "non_field_errors", []).append(str(item))
    else:
        flat.setdefault(prefix or "non_field_errors", []).append(str(errors))
    return flat


def _django_validation_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): [str(m) for e in errs for m in e.messages]
            for field, errs in exc.error_dict.items()
        }
    return {"non_field_errors": [str(m) for m in exc.messages]}


def error_body(detail: str, code: str, errors: dict[str, list[str]] | None = None) -> dict:
    return {"detail": detail, "code": code, "errors": errors or {}}


def exception_handler(exc, context):
    """DRF's handler, with service exceptions mapped and every body in the one shape."""
    if isinstance(exc, TransitionNotAllowed):
        return Response(error_body(str(exc), "conflict", exc.errors), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, RuleViolation):
        errors = exc.errors or {"non_field_errors": [str(exc)]}
        return Response(error_body(str(exc), "invalid", _flatten(errors)), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        errors = _django_validation_errors(exc)
        first = next(iter(errors.values()), ["Invalid input."])[0]
        return Response(error_body(first, "invalid", errors), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, SuspiciousOperation):
        return _suspicious_request(exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # an unexpected error: Django's 500 handling (and logging) takes over
    if isinstance(exc, exceptions.PermissionDenied) and context.get("request") is not None:
        # Every refusal by the policy goes into the audit trail (pages: reviewportal/middleware.py).
        from audit.services import audit_permission_denied

        audit_permission_denied(request=context["request"], message=str(exc.detail))
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(response.data)
        # The detail names the first problem, so a client that shows one line shows a useful one.
        field, messages = next(iter(errors.items()), ("", ["Invalid input."]))
        detail = messages[0] if field == "non_field_errors" else f"{field}: {messages[0]}"
        response.data = error_body(detail, "invalid", errors)
    else:
        data = response.data if isinstance(response.data, dict) else {}
        detail = data.get("detail", "Request failed.")
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        response.data = error_body(str(detail), str(code))
    return response


def request_too_large_body() -> dict:
    limit_mb = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024)
    return error_body(
        f"The request body is larger than the {limit_mb:g} MB allowed (files count separately).", "too_large"
    )


def _suspicious_request(exc: SuspiciousOperation) -> Response:
    """A body Django refuses to read (too large, too many fields or files): 413 or 400, logged as Django does."""
    logging.getLogger(f"django.security.{exc.__class__.__name__}").warning(str(exc))
    if isinstance(exc, RequestDataTooBig):
        return Response(request_too_large_body(), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    # Django's own messages for these say which limit was passed; others may name server paths.
    detail = str(exc) if isinstance(exc, TooManyFieldsSent | TooManyFilesSent) else "The request could not be read."
    return Response(error_body(detail, "bad_request"), status=status.HTTP_400_BAD_REQUEST)


class ErrorSerializer(serializers.Serializer):
    """The body of every error response (documentation only)."""

    detail = serializers.CharField(help_text="What went wrong, written to be shown to a person.")
    code = serializers.CharField(
        help_text="Machine-readable kind: invalid, not_authenticated, authentication_failed, "
        "permission_denied, not_found, conflict, throttled, method_not_allowed, parse_error, too_large, …"
    )
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Field path → messages; empty when no field is at fault.",
    )
