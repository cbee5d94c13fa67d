"""Pages of the assessments app: submissions, cases and model-access tickets.

Views are thin: they fetch through the permission policy (unseen → 404,
refused → 403), parse a form, call one service and render. A service's
refusal is shown on the bound form, so nothing typed is lost.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.formats import date_format
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import can, get_object_for, require, scope
from agreements.models import Agreement
from agreements.states import AgreementStatus
from assessments import selectors, services
from assessments.actions import assessment_actions_for, next_step, ticket_actions_for, ticket_lifecycle
from assessments.forms import (
    AssessmentFilterForm,
    AssessmentForm,
    CloseForm,
    ExtensionDecisionForm,
    ExtensionRequestForm,
    OutcomeAcknowledgeForm,
    ReasonForm,
    SubmissionFilterForm,
    SubmissionForm,
    TicketApproveForm,
    TicketFilterForm,
    TicketProvisionForm,
    TicketRequestForm,
)
from assessments.models import AccessTicket, Assessment, ModelSubmission
from assessments.services.tickets import ticket_revoke_consequence, ticket_revoke_refusal
from assessments.states import ACKNOWLEDGE_OUTCOME, ADVANCE_MOVES, ASSESSMENT_MOVES, AssessmentStatus
from audit.exports import csv_export_response
from core.choices import RiskDomain
from core.confirm import is_confirmed
from core.errors import RuleViolation
from core.forms import form_add_rule_violation
from core.lists import list_context, valid_filters


def _local(moment) -> str:
    """A time in the viewer's own zone, in the format the pages use, with the zone named."""
    return date_format(timezone.localtime(moment), "j M Y, H:i T")


def _next_minute(moment):
    """Round up to the minute: the date-time inputs drop seconds, and rounding down would fall before the window."""
    if moment is None or (moment.second == 0 and moment.microsecond == 0):
        return moment
    return moment.replace(second=0, microsecond=0) + timedelta(minutes=1)


PAGE_SIZE = 25


def _assessment(request, reference: str, action: str | None = None) -> Assessment:
    qs = Assessment.objects.select_related(
        "submission__organisation", "submission__agreement", "submission__release_notice", "lead"
    )
    return get_object_for(request.user, qs, action, reference=reference)


def _ticket(request, reference: str, action: str | None = None) -> AccessTicket:
    qs = AccessTicket.objects.select_related(
        "assessment__submission__organisation", "assessment__submission__agreement", "requested_by", "decided_by"
    )
    return get_object_for(request.user, qs, action, reference=reference)


def _form_page(
    request,
    *,
    form,
    call: Callable[[Any], Any],
    title: str,
    success: str,
    back_url: str,
    intro: str = "",
    submit_label: str = "Save",
    context: dict | None = None,
):
    """GET shows ``form``; a valid POST calls the service; a refusal re-renders the bound form."""
    if request.method == "POST" and form.is_valid():
        try:
            result = call(form.cleaned_data)
        except RuleViolation as exc:
            form_add_rule_violation(form, exc)
        else:
            messages.success(request, success)
            return redirect(result.get_absolute_url() if hasattr(result, "get_absolute_url") else back_url)
    return render(
        request,
        "assessments/form_page.html",
        {
            "form": form,
            "title": title,
            "intro": intro,
            "back_url": back_url,
            "submit_label": submit_label,
            **(context or {}),
        },
    )


def _on(request, service: Callable[..., Any], **target: Any) -> Callable[[dict], Any]:
    """The service call behind a form: the form's data, plus who acts, on what, from which request."""
    return lambda data: service(actor=request.user, request=request, **target, **data)


def _case_form_page(request, assessment: Assessment, **page: Any):
    """A form page of an action on a case: it goes back to the case and shows its header."""
    return _form_page(request, back_url=assessment.get_absolute_url(), context={"assessment": assessment}, **page)


def _ticket_form_page(request, ticket: AccessTicket, *, context: dict | None = None, **page: Any):
    """A form page of an action on a ticket: it goes back to the ticket and shows it and its case."""
    context = {"ticket": ticket, "assessment": ticket.assessment, **(context or {})}
    return _form_page(request, back_url=ticket.get_absolute_url(), context=context, **page)


# --- Submissions -------------------------------------------------------------------


def _submission_rows(request):
    form = SubmissionFilterForm(request.GET or None)
    filters = valid_filters(form)
    qs = selectors.submission_list(user=request.user, q=filters.get("q") or "", sort=request.GET.get("sort", ""))
    return form, qs


@login_required
def submission_list(request):
    form, qs = _submission_rows(request)
    context = list_context(
        request,
        qs,
        sorts=selectors.SUBMISSION_SORTS,
        form=form,
        per_page=PAGE_SIZE,
        export_url=reverse("assessments:submission_export"),
        clear_url=reverse("assessments:submission_list"),
        noun="submission",
    )
    return render(
        request,
        "assessments/submission_list.html",
        {**context, "q": form["q"].value() or "", "can_submit": can(request.user, "submission.create")},
    )


SUBMISSION_EXPORT_COLUMNS = [
    ("Reference", lambda s: s.reference),
    ("Model", lambda s: s.model_name),
    ("Version", lambda s: s.model_version),
    ("Company", lambda s: s.organisation.name),
    ("Modalities", lambda s: ", ".join(s.modality_labels)),
    ("Planned release", lambda s: s.intended_release_date),
    ("Assessments", lambda s: s.n_assessments),
    ("Submitted", lambda s: s.created_at),
]


@login_required
@require_GET
def submission_export(request):
    _, qs = _submission_rows(request)
    return csv_export_response(
        request, qs, SUBMISSION_EXPORT_COLUMNS, what="the model submissions list", filename="submissions"
    )


@login_required
def submission_create(request):
    require(request.user, "submission.create", message="Only a company liaison submits models.")
    form = SubmissionForm(request.POST or None, user=request.user)
    # The service refuses a submission without an active agreement: say so before the form is filled.
    has_active = scope(Agreement.objects.filter(status=AgreementStatus.ACTIVE), request.user).exists()
    return _form_page(
        request,
        form=form,
        call=lambda d: services.submission_create(actor=request.user, request=request, **d),
        title="Submit a model for assessment",
        intro="Offer a covered frontier model for pre-release assessment under your organisation's active agreement.",
        success="Your model was submitted. The centre will schedule the assessment.",
        back_url=reverse("assessments:submission_list"),
        submit_label="Submit model",
        context={"needs_active_agreement": not has_active},
    )


@login_required
def submission_detail(request, reference: str):
    submission = get_object_for(
        request.user,
        ModelSubmission.objects.select_related("organisation", "agreement", "release_notice", "withdrawn_by"),
        reference=reference,
    )
    assessments = selectors.assessment_list(user=request.user).filter(submission=submission)
    return render(
        request,
        "assessments/submission_detail.html",
        {
            "submission": submission,
            "assessments": assessments,
            "can_open_case": not submission.is_withdrawn and can(request.user, "assessment.create"),
            "can_withdraw": can(request.user, "submission.withdraw", submission),
        },
    )


@login_required
def submission_withdraw(request, reference: str):
    submission = get_object_for(
        request.user, ModelSubmission.objects.select_related("organisation"), "submission.withdraw", reference=reference
    )
    form = ReasonForm(request.POST or None)
    return _form_page(
        request,
        form=form,
        call=_on(request, services.submission_withdraw, submission=submission),
        title=f"Withdraw {submission.reference}",
        intro=(
            "Participation is voluntary: you may take the model back until its assessment starts. A case still "
            "scheduled or waiting for access is withdrawn with it, and the centre sees your reason."
        ),
        success="Your submission was withdrawn.",
        back_url=submission.get_absolute_url(),
        submit_label="Withdraw submission",
    )


# --- Assessments ---------------------------------------------------------------------


def _assessment_rows(request):
    form = AssessmentFilterForm(request.GET or None)
    filters = valid_filters(form)
    qs = selectors.assessment_list(
        user=request.user,
        status=filters.get("status") or "",
        q=filters.get("q") or "",
        sort=request.GET.get("sort", ""),
    )
    return form, qs


@login_required
def assessment_list(request):
    form, qs = _assessment_rows(request)
    context = list_context(
        request,
        qs,
        sorts=selectors.ASSESSMENT_SORTS,
        form=form,
        per_page=PAGE_SIZE,
        export_url=reverse("assessments:export"),
        clear_url=reverse("assessments:list"),
        noun="assessment",
    )
    return render(
        request,
        "assessments/assessment_list.html",
        {**context, "can_create": can(request.user, "assessment.create")},
    )


ASSESSMENT_EXPORT_COLUMNS = [
    ("Reference", lambda a: a.reference),
    ("Model", lambda a: str(a.submission)),
    ("Company", lambda a: a.submission.organisation.name),
    ("Lead", lambda a: a.lead.full_name or a.lead.email),
    ("Window start", lambda a: a.window_start),
    ("Window end", lambda a: a.window_end),
    ("Status", lambda a: a.get_status_display()),
]


@login_required
@require_GET
def assessment_export(request):
    _, qs = _assessment_rows(request)
    return csv_export_response(
        request, qs, ASSESSMENT_EXPORT_COLUMNS, what="the assessments list", filename="assessments"
    )


@login_required
def assessment_create(request):
    require(request.user, "assessment.create", message="Only lead evaluators open assessments.")
    initial = {}
    wanted = request.GET.get("submission")
    if wanted:
        initial["submission"] = ModelSubmission.objects.filter(reference=wanted).values_list("pk", flat=True).first()
    form = AssessmentForm(request.POST or None, user=request.user, initial=initial)
    return _form_page(
        request,
        form=form,
        call=lambda d: services.assessment_create(
            actor=request.user,
            request=request,
            submission=d["submission"],
            lead=d.get("lead"),
            team=list(d["team"]),
            risk_domains=d["risk_domains"],
            window_start=d["window_start"],
            window_end=d["window_end"],
            internal_notes=d["internal_notes"],
            window_after_release_reason=d.get("window_after_release_reason") or "",
        ),
        title="Open an assessment",
        intro="Choose the submission, the team and the risk domains, and schedule the access window.",
        success="The assessment was opened.",
        back_url=reverse("assessments:list"),
        submit_label="Open assessment",
    )


# The case page lists this many of the case's tickets, newest first; the tickets list has them all.
CASE_PAGE_TICKETS = 10


@login_required
def assessment_detail(request, reference: str):
    assessment = _assessment(request, reference)
    user = request.user
    # Read once: the table shows the newest, the timeline dates them all.
    tickets = selectors.case_tickets(user=user, assessment=assessment)
    whole_timeline = request.GET.get("timeline") == "all"
    return render(
        request,
        "assessments/assessment_detail.html",
        {
            "assessment": assessment,
            "team": assessment.team.all(),
            "risk_domain_labels": [
                RiskDomain(d).label if d in RiskDomain.values else d for d in assessment.risk_domains
            ],
            "now": timezone.now(),
            "tickets": tickets[:CASE_PAGE_TICKETS],
            "tickets_total": len(tickets),
            "timeline": selectors.case_timeline(
                user=user, assessment=assessment, tickets=tickets, whole=whole_timeline
            ),
            "whole_timeline": whole_timeline,
            "days_left": selectors.days_left(assessment),
            # The window the agreement allows as amended (an amendment may change it).
            "window_limit": services.window_limit_days(assessment.submission.agreement),
            "next_step": next_step(assessment),
            **assessment_actions_for(user=user, assessment=assessment),
        },
    )


@login_required
def assessment_edit(request, reference: str):
    assessment = _assessment(request, reference, "assessment.manage")
    initial = {
        "team": list(assessment.team.all()),
        "risk_domains": assessment.risk_domains,
        "window_start": assessment.window_start,
        "window_end": assessment.window_end,
        "internal_notes": assessment.internal_notes,
        "window_after_release_reason": assessment.window_after_release_reason,
    }
    form = AssessmentForm(request.POST or None, user=request.user, assessment=assessment, initial=initial)
    return _case_form_page(
        request,
        assessment,
        form=form,
        call=lambda d: services.assessment_update(
            actor=request.user, assessment=assessment, request=request, **{**d, "team": list(d["team"])}
        ),
        title=f"Change the plan of {assessment.reference}",
        success="The case plan was saved.",
    )


# What each plain step forward means, said on its confirmation page before it is taken.
ADVANCE_CONSEQUENCES = {
    "await_access": (
        "The team is ready: the case waits for the company to provide model access.",
        "The team can still request access, and the company's liaisons see the case as waiting for access.",
    ),
    "start": (
        "Testing begins: the case is shown as in progress to the team and to the company.",
        "Model access requested and provided so far stays as it is.",
    ),
    "start_reporting": (
        "Testing is over: the team writes up. The case is shown as reporting to the team and to the company.",
        "Findings can still be recorded, reviewed and released. The next step is completing the case "
        "with an outcome, which ends every open model-access ticket.",
    ),
}


@login_required
@require_http_methods(["GET", "POST"])
def assessment_advance(request, reference: str):
    """GET: the next step forward and what follows from it. POST from that page: take the step.

    A POST without the page's confirmation (a stale one-click button) changes nothing.
    """
    assessment = _assessment(request, reference, "assessment.transition")
    if is_confirmed(request):
        try:
            services.assessment_advance(
                actor=request.user, assessment=assessment, to_status=request.POST.get("to_status", ""), request=request
            )
        except RuleViolation as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "The case moved on.")
        return redirect(assessment.get_absolute_url())
    step = next((name for name in ADVANCE_MOVES if ASSESSMENT_MOVES[name].starts_from(assessment.status)), None)
    if step is None:
        messages.error(
            request,
            f"{assessment.reference} is {assessment.get_status_display().lower()}: there is no plain step forward"
            + (" (completing needs an outcome)." if assessment.status == AssessmentStatus.REPORTING else "."),
        )
        return redirect(assessment.get_absolute_url())
    move = ASSESSMENT_MOVES[step]
    return render(
        request,
        "assessments/advance_confirm.html",
        {
            "assessment": assessment,
            "move": move,
            "target_label": AssessmentStatus(move.target).label,
            "consequences": ADVANCE_CONSEQUENCES[step],
        },
    )


@login_required
def assessment_close(request, reference: str):
    assessment = _assessment(request, reference, "assessment.transition")
    form = CloseForm(request.POST or None)
    return _case_form_page(
        request,
        assessment,
        form=form,
        call=_on(request, services.assessment_close, assessment=assessment),
        title=f"Complete {assessment.reference}",
        intro="Record the outcome and the reasons for it. Open model access ends with the case.",
        success="The assessment was completed.",
        submit_label="Complete assessment",
    )


@login_required
def assessment_acknowledge_outcome(request, reference: str):
    assessment = _assessment(request, reference, ACKNOWLEDGE_OUTCOME)
    form = OutcomeAcknowledgeForm(request.POST or None)
    return _case_form_page(
        request,
        assessment,
        form=form,
        call=_on(request, services.assessment_outcome_acknowledge, assessment=assessment),
        title=f"Acknowledge the outcome of {assessment.reference}",
        intro=f"The centre completed the assessment: {assessment.get_outcome_display()}. "
        f"{assessment.outcome_company_summary} Acknowledging tells the case team that the company has "
        "received it; it is recorded on the case's timeline and in the report.",
        success="The outcome was acknowledged.",
        submit_label="Acknowledge the outcome",
    )


@login_required
def assessment_withdraw(request, reference: str):
    assessment = _assessment(request, reference, "assessment.transition")
    form = ReasonForm(request.POST or None)
    return _case_form_page(
        request,
        assessment,
        form=form,
        call=_on(request, services.assessment_withdraw, assessment=assessment),
        title=f"Withdraw {assessment.reference}",
        intro="Withdrawing ends the case and every open model-access ticket.",
        success="The assessment was withdrawn.",
        submit_label="Withdraw assessment",
    )


# --- Tickets -------------------------------------------------------------------------


def _ticket_rows(request):
    form = TicketFilterForm(request.GET or None)
    filters = valid_filters(form)
    qs = selectors.ticket_list(
        user=request.user,
        status=filters.get("status") or "",
        kind=filters.get("kind") or "",
        q=filters.get("q") or "",
        sort=request.GET.get("sort", ""),
    )
    return form, qs


@login_required
def ticket_list(request):
    form, qs = _ticket_rows(request)
    context = list_context(
        request,
        qs,
        sorts=selectors.TICKET_SORTS,
        form=form,
        per_page=PAGE_SIZE,
        export_url=reverse("assessments:ticket_export"),
        clear_url=reverse("assessments:ticket_list"),
        noun="ticket",
    )
    return render(request, "assessments/ticket_list.html", context)


# Never the credential, its endpoint or its instructions: the list's columns only.
TICKET_EXPORT_COLUMNS = [
    ("Ticket", lambda t: t.reference),
    ("Assessment", lambda t: t.assessment.reference),
    ("Model", lambda t: str(t.assessment.submission)),
    ("Company", lambda t: t.assessment.submission.organisation.name),
    ("Kind", lambda t: t.get_kind_display()),
    ("Requested", lambda t: t.requested_at),
    ("Requested by", lambda t: t.requested_by.full_name or t.requested_by.email),
    ("Wanted from", lambda t: t.wanted_from),
    ("Wanted to", lambda t: t.wanted_to),
    ("Access starts", lambda t: t.starts_at),
    ("Access ends", lambda t: t.ends_at),
    ("Status", lambda t: t.get_status_display()),
]


@login_required
@require_GET
def ticket_export(request):
    _, qs = _ticket_rows(request)
    return csv_export_response(
        request, qs, TICKET_EXPORT_COLUMNS, what="the model-access tickets list", filename="model-access"
    )


@login_required
def ticket_request(request, reference: str):
    assessment = _assessment(request, reference, "ticket.request")
    form = TicketRequestForm(
        request.POST or None,
        initial={"wanted_from": _next_minute(assessment.window_start), "wanted_to": assessment.window_end},
    )
    return _case_form_page(
        request,
        assessment,
        form=form,
        call=_on(request, services.ticket_request, assessment=assessment),
        title=f"Request model access for {assessment.reference}",
        intro="The case lead decides; the company then provides the access.",
        success="Your request was sent to the case lead.",
        submit_label="Request access",
    )


@login_required
def ticket_detail(request, reference: str):
    ticket = _ticket(request, reference)
    user = request.user
    return render(
        request,
        "assessments/ticket_detail.html",
        {
            "ticket": ticket,
            "assessment": ticket.assessment,
            "lifecycle": ticket_lifecycle(ticket),
            "reveals": selectors.reveals_for(user=user, ticket=ticket),
            **ticket_actions_for(user=user, ticket=ticket),
        },
    )


@login_required
def ticket_approve(request, reference: str):
    ticket = _ticket(request, reference, "ticket.approve")
    form = TicketApproveForm(
        request.POST or None, initial={"starts_at": _next_minute(ticket.wanted_from), "ends_at": ticket.wanted_to}
    )
    return _ticket_form_page(
        request,
        ticket,
        form=form,
        call=_on(request, services.ticket_approve, ticket=ticket),
        title=f"Approve {ticket.reference}",
        intro=f"{ticket.requested_by} asked for access of the kind “{ticket.get_kind_display()}”. "
        "You may shorten the period; the company will then provide the access.",
        success="The request was approved; the company can now provision it.",
        submit_label="Approve",
    )


@login_required
def ticket_reject(request, reference: str):
    ticket = _ticket(request, reference, "ticket.approve")
    form = ReasonForm(request.POST or None)
    return _ticket_form_page(
        request,
        ticket,
        form=form,
        call=_on(request, services.ticket_reject, ticket=ticket),
        title=f"Reject {ticket.reference}",
        success="The request was rejected.",
        submit_label="Reject request",
    )


@login_required
def ticket_provision(request, reference: str):
    ticket = _ticket(request, reference, "ticket.provision")
    form = TicketProvisionForm(request.POST or None)
    response = _ticket_form_page(
        request,
        ticket,
        form=form,
        call=_on(request, services.ticket_provision, ticket=ticket),
        title=f"Provision {ticket.reference}",
        intro=f"Give the centre's evaluators access of the kind “{ticket.get_kind_display()}” from "
        f"{_local(ticket.starts_at)} until {_local(ticket.access_ends_at)}. "
        "Access ends by itself then.",
        success="Access was provisioned. The credential is stored encrypted.",
        submit_label="Provision access",
        context={"credential_retype": form.is_bound},
    )
    # The form may carry a credential being typed: never cache it.
    add_never_cache_headers(response)
    return response


@login_required
@require_POST
def ticket_reveal(request, reference: str):
    ticket = _ticket(request, reference, "ticket.reveal")
    try:
        credential = services.ticket_reveal(actor=request.user, ticket=ticket, request=request)
    except RuleViolation as exc:
        messages.error(request, str(exc))
        return redirect(ticket.get_absolute_url())
    ticket.refresh_from_db()
    response = render(
        request,
        "assessments/ticket_reveal.html",
        {"ticket": ticket, "assessment": ticket.assessment, "credential": credential},
    )
    add_never_cache_headers(response)  # includes no-store: the page holds a secret
    return response


@login_required
def ticket_revoke(request, reference: str):
    ticket = _ticket(request, reference, "ticket.revoke")
    # A request was never granted: refuse the page itself (the ticket page offers Reject instead).
    refusal = ticket_revoke_refusal(ticket)
    if refusal:
        messages.error(request, refusal)
        return redirect(ticket.get_absolute_url())
    access_given = ticket.is_live
    form = ReasonForm(request.POST or None)
    return _ticket_form_page(
        request,
        ticket,
        form=form,
        call=_on(request, services.ticket_revoke, ticket=ticket),
        title=f"Revoke {'access of' if access_given else 'the approval of'} {ticket.reference}",
        intro=ticket_revoke_consequence(ticket),
        success="Access was revoked." if access_given else "The approval was revoked.",
        submit_label="Revoke access" if access_given else "Revoke approval",
    )


@login_required
def ticket_extend(request, reference: str):
    ticket = _ticket(request, reference, "ticket.extend")
    form = ExtensionRequestForm(request.POST or None)
    return _ticket_form_page(
        request,
        ticket,
        form=form,
        call=_on(request, services.ticket_request_extension, ticket=ticket),
        title=f"Ask to extend {ticket.reference}",
        intro="The company's liaison must consent. Access can never go past the assessment window.",
        success="The extension was requested; the company will be asked to consent.",
        submit_label="Ask for extension",
    )


@login_required
def ticket_extension_decide(request, reference: str):
    ticket = _ticket(request, reference, "ticket.consent_extension")
    form = ExtensionDecisionForm(request.POST or None)
    return _ticket_form_page(
        request,
        ticket,
        form=form,
        call=lambda d: services.ticket_decide_extension(
            actor=request.user, ticket=ticket, request=request, consent=d["decision"] == "consent", note=d["note"]
        ),
        title=f"Extension of {ticket.reference}",
        intro=(
            f"The centre asks to extend access until {_local(ticket.extension_requested_to)}: {ticket.extension_reason}"
        )
        if ticket.extension_requested_to
        else "There is no extension waiting for your decision.",
        success="Your decision was recorded.",
        submit_label="Record decision",
    )
