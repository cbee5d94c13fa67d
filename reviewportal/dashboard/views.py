"""The dashboard page."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from accounts.permissions import actor_for
from reviewportal.dashboard.queue import action_queue_for
from reviewportal.dashboard.selectors import dashboard_for


@login_required
def dashboard(request):
    actor = actor_for(request.user)
    queue = action_queue_for(request.user)
    # The header's badge reads the counts just taken rather than asking again.
    request.action_queue_counts = queue.counts
    return render(
        request,
        "dashboard.html",
        {
            "actor": actor,
            "queue": queue,
            "panels": dashboard_for(request.user),
            "membership": request.user.membership_or_none,
        },
    )
