"""Exceptions that services raise when a business rule refuses an action.

Views turn them into a form error or a message; the API turns them into a
400 (``RuleViolation``) or a 409 (``TransitionNotAllowed``). The message is
written for the person who tried, so it can be shown as it is. ``OutOfScope``
is the 404 of an object that exists but that the asker may not see.
"""

from __future__ import annotations

from django.http import Http404


class RuleViolation(Exception):
    """Input that breaks a rule. ``errors`` maps field names to messages when a field is at fault."""

    def __init__(self, message: str, *, errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.errors = errors or {}


class TransitionNotAllowed(RuleViolation):
    """A state change that is not allowed from the current state, or not by this person."""


class OutOfScope(Http404):
    """The object exists but lies outside the user's scope (raised by the policy's ``get_object_for``).

    Answered exactly like a missing one (the same 404), and recorded as a probe in the audit trail
    by the page middleware (``audit.middleware``) or the API mixin (``ScopedObjectMixin``).
    ``kind`` is the model label, ``reference`` the looked-up value (never a title)."""

    def __init__(self, kind: str, reference: str) -> None:
        super().__init__("Not found.")
        self.kind = kind
        self.reference = reference
