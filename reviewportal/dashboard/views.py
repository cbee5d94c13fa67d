"""The dashboard page."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from accounts.permissions import actor_for
from reviewportal.dashboard.queue import dashboard_queue
from reviewportal.dashboard.selectors import dashboard_for


@login_required
def dashboard(request):
    actor = actor_for(request.user)
    queue, queue_read_at = dashboard_queue(request.user)
    # The header's badge reads the counts just taken rather than asking again.
    request.action_queue_counts = queue.counts
    return render(
        request,
        "dashboard.html",
        {
            "actor": actor,
            "queue": queue,
            "queue_read_at": queue_read_at,
            "panels": dashboard_for(request.user),
            "membership": request.user.membership_or_none,
        },
    )
