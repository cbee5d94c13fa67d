"""The REST API's one error body shape (parsers and pagination: core/api_defaults.py; handler: reviewportal/api.py).

Every error answers one shape, so clients handle all resources the same way::

    {"detail": "Human-readable message.", "code": "not_found", "errors": {"field": ["message"]}}

``errors`` maps a field path to its messages (nested fields are joined with
dots, list items by index: ``"terms.max_window_days"``, ``"items.0.name"``;
errors not tied to a field are under ``"non_field_errors"``); it is ``{}``
when no field is at fault. Service rule violations
(``core.errors``) become 400 (``RuleViolation``) and 409
(``TransitionNotAllowed``), so an API caller gets the same message as the
web form.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

# --- Error bodies ------------------------------------------------------------------


def flatten_errors(errors, prefix: str = "") -> dict[str, list[str]]:
    """``{"a": {"b": ["m"]}, "c": [{"d": ["n"]}]}`` → ``{"a.b": ["m"], "c.0.d": ["n"]}``."""
    flat: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            flat.update(flatten_errors(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(errors, list | tuple):
        if all(not isinstance(item, dict | list | tuple) for item in errors):
            flat.setdefault(prefix or "non_field_errors", []).extend(str(item) for item in errors)
        else:
            for index, item in enumerate(errors):
                if isinstance(item, dict | list | tuple):
                    if item:
                        flat.update(flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)))
                else:
                    flat.setdefault(prefix or "non_field_errors", []).append(str(item))
    else:
        flat.setdefault(prefix or "non_field_errors", []).append(str(errors))
    return flat


def django_validation_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): [str(m) for e in errs for m in e.messages]
            for field, errs in exc.error_dict.items()
        }
    return {"non_field_errors": [str(m) for m in exc.messages]}


def error_body(detail: str, code: str, errors: dict[str, list[str]] | None = None) -> dict:
    return {"detail": detail, "code": code, "errors": errors or {}}


def request_too_large_body() -> dict:
    limit_mb = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024)
    return error_body(
        f"The request body is larger than the {limit_mb:g} MB allowed (files count separately).", "too_large"
    )


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
