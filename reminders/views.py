"""Pages of the reminders app: my deadlines, notifications, preferences and the calendar feed."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import get_object_for, require
from reminders import selectors, services
from reminders.forms import PreferenceForm
from reminders.models import Notification

SHOW_CHOICES = {"all": "All open", "upcoming": "Upcoming", "overdue": "Overdue"}


@login_required
@require_GET
def my_deadlines(request):
    require(request.user, "nav.deadlines")
    show = request.GET.get("show", "all")
    if show not in SHOW_CHOICES:
        show = "all"
    listing = selectors.my_deadlines(user=request.user, show=show, page=request.GET.get("page"))
    return render(
        request,
        "reminders/my_deadlines.html",
        {
            "page_obj": listing.page_obj,
            "rows": listing.rows,
            "show": show,
            "show_choices": SHOW_CHOICES,
            "query_string": urlencode({"show": show}),
            "overdue_count": listing.overdue_count,
        },
    )


@login_required
@require_GET
def notification_list(request):
    require(request.user, "nav.deadlines")
    unread_only = request.GET.get("unread") == "1"
    page_obj = Paginator(selectors.notifications_for(request.user, unread_only=unread_only), 25).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "reminders/notification_list.html",
        {
            "page_obj": page_obj,
            "notifications": page_obj.object_list,
            "unread_only": unread_only,
            "query_string": "unread=1" if unread_only else "",
        },
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
