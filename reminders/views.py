"""Pages of the reminders app: my deadlines, notifications, preferences and the calendar feed."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import get_object_for, require
from audit.exports import csv_export_response
from core.lists import list_context, valid_filters
from reminders import selectors, services
from reminders.forms import DeadlineFilterForm, NotificationFilterForm, PreferenceForm
from reminders.models import Notification


def _deadline_filters(request) -> tuple[DeadlineFilterForm, dict]:
    require(request.user, "nav.deadlines")
    form = DeadlineFilterForm(request.GET or None)
    filters = valid_filters(form)
    return form, {
        "show": filters.get("show") or "all",
        "q": filters.get("q") or "",
        "sort": request.GET.get("sort", ""),
    }


@login_required
@require_GET
def my_deadlines(request):
    form, filters = _deadline_filters(request)
    listing = selectors.my_deadlines(user=request.user, page=request.GET.get("page"), **filters)
    context = list_context(
        request,
        None,
        sorts=selectors.DEADLINE_SORTS,
        form=form,
        per_page=0,
        page_obj=listing.page_obj,
        export_url=reverse("reminders:my_deadlines_export"),
        clear_url=reverse("reminders:my_deadlines"),
        noun="deadline",
        filter_fields=["q", "show"],
    )
    return render(
        request,
        "reminders/my_deadlines.html",
        {
            **context,
            "rows": listing.rows,
            "show": filters["show"],
            "overdue_count": listing.overdue_count,
            "overdue_display": listing.overdue_display,
        },
    )


DEADLINE_EXPORT_COLUMNS = [
    ("Due", lambda d: d.due_at),
    ("Days left", lambda d: selectors.days_until(d.due_at, timezone.now())),
    ("What", lambda d: d.title),
    ("Kind", lambda d: d.get_kind_display()),
    ("Company", lambda d: d.organisation.name if d.organisation else ""),
    ("Link", lambda d: d.url),
]


@login_required
@require_GET
def my_deadlines_export(request):
    _, filters = _deadline_filters(request)
    rows = selectors.my_deadline_rows(user=request.user, **filters).select_related("organisation")
    return csv_export_response(request, rows, DEADLINE_EXPORT_COLUMNS, what="My deadlines", filename="my-deadlines")


def _notification_filters(request) -> tuple[NotificationFilterForm, dict]:
    require(request.user, "nav.deadlines")
    form = NotificationFilterForm(request.GET or None)
    filters = valid_filters(form)
    return form, {
        "unread_only": bool(filters.get("unread")),
        "q": filters.get("q") or "",
        "sort": request.GET.get("sort", ""),
    }


@login_required
@require_GET
def notification_list(request):
    form, filters = _notification_filters(request)
    context = list_context(
        request,
        selectors.notifications_for(request.user, **filters),
        sorts=selectors.NOTIFICATION_SORTS,
        form=form,
        per_page=25,
        export_url=reverse("reminders:notifications_export"),
        clear_url=reverse("reminders:notifications"),
        noun="notification",
    )
    return render(
        request,
        "reminders/notification_list.html",
        {**context, "notifications": context["page_obj"].object_list, "unread_only": filters["unread_only"]},
    )


NOTIFICATION_EXPORT_COLUMNS = [
    ("Received", lambda n: n.created_at),
    ("Title", lambda n: n.title),
    ("Message", lambda n: n.body),
    ("Read", lambda n: n.read_at),
    ("Link", lambda n: n.url),
]


@login_required
@require_GET
def notification_export(request):
    _, filters = _notification_filters(request)
    rows = selectors.notifications_for(request.user, **filters)
    return csv_export_response(
        request, rows, NOTIFICATION_EXPORT_COLUMNS, what="my notifications", filename="notifications"
    )


@login_required
@require_POST
def notification_read(request, public_id):
    notification = get_object_for(
        request.user, Notification.objects.all(), action="notification.read", public_id=public_id
    )
    services.notification_mark_read(user=request.user, notification=notification)
    # Follow the notification to the thing to act on, but only within the portal.
    target = notification.url if request.POST.get("open") == "1" else ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("reminders:notifications")


@login_required
@require_POST
def notification_read_all(request):
    changed = services.notification_mark_all_read(user=request.user)
    messages.success(request, f"{changed} notification{'s' if changed != 1 else ''} marked read.")
    return redirect("reminders:notifications")


@login_required
def preferences(request):
    require(request.user, "reminder_preference.edit", request.user)
    preference = selectors.preference_of(request.user)
    form = PreferenceForm(request.POST or None, initial={"email": preference.email})
    if request.method == "POST" and form.is_valid():
        services.preference_update(user=request.user, email=form.cleaned_data["email"], request=request)
        messages.success(request, "Your reminder settings were saved.")
        return redirect("reminders:preferences")
    return render(
        request,
        "reminders/preferences.html",
        {"form": form, "preference": preference, "offsets": settings.REMINDER_OFFSETS_DAYS},
    )


@login_required
@require_POST
def calendar_token_create(request):
    token = services.calendar_token_issue(user=request.user, request=request)
    feed_url = request.build_absolute_uri(reverse("reminders:calendar_feed", kwargs={"token": token}))
    # Shown once, on this response only: only its hash is stored, so it cannot be shown again.
    response = render(request, "reminders/calendar_token.html", {"feed_url": feed_url})
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def calendar_token_revoke(request):
    if services.calendar_token_revoke(user=request.user, request=request):
        messages.success(request, "Your calendar feed address no longer works. Calendar programs will stop updating.")
    else:
        messages.info(request, "You had no calendar feed address.")
    return redirect("reminders:preferences")


@require_GET
def calendar_feed(request, token: str):
    """The personal iCalendar feed: no session, the secret token in the address is the key."""
    user = selectors.user_for_calendar_token(token)
    if user is None:
        raise Http404("Unknown or revoked calendar address.")
    response = HttpResponse(selectors.calendar_feed(user), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="review-portal-deadlines.ics"'
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response
