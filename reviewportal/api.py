"""The REST API's exception handler: service exceptions mapped, every body in the one shape (``core.api``).

Service rule violations (``core.errors``) become 400 (``RuleViolation``) and 409
(``TransitionNotAllowed``), so an API caller gets the same message as the web form;
refusals by the policy are recorded in the audit trail.
"""

from __future__ import annotations

import logging

from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from audit.services import audit_permission_denied
from core.api import django_validation_errors, error_body, flatten_errors, request_too_large_body
from core.errors import RuleViolation, TransitionNotAllowed


def exception_handler(exc, context):
    """DRF's handler, with service exceptions mapped and every body in the one shape."""
    if isinstance(exc, TransitionNotAllowed):
        return Response(error_body(str(exc), "conflict", exc.errors), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, RuleViolation):
        errors = exc.errors or {"non_field_errors": [str(exc)]}
        return Response(error_body(str(exc), "invalid", flatten_errors(errors)), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        errors = django_validation_errors(exc)
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
        audit_permission_denied(request=context["request"], message=str(exc.detail))
    if isinstance(exc, exceptions.ValidationError):
        errors = flatten_errors(response.data)
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


def _suspicious_request(exc: SuspiciousOperation) -> Response:
    """A body Django refuses to read (too large, too many fields or files): 413 or 400, logged as Django does."""
    logging.getLogger(f"django.security.{exc.__class__.__name__}").warning(str(exc))
    if isinstance(exc, RequestDataTooBig):
        return Response(request_too_large_body(), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    # Django's own messages for these say which limit was passed; others may name server paths.
    detail = str(exc) if isinstance(exc, TooManyFieldsSent | TooManyFilesSent) else "The request could not be read."
    return Response(error_body(detail, "bad_request"), status=status.HTTP_400_BAD_REQUEST)
