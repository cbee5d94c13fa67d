"""Release-notice pages: record an upcoming covered release, read it, move its planned date.

Each view fetches through the policy, parses a form, calls one service, renders.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from accounts.permissions import can, get_object_for
from agreements.forms import ReleaseDateForm, ReleaseNoticeForm
from agreements.models import Agreement, ReleaseNotice
from agreements.services.release_notices import release_notice_move_date, release_notice_record
from core.errors import RuleViolation, TransitionNotAllowed
from core.forms import form_add_rule_violation


def _notice(request, reference: str, action: str | None = None) -> ReleaseNotice:
    return get_object_for(
        request.user,
        ReleaseNotice.objects.select_related("agreement", "organisation", "lead", "recorded_by"),
        action,
        reference=reference,
    )


@login_required
@require_GET
def release_notice_detail(request, reference: str):
    notice = _notice(request, reference, "release_notice.view")
    return render(
        request,
        "agreements/release_notice.html",
        {
            "notice": notice,
            "agreement": notice.agreement,
            "can_move_date": can(request.user, "release_notice.move_date", notice),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def release_notice_create(request, reference: str):
    agreement = get_object_for(
        request.user, Agreement.objects.select_related("organisation"), "release_notice.record", reference=reference
    )
    form = ReleaseNoticeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            notice = release_notice_record(
                actor=request.user,
                agreement=agreement,
                model_name=data["model_name"],
                model_version=data.get("model_version") or "",
                planned_release_date=data["planned_release_date"],
                notice_given_on=data["notice_given_on"],
                lead=data.get("lead"),
                notes=data.get("notes") or "",
                request=request,
            )
        except RuleViolation as exc:
            form_add_rule_violation(form, exc)
        else:
            if notice.is_late:
                messages.warning(
                    request,
                    f"Notice of {notice.model_name} was recorded as late: {notice.notice_days_given} days given, "
                    f"{notice.notice_days_required} agreed.",
                )
            else:
                messages.success(request, f"Notice of {notice.model_name} was recorded.")
            return redirect(notice.get_absolute_url())
    return render(
        request,
        "agreements/form.html",
        {"form": form, "agreement": agreement, "heading": "Record a release notice", "submit": "Record notice"},
    )


@login_required
@require_http_methods(["GET", "POST"])
def release_notice_move(request, reference: str):
    notice = _notice(request, reference, "release_notice.move_date")
    form = ReleaseDateForm(request.POST or None, initial={"planned_release_date": notice.planned_release_date})
    if request.method == "POST" and form.is_valid():
        try:
            notice = release_notice_move_date(
                actor=request.user,
                notice=notice,
                planned_release_date=form.cleaned_data["planned_release_date"],
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except TransitionNotAllowed as exc:
            messages.error(request, str(exc))
            return redirect(notice.get_absolute_url())
        except RuleViolation as exc:
            form_add_rule_violation(form, exc)
        else:
            messages.success(request, f"The planned release is now {notice.planned_release_date:%d %B %Y}.")
            return redirect(notice.get_absolute_url())
    return render(
        request,
        "agreements/form.html",
        {
            "form": form,
            "agreement": notice.agreement,
            "heading": f"Move the planned release of {notice.model_name}",
            "submit": "Move the date",
        },
    )
