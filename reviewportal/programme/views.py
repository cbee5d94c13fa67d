"""The programme page and a company's engagement page: for those who run the programme only.

Who may open them is the policy's ``programme.view``; everyone else gets the same 404 as for a page
that does not exist (a liaison never learns the page is there). Recording a company's engagement
is ``organisation.engage`` (programme admins), checked again by the service.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts.models import EngagementChange, Organisation
from accounts.permissions import can, get_object_for, require
from accounts.services import organisation_engagement_change
from core.errors import RuleViolation
from core.forms import form_add_rule_violation
from reviewportal.programme import charts
from reviewportal.programme.forms import EngagementForm
from reviewportal.programme.selectors import HORIZON_DAYS, programme_overview


def _require_programme(request) -> None:
    if not can(request.user, "programme.view"):
        raise Http404("Not found.")


@login_required
def overview(request):
    _require_programme(request)
    data = programme_overview(user=request.user)
    case_links = [(row.assessment, row.assessment.get_absolute_url()) for row in data.cases]
    release_links = [(notice, notice.get_absolute_url()) for notice in data.releases]
    context = {
        "overview": data,
        "horizon_days": HORIZON_DAYS,
        "stage_chart": charts.stage_chart(data.stage_counts),
        "timeline": charts.timeline_chart(
            start=data.today, days=HORIZON_DAYS, cases=case_links, releases=release_links
        ),
        "severity_chart": charts.severity_chart(data.companies),
        "can_engage": can(request.user, "organisation.engage"),
    }
    return render(request, "programme/overview.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def engagement(request, public_id):
    _require_programme(request)
    company = get_object_for(
        request.user,
        Organisation.objects.filter(kind=Organisation.Kind.DEVELOPER).select_related("engagement_changed_by"),
        public_id=public_id,
    )
    can_engage = can(request.user, "organisation.engage", company)
    form = None
    if can_engage:
        form = EngagementForm(request.POST or None, organisation=company)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                organisation_engagement_change(
                    actor=request.user,
                    organisation=company,
                    stage=data["stage"],
                    disclosure_permitted=data["disclosure_permitted"],
                    note=data["note"],
                    request=request,
                )
            except RuleViolation as exc:
                form_add_rule_violation(form, exc)
            else:
                messages.success(request, f"{company.name}'s engagement was recorded.")
                return redirect(reverse("programme:engagement", kwargs={"public_id": company.public_id}))
    elif request.method == "POST":
        require(request.user, "organisation.engage", company, "Only programme admins record a company's engagement.")
    history = EngagementChange.objects.filter(organisation=company).select_related("changed_by")
    return render(
        request,
        "programme/engagement.html",
        {"company": company, "form": form, "history": history, "can_engage": can_engage},
    )
