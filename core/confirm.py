"""A step that cannot be undone is confirmed on its own page first.

The page (GET) says what follows; its form carries ``CONFIRM_FIELD``. A POST without it, such as
a stale one-click button or a request made by hand, changes nothing and shows the page again,
so no script is needed for the confirmation to hold.
"""

from __future__ import annotations

CONFIRM_FIELD = "confirmed"
CONFIRM_VALUE = "yes"


def is_confirmed(request) -> bool:
    """True for a POST sent from a confirmation page's form (it carries the field; its value is not
    read, so a mangled value is judged by the form's own checks rather than silently ignored)."""
    return request.method == "POST" and CONFIRM_FIELD in request.POST
