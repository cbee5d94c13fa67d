"""The deadlines and notifications API: scoped reads, personal notifications, mark read."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from reminders.models import Notification
from reminders.tests.factories import make_deadline


def test_deadline_list_is_scoped_to_the_caller(client_for, evaluator, liaison_b, admin_user):
    mine = make_deadline(due_at=timezone.now() + timedelta(days=2), recipients=[evaluator], title="Mine")
    make_deadline(due_at=timezone.now() + timedelta(days=2), recipients=[liaison_b], title="Company B's")

    body = client_for(evaluator).get("/api/v1/deadlines/").json()
    assert [d["title"] for d in body["results"]] == ["Mine"]
    assert body["results"][0]["id"] == str(mine.public_id)
    assert "owner_id" not in body["results"][0]

    assert {d["title"] for d in client_for(admin_user).get("/api/v1/deadlines/").json()["results"]} == {
        "Mine",
        "Company B's",
    }


def test_deadline_of_another_company_is_404(client_for, liaison_a, liaison_b):
    theirs = make_deadline(due_at=timezone.now(), recipients=[liaison_b])
    assert client_for(liaison_a).get(f"/api/v1/deadlines/{theirs.public_id}/").status_code == 404


def test_deadlines_are_read_only(client_for, admin_user):
    deadline = make_deadline(due_at=timezone.now(), recipients=[admin_user])
    response = client_for(admin_user).patch(
        f"/api/v1/deadlines/{deadline.public_id}/", {"title": "typed"}, content_type="application/json"
    )
    assert response.status_code in (403, 405)  # refused by the policy (unmapped write) before the method check
    deadline.refresh_from_db()
    assert deadline.title != "typed"


def test_notifications_list_only_mine_and_filter_unread(client_for, evaluator, lead):
    Notification.objects.create(recipient=evaluator, title="Read one", read_at=timezone.now())
    Notification.objects.create(recipient=evaluator, title="Unread one")
    Notification.objects.create(recipient=lead, title="The lead's")
    client = client_for(evaluator)
    assert sorted(n["title"] for n in client.get("/api/v1/notifications/").json()["results"]) == [
        "Read one",
        "Unread one",
    ]
    assert [n["title"] for n in client.get("/api/v1/notifications/?unread=1").json()["results"]] == ["Unread one"]


def test_mark_notification_read_and_all_read(client_for, evaluator, lead):
    first = Notification.objects.create(recipient=evaluator, title="First")
    Notification.objects.create(recipient=evaluator, title="Second")
    theirs = Notification.objects.create(recipient=lead, title="The lead's")
    client = client_for(evaluator)

    response = client.post(f"/api/v1/notifications/{first.public_id}/read/")
    assert response.status_code == 200 and response.json()["is_unread"] is False
    assert client.post(f"/api/v1/notifications/{theirs.public_id}/read/").status_code == 404

    assert client.post("/api/v1/notifications/read-all/").json() == {"marked_read": 1}
    assert not Notification.objects.filter(recipient=evaluator, read_at__isnull=True).exists()
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_deadline_filter_by_due_date_accepts_any_offset_and_normalises_it(client_for, evaluator):
    soon = make_deadline(due_at=timezone.now() + timedelta(days=1), recipients=[evaluator], title="Soon")
    make_deadline(due_at=timezone.now() + timedelta(days=40), recipients=[evaluator], title="Later")
    before = (timezone.now() + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%S-18:32")
    response = client_for(evaluator).get("/api/v1/deadlines/", {"due_before": before})
    assert response.status_code == 200
    assert [d["id"] for d in response.json()["results"]] == [str(soon.public_id)]
    assert client_for(evaluator).get("/api/v1/deadlines/", {"due_before": "not a date"}).status_code == 400
