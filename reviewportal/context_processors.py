"""Role-aware navigation: each entry is shown only when the policy allows it.

It links every domain app and counts the header's notification badge, so it belongs to the
composition root.
"""

from __future__ import annotations

from django.urls import reverse

from accounts.permissions import actor_for, can
from reminders.services import notifications_open_page
from reviewportal.dashboard.queue import action_queue_count

# (label, url name, policy action).
NAV_ITEMS: list[tuple[str, str, str]] = [
    ("Agreements", "agreements:list", "nav.agreements"),
    ("Submissions", "assessments:submission_list", "nav.submissions"),
    ("Assessments", "assessments:list", "nav.assessments"),
    ("Model access", "assessments:ticket_list", "nav.tickets"),
    ("Findings", "findings:list", "nav.findings"),
    ("My deadlines", "reminders:my_deadlines", "nav.deadlines"),
    ("Programme", "programme:overview", "nav.programme"),
]


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if actor_for(user) is None:
        return {"nav_items": [], "show_admin_link": False, "unread_notifications": 0, "action_queue_count": 0}
    items = []
    current = request.path
    for label, url_name, action in NAV_ITEMS:
        if not can(user, action):
            continue
        url = reverse(url_name)
        items.append({"label": label, "url": url, "current": current.startswith(url)})
    return {
        "nav_items": items,
        "show_admin_link": can(user, "admin.access"),
        # What the person can act on now, beside Dashboard: one query, a subquery per kind of work.
        "action_queue_count": action_queue_count(request),
        # One indexed COUNT per page for the header's notification badge; opening a record's page
        # first marks the person's notifications about that record read (an UPDATE only when some
        # are unread).
        "unread_notifications": notifications_open_page(user=user, path=request.path),
    }
