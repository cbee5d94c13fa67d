"""Control characters are refused wherever input comes in: addresses, query strings, forms, API bodies.

NUL (U+0000) cannot be stored in a PostgreSQL text column, and a lookup with one
fails with a ``DataError`` instead of finding nothing. The other C0 controls
(U+0001–U+001F) and DEL (U+007F) have no place in a reference, a filter or a
person's writing: they are invisible on the page, in the report and in the PDF,
so they can only hide what a text says. People do type tab, line feed and
carriage return in text boxes, so submitted text keeps those three; an
address or a query parameter allows none.

The checks live in one place each: ``reviewportal.middleware.RejectControlCharactersMiddleware``
(addresses and query strings, for every page and endpoint), ``core.forms.USWDSFormMixin``
(every field of every portal form) and the API's parsers in ``core.api_defaults`` (every
value and key of a JSON, form or multipart body).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.core.exceptions import ValidationError

# Any C0 control or DEL: nothing of the kind belongs in an address or a query parameter.
_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# In text people submit, tab (U+0009), line feed (U+000A) and carriage return (U+000D) are allowed.
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

CODE = "control_character"


def control_character_message(value: str, *, text: bool = False) -> str | None:
    """What to tell the person about the first control character in ``value``, or None when there is none.

    ``text=True`` allows tab, line feed and carriage return (a text field); otherwise every
    control character counts (an address, a query parameter, a key).
    """
    match = (_TEXT_CONTROL if text else _ANY_CONTROL).search(value)
    if match is None:
        return None
    return (
        f"Remove the invisible control character U+{ord(match.group()):04X} "
        f"(character {match.start() + 1}); it cannot be stored or shown."
    )


def has_control_character(value: str) -> bool:
    """True when ``value`` holds any control character (tab and newline included)."""
    return _ANY_CONTROL.search(value) is not None


def validate_text(value) -> None:
    """Validator for a text field: refuse control characters other than tab, line feed and carriage return."""
    for item in value if isinstance(value, list | tuple) else [value]:
        if isinstance(item, str):
            message = control_character_message(item, text=True)
            if message:
                raise ValidationError(message, code=CODE)


def field_errors(items: Iterable[tuple[str, list[str]]], *, text: bool) -> dict[str, list[str]]:
    """``{name: [message]}`` for each field whose name or value holds a control character.

    ``items`` are ``(name, values)`` pairs, as ``QueryDict.lists()`` gives them. ``text=True``
    for submitted text (tab and newlines allowed), ``False`` for query parameters.
    """
    errors: dict[str, list[str]] = {}
    for name, values in items:
        if has_control_character(name):
            errors.setdefault("non_field_errors", []).append(
                "A field name contains an invisible control character; remove it."
            )
            continue
        for value in values:
            message = control_character_message(value, text=text) if isinstance(value, str) else None
            if message:
                errors[name] = [message]
                break
    return errors


def data_errors(data, *, max_depth: int) -> tuple[dict[str, list[str]], bool]:
    """Control characters in a parsed body (dicts, lists, strings) and whether it nests too deeply.

    Returns ``({field path: [message]}, too_deep)``. Field paths join keys with dots and list
    items by index (``"terms.clauses.0.text"``), as the API's error body does. String values
    are text (tab and newlines allowed); keys are names (no control character at all). The
    walk uses its own stack, so a deep body cannot exhaust Python's.
    """
    errors: dict[str, list[str]] = {}
    stack: list[tuple[object, str, int]] = [(data, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth >= max_depth:
                return errors, True
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and has_control_character(key):
                    errors.setdefault(path or "non_field_errors", []).append(
                        "A field name contains an invisible control character; remove it."
                    )
                    continue
                stack.append((item, f"{path}.{key}" if path else str(key), depth + 1))
        elif isinstance(value, str):
            message = control_character_message(value, text=True)
            if message:
                errors.setdefault(path or "non_field_errors", []).append(message)
    return errors, False


def printable(value: str) -> str:
    """``value`` with every control character but tab and newlines written out as ``\\xNN``.

    For what is recorded rather than refused: a probe's address or a refused sign-in is kept
    as evidence of what was sent, and a NUL could not be stored in PostgreSQL at all.
    """
    return _TEXT_CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", value)


def printable_data(value):
    """``printable`` applied to every string, key and value, of nested lists and dicts."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable_data(key): printable_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [printable_data(item) for item in value]
    return value
