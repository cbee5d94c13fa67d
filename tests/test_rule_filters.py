"""Every rule written as a filter (``accounts.permissions.rule_filter``) answers what its rule answers.

The action queue lists what a person may do now in SQL, through ``actionable``; the buttons of a
page ask ``can`` of one object the person can see (``scope``). Both must give the same answer for
every person and every row,
or a queue would offer what the page refuses (or hide what it offers). Checked here on the demo
world, with every role of every company, plus the states the demo leaves out (an extension
waiting for consent, failed deliveries).
"""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from accounts.permissions import actionable, can, rule_filters, scope
from assessments.models import AccessTicket, TicketStatus
from assessments.services import ticket_request_extension
from reminders.models import DeliveryStatus, Digest, Handoff, Reminder

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_world(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    # What the demo does not hold: an extension waiting for consent, and deliveries that failed.
    # (The demo's provisioned ticket ends before its case's window, so it can be extended.)
    ticket = AccessTicket.objects.get(status=TicketStatus.PROVISIONED)
    ticket_request_extension(
        actor=ticket.requested_by, ticket=ticket, until=ticket.ends_at + timedelta(days=1), reason="Two more suites."
    )
    Reminder.objects.filter(pk=Reminder.objects.order_by("pk").values("pk")[:1]).update(
        status=DeliveryStatus.FAILED, last_error="SMTP refused"
    )
    Digest.objects.create(
        recipient=User.objects.get(email="evaluator2@caisi.example"),
        kind=Digest.Kind.REMINDERS,
        day=timezone.localdate(),
        status=DeliveryStatus.FAILED,
        last_error="SMTP refused",
    )
    handoff = Handoff.objects.order_by("pk").first() or Handoff.objects.create(
        event_key="finding:1:released:test",
        recipient=User.objects.get(email="liaison@alpha-ai.example"),
        title="A finding was released to you",
        url="/findings/",
    )
    Handoff.objects.filter(pk=handoff.pk).update(status=DeliveryStatus.FAILED, last_error="SMTP refused")
    superuser = User.objects.create_superuser(email="root@caisi.example", password="x" * 20)  # noqa: S106
    return [*User.objects.filter(membership__isnull=False).order_by("pk"), superuser]


def test_every_rule_filter_gives_its_rule_s_answer_for_every_person_and_row(demo_world):
    filters = rule_filters()
    assert filters, "no rule has a filter form"
    checked = 0
    for action, label in sorted(filters):
        model = apps.get_model(label)
        rows = list(model._default_manager.all())
        assert rows, f"the demo world has no {label} to check {action} on"
        for user in demo_world:
            allowed = set(actionable(model._default_manager.all(), user, action).values_list("pk", flat=True))
            seen = set(scope(model._default_manager.all(), user).values_list("pk", flat=True))
            for row in rows:
                # A page asks the rule only of what the person can see (anything else is a 404).
                expected = row.pk in seen and can(user, action, row)
                assert (row.pk in allowed) == expected, (
                    f"{action} on {label} {row.pk} for {user.email}: filter says {row.pk in allowed}, "
                    f"rule (on what they see) says {expected}"
                )
                checked += 1
    assert checked > 1000


def test_an_action_without_a_filter_gives_no_rows(demo_world):
    admin = next(user for user in demo_world if user.is_superuser)
    assert not actionable(AccessTicket.objects.all(), admin, "ticket.no_such_action").exists()
    # A filter is registered per model: the same action on another model answers nothing.
    assert not actionable(Reminder.objects.all(), admin, "ticket.approve").exists()
