"""Exceptions that services raise when a business rule refuses an action.

Views turn them into a form error or a message; the API turns them into a
400 (``RuleViolation``) or a 409 (``TransitionNotAllowed``). The message is
written for the person who tried, so it can be shown as it is.
"""

from __future__ import annotations


class RuleViolation(Exception):
    """Input that breaks a rule. ``errors`` maps field names to messages when a field is at fault."""

    def __init__(self, message: str, *, errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.errors = errors or {}


class TransitionNotAllowed(RuleViolation):
    """A state change that is not allowed from the current state, or not by this person."""
