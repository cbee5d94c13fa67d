"""My deadlines, notifications, settings and the personal calendar feed, as people see them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from django.urls import reverse
from icalendar import Calendar

from reminders.models import Notification, ReminderPreference
from reminders.services import calendar_token_issue, hash_calendar_token
from reminders.tests.factories import make_deadline
from tests.query_budgets import BUDGETS

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


def test_my_deadlines_lists_upcoming_and_overdue_with_days_left(client_for, evaluator, lead):
    with time_machine.travel(NOW, tick=False):
        make_deadline(due_at=NOW + timedelta(days=3, hours=2), recipients=[evaluator], title="Window of ASM-1 ends")
        make_deadline(due_at=NOW - timedelta(days=2), recipients=[evaluator], title="Response to FND-9 due")
        make_deadline(due_at=NOW + timedelta(days=1), recipients=[lead], title="Not for the evaluator")
        response = client_for(evaluator).get(reverse("reminders:my_deadlines"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Window of ASM-1 ends" in page and "4 days" in page
    assert "Response to FND-9 due" in page and "Overdue" in page
    assert "1 deadline is overdue" in page
    assert "Not for the evaluator" not in page


def test_my_deadlines_filters_overdue(client_for, evaluator):
    with time_machine.travel(NOW, tick=False):
        make_deadline(due_at=NOW + timedelta(days=3), recipients=[evaluator], title="Later one")
        make_deadline(due_at=NOW - timedelta(days=2), recipients=[evaluator], title="Late one")
        page = client_for(evaluator).get(reverse("reminders:my_deadlines") + "?show=overdue").content.decode()
    assert "Late one" in page and "Later one" not in page


def test_my_deadlines_query_count_does_not_grow_with_rows(client_for, evaluator, django_assert_max_num_queries):
    with time_machine.travel(NOW, tick=False):
        for i in range(25):
            make_deadline(due_at=NOW + timedelta(days=i), recipients=[evaluator], title=f"Deadline {i}")
        client = client_for(evaluator)
        with django_assert_max_num_queries(BUDGETS["reminders:my_deadlines"]["evaluator"]):
            response = client.get(reverse("reminders:my_deadlines"))
    assert response.content.decode().count("Deadline ") >= 25


def test_liaison_sees_only_their_own_deadlines(client_for, liaison_a, liaison_b, company_a):
    make_deadline(due_at=NOW, recipients=[liaison_a], organisation=company_a, title="Company A signs")
    page = client_for(liaison_b).get(reverse("reminders:my_deadlines")).content.decode()
    assert "Company A signs" not in page
    assert "You have no open deadlines" in page


def test_header_shows_unread_count_and_marking_read_clears_it(client_for, evaluator):
    Notification.objects.create(recipient=evaluator, title="Due in 3 days: window ends", url="/deadlines/")
    mine = Notification.objects.create(recipient=evaluator, title="Overdue: response due", url="/deadlines/")
    client = client_for(evaluator)
    page = client.get(reverse("reminders:notifications")).content.decode()
    assert 'aria-label="2 unread"' in page
    assert "Overdue: response due" in page

    response = client.post(reverse("reminders:notification_read", args=[mine.public_id]), {"open": "1"})
    assert response.status_code == 302 and response["Location"] == "/deadlines/"
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert 'aria-label="1 unread"' in client.get(reverse("reminders:notifications")).content.decode()

    client.post(reverse("reminders:notifications_read_all"))
    assert "unread" not in client.get(reverse("dashboard")).content.decode().split("<main")[0]


def test_notification_link_never_leaves_the_portal(client_for, evaluator):
    n = Notification.objects.create(recipient=evaluator, title="x", url="https://evil.example/")
    response = client_for(evaluator).post(reverse("reminders:notification_read", args=[n.public_id]), {"open": "1"})
    assert response["Location"] == reverse("reminders:notifications")


def test_someone_elses_notification_is_not_found(client_for, evaluator, lead):
    n = Notification.objects.create(recipient=lead, title="For the lead")
    response = client_for(evaluator).post(reverse("reminders:notification_read", args=[n.public_id]))
    assert response.status_code == 404
    n.refresh_from_db()
    assert n.read_at is None


def test_settings_form_saves_the_email_preference(client_for, evaluator):
    client = client_for(evaluator)
    response = client.post(reverse("reminders:preferences"), {"email": "digest"})
    assert response.status_code == 302
    assert ReminderPreference.objects.get(user=evaluator).email == "digest"
    page = client.get(reverse("reminders:preferences")).content.decode()
    assert 'value="digest" checked' in page or 'value="digest"\n' in page or "checked" in page


def test_settings_form_rejects_an_unknown_choice_and_keeps_the_page(client_for, evaluator):
    response = client_for(evaluator).post(reverse("reminders:preferences"), {"email": "hourly"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not ReminderPreference.objects.filter(user=evaluator).exists()


def test_calendar_address_is_shown_once_and_stored_hashed(client_for, evaluator):
    client = client_for(evaluator)
    response = client.post(reverse("reminders:calendar_token_create"))
    page = response.content.decode()
    assert response["Cache-Control"] == "no-store"
    feed_prefix = "http://testserver/deadlines/calendar/"
    start = page.index(feed_prefix)
    url = page[start : page.index('"', start)]
    token = url.removeprefix(feed_prefix).removesuffix(".ics")
    preference = ReminderPreference.objects.get(user=evaluator)
    assert preference.calendar_token_hash == hash_calendar_token(token) != token
    assert token not in client.get(reverse("reminders:preferences")).content.decode()


def test_calendar_feed_is_valid_icalendar_with_only_the_owners_deadlines(client, evaluator, lead):
    with time_machine.travel(NOW, tick=False):
        mine = make_deadline(due_at=NOW + timedelta(days=3), recipients=[evaluator], title="Window of ASM-1 ends")
        make_deadline(due_at=NOW + timedelta(days=4), recipients=[lead], title="The lead's own")
    token = calendar_token_issue(user=evaluator)

    response = client.get(reverse("reminders:calendar_feed", kwargs={"token": token}))  # no session
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    events = list(calendar.walk("VEVENT"))
    assert [str(e["SUMMARY"]) for e in events] == ["Assessment window ends: Window of ASM-1 ends"]
    assert events[0]["UID"] == f"{mine.public_id}@review-portal"
    assert events[0].decoded("DTSTART") == NOW + timedelta(days=3)
    assert str(events[0]["URL"]).endswith("/assessments/ASM-2026-0001/")


def test_revoked_or_replaced_calendar_address_stops_working(client_for, client, evaluator):
    old = calendar_token_issue(user=evaluator)
    new = calendar_token_issue(user=evaluator)
    assert client.get(reverse("reminders:calendar_feed", kwargs={"token": old})).status_code == 404
    assert client.get(reverse("reminders:calendar_feed", kwargs={"token": new})).status_code == 200
    client_for(evaluator).post(reverse("reminders:calendar_token_revoke"))
    client.logout()
    assert client.get(reverse("reminders:calendar_feed", kwargs={"token": new})).status_code == 404


def test_calendar_feed_of_a_deactivated_person_is_gone(client, evaluator):
    token = calendar_token_issue(user=evaluator)
    evaluator.is_active = False
    evaluator.save()
    assert client.get(reverse("reminders:calendar_feed", kwargs={"token": token})).status_code == 404


def test_notification_list_query_count_does_not_grow_with_rows(client_for, evaluator, django_assert_max_num_queries):
    Notification.objects.bulk_create(
        [Notification(recipient=evaluator, title=f"Reminder {i}", url="/deadlines/") for i in range(25)]
    )
    client = client_for(evaluator)
    with django_assert_max_num_queries(BUDGETS["reminders:notifications"]["evaluator"]):
        response = client.get(reverse("reminders:notifications"))
    assert response.content.decode().count("Reminder ") >= 25
