"""The dashboard page."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from accounts.permissions import actor_for
from reviewportal.dashboard.selectors import dashboard_for


@login_required
def dashboard(request):
    actor = actor_for(request.user)
    return render(
        request,
        "dashboard.html",
        {"actor": actor, "panels": dashboard_for(request.user), "membership": request.user.membership_or_none},
    )
