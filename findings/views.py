"""Pages of the findings app: parse, call one service or selector, render.

Objects are fetched through ``get_object_for`` (unseen → 404) and every
action is checked by the policy (refused → 403), inside the services too.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Role
from accounts.permissions import can, get_object_for, require
from assessments.models import Assessment
from audit.downloads import file_response
from audit.exports import csv_export_response
from core.confirm import is_confirmed
from core.errors import RuleViolation
from core.forms import form_add_rule_violation
from core.lists import list_context, valid_filters
from core.marking_forms import MarkingForm
from core.page_cache import kept_after
from core.templatetags.markings import page_marking
from findings import forms, reports, selectors, services
from findings.actions import finding_actions_for, finding_lifecycle
from findings.models import Finding, FindingComment, FindingEvidence, Recommendation, ReportJob, ReportKind
from findings.services.rubrics import rubrics_current
from findings.states import EDITABLE_STATUSES, ESCALATE, FINDING_MOVES, RECOMMENDATION_MOVES, FindingDisposition

LIST_PAGE_SIZE = 25
# How often the page of a report being built reloads itself.
REPORT_JOB_REFRESH_SECONDS = 3


def _finding(request, reference: str, action: str | None = None) -> Finding:
    # The cited run and its marking are read by key after the finding, and only when it cites one:
    # two more joins cost PostgreSQL more to plan than the whole query takes to run, for a run most
    # findings do not cite. The rubric, which most findings carry, stays joined.
    return get_object_for(
        request.user,
        Finding.objects.with_related().select_related("rubric").prefetch_related("evaluation_run__marking"),
        action,
        reference=reference,
    )


def _assessment(request, reference: str, action: str | None = None) -> Assessment:
    return get_object_for(
        request.user,
        Assessment.objects.select_related(
            "submission__organisation", "submission__agreement", "lead", "outcome_acknowledged_by"
        ),
        action,
        reference=reference,
    )


@login_required
@require_GET
def finding_list(request):
    form = forms.FindingFilterForm(request.GET or None)
    valid_filters(form)  # for the errors beside a bad value; the selector ignores bad values itself
    rows = selectors.finding_list(user=request.user, params=request.GET)
    context = list_context(
        request,
        rows,
        sorts=selectors.SORTS,
        form=form,
        per_page=LIST_PAGE_SIZE,
        export_url=reverse("findings:export"),
        clear_url=reverse("findings:list"),
        noun="finding",
    )
    return render(
        request,
        "findings/list.html",
        {
            **context,
            "findings": context["page_obj"].object_list,
            # A company's liaison sees only what the centre released to it.
            "sees_released_only": request.user.role == Role.LIAISON,
            # The page shows its findings' titles: it carries the most restrictive marking among them
            # (an export, which holds every row, carries the most restrictive of all).
            "page_marking": selectors.shown_marking(context["page_obj"].object_list),
        },
    )


# What a row of the list shows, as plain values; never the long texts.
EXPORT_COLUMNS = [
    ("Reference", lambda f: f.reference),
    ("Title", lambda f: f.title),
    ("Assessment", lambda f: f.assessment.reference),
    ("Company", lambda f: f.assessment.submission.organisation.name),
    ("Model", lambda f: str(f.assessment.submission)),
    ("Severity", lambda f: f.get_severity_display()),
    ("Risk domain", lambda f: f.get_risk_domain_display()),
    ("Status", lambda f: f.get_status_display()),
    ("Company disposition", lambda f: f.get_disposition_display()),
    ("Response due", lambda f: f.response_due_at),
    ("Response overdue", lambda f: f.is_response_overdue),
    ("Recorded", lambda f: f.created_at),
    ("Handling marking", lambda f: f.marking.code),
]


@login_required
@require_GET
def finding_export(request):
    rows = selectors.finding_list(user=request.user, params=request.GET)
    # The export carries the most restrictive marking of the rows it holds.
    return csv_export_response(
        request,
        rows.select_related("marking").only(*selectors.LIST_FIELDS, "marking", "marking__code"),
        EXPORT_COLUMNS,
        what="the findings list",
        filename="findings",
        marking=selectors.rows_marking(rows),
    )


@login_required
@require_http_methods(["GET", "POST"])
def finding_create(request, assessment_reference: str):
    assessment = _assessment(request, assessment_reference, "finding.create")
    form = forms.FindingForm(request.POST or None, request.FILES or None, assessment=assessment)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        evidence = data.pop("evidence")
        attested = data.pop("no_classified_information")
        try:
            finding = services.finding_create(
                actor=request.user,
                assessment=assessment,
                evidence=evidence,
                attested=attested,
                request=request,
                **data,
            )
        except RuleViolation as exc:
            form_add_rule_violation(form, exc)
        else:
            messages.success(request, f"Finding {finding.reference} was recorded as a draft.")
            return redirect("findings:detail", reference=finding.reference)
    return render(
        request,
        "findings/form.html",
        {"form": form, "assessment": assessment, "finding": None, "rubrics": rubrics_current()},
    )


@login_required
@require_GET
def finding_detail(request, reference: str):
    finding = _finding(request, reference)
    actions = finding_actions_for(user=request.user, finding=finding)
    comments = list(selectors.finding_thread(user=request.user, finding=finding))
    files = list(selectors.finding_files(user=request.user, finding=finding))
    marks_items(request.user, finding, files, "evidence")
    marks_items(request.user, finding, comments, "comment")
    return render(
        request,
        "findings/detail.html",
        {
            "finding": finding,
            "assessment": finding.assessment,
            "lifecycle": finding_lifecycle(finding),
            **actions,
            "comments": comments,
            "files": files,
            "timeline": selectors.finding_timeline(user=request.user, finding=finding),
            "recommendations": selectors.finding_recommendations(user=request.user, finding=finding),
            "comment_form": forms.CommentForm(allow_internal=actions["can_comment_internal"]),
            # The page shows the finding, its files, its comments and the cited run's summary: it carries
            # the most restrictive marking of them.
            "page_marking": page_marking(finding, files, comments, finding.evaluation_run),
            # The cited run's log and samples are the centre's; the company sees the run's summary only.
            "can_read_run": _can_read_run(request.user, finding),
        },
    )


def marks_items(user, finding: Finding, items: list, kind: str) -> None:
    """Set ``can_mark`` on each file or comment shown: whether its marking page is offered to ``user``."""
    for item in items:
        item.finding = finding  # the same case object for every check: its team is read once
        item.can_mark = can(user, f"{kind}.mark", item) or can(user, f"{kind}.mark_lower", item)


def _can_read_run(user, finding: Finding) -> bool:
    run = finding.evaluation_run
    if run is None:
        return False
    run.assessment = finding.assessment  # the same case (checked when cited): spare the query
    return can(user, "evaluation_run.read", run)


@login_required
@require_http_methods(["GET", "POST"])
def finding_edit(request, reference: str):
    finding = _finding(request, reference, "finding.edit")
    if finding.status not in EDITABLE_STATUSES:
        messages.error(request, f"{finding.reference} is “{finding.get_status_display()}” and can no longer be edited.")
        return redirect("findings:detail", reference=finding.reference)
    initial = {name: getattr(finding, name) for name in services.EDITABLE_FIELDS}
    form = forms.FindingForm(
        request.POST or None, request.FILES or None, initial=initial, assessment=finding.assessment
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        evidence = data.pop("evidence")
        attested = data.pop("no_classified_information")
        try:
            services.finding_update(
                actor=request.user, finding=finding, data=data, evidence=evidence, attested=attested, request=request
            )
        except RuleViolation as exc:
            form_add_rule_violation(form, exc)
        else:
            messages.success(request, f"{finding.reference} was saved.")
            return redirect("findings:detail", reference=finding.reference)
    return render(
        request,
        "findings/form.html",
        {
            "form": form,
            "assessment": finding.assessment,
            "finding": finding,
            "page_marking": finding.marking,
            "rubrics": rubrics_current(),
        },
    )


# --- Transitions: a confirmation page (GET) and the change (POST) -------------------------

TRANSITIONS = {
    # page name → (move, form, title, button, help)
    "submit": (
        FINDING_MOVES["submit_for_review"],
        None,
        "Submit for review",
        "Submit for review",
        "A lead evaluator other than the author reviews it and releases it to the company.",
    ),
    "release": (
        FINDING_MOVES["release"],
        forms.ReleaseForm,
        "Release to the company",
        "Release to the company",
        "The company's liaisons will see this finding and must respond by the due date.",
    ),
    "resolve": (
        FINDING_MOVES["resolve"],
        forms.ResolveForm,
        "Resolve",
        "Resolve",
        "Close the finding: the answer suffices.",
    ),
    "reopen": (
        FINDING_MOVES["reopen"],
        forms.ReopenForm,
        "Ask the company again",
        "Ask again",
        "The finding goes back to the company with your question and a new due date.",
    ),
    "escalate": (
        ESCALATE,
        forms.EscalateForm,
        "Escalate to the programme",
        "Escalate",
        "The programme admins and the case lead are told, with your reason. The company is not told.",
    ),
    "withdraw": (
        FINDING_MOVES["withdraw"],
        forms.WithdrawForm,
        "Withdraw",
        "Withdraw the finding",
        "A withdrawn finding is kept in the record but leaves reports and the company's view.",
    ),
}


# Whether each move can be taken back, said on its confirmation page.
TRANSITION_AFTERWARDS = {
    "submit": "The finding stays editable while it is in review, but it does not go back to draft.",
    "release": "This cannot be undone: once released, the company keeps seeing the finding. "
    "It can later be withdrawn, but not taken back to review.",
    "resolve": "The centre can still ask the company again after resolving it.",
    "reopen": "The company's earlier response stays on the record; a new response is due.",
    "withdraw": "This cannot be undone: a withdrawn finding cannot be reopened or released again.",
    "escalate": "The finding stays where it is; you can still resolve it or ask the company again.",
}


def _run_transition(name: str, request, finding: Finding, data: dict) -> Finding:
    user = request.user
    if name == "submit":
        return services.finding_submit_for_review(actor=user, finding=finding, request=request)
    if name == "release":
        return services.finding_release(
            actor=user, finding=finding, response_due_at=data.get("response_due"), request=request
        )
    if name == "resolve":
        return services.finding_resolve(actor=user, finding=finding, note=data.get("note", ""), request=request)
    if name == "reopen":
        return services.finding_reopen(
            actor=user, finding=finding, note=data["note"], response_due_at=data.get("response_due"), request=request
        )
    if name == "escalate":
        return services.finding_escalate(actor=user, finding=finding, note=data["note"], request=request)
    return services.finding_withdraw(actor=user, finding=finding, reason=data["reason"], request=request)


@login_required
@require_http_methods(["GET", "POST"])
def finding_transition(request, reference: str, transition: str):
    move, form_class, title, button, help_text = TRANSITIONS[transition]
    finding = _finding(request, reference, move.action)
    # Only the confirmation page's own form makes the move: any other POST shows the page.
    confirmed = is_confirmed(request)
    form = form_class(request.POST if confirmed else None) if form_class else None
    if confirmed and (form is None or form.is_valid()):
        try:
            finding = _run_transition(transition, request, finding, form.cleaned_data if form else {})
        except RuleViolation as exc:
            if form is None:
                messages.error(request, str(exc))
                return redirect("findings:detail", reference=finding.reference)
            form_add_rule_violation(form, exc)
        else:
            done = "was escalated" if transition == "escalate" else f"is now “{finding.get_status_display()}”"
            messages.success(request, f"{finding.reference} {done}.")
            return redirect("findings:detail", reference=finding.reference)
    return render(
        request,
        "findings/transition.html",
        {
            "finding": finding,
            "form": form,
            "title": title,
            "button": button,
            "help_text": help_text,
            "afterwards": TRANSITION_AFTERWARDS[transition],
            "page_marking": finding.marking,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def finding_respond(request, reference: str):
    finding = _finding(request, reference, FINDING_MOVES["respond"].action)
    form = forms.ResponseForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.finding_respond(
                actor=request.user,
                finding=finding,
                disposition=form.cleaned_data["disposition"],
                response=form.cleaned_data["company_response"],
                planned_mitigation=form.cleaned_data["planned_mitigation"],
                mitigation_target=form.cleaned_data["mitigation_target"],
                files=form.cleaned_data["files"],
                attested=form.cleaned_data["no_classified_information"],
                request=request,
            )
        except RuleViolation as exc:
            form_add_rule_violation(form, exc)
        else:
            messages.success(request, "Your response was sent to the centre.")
            return redirect("findings:detail", reference=finding.reference)
    return render(request, "findings/respond.html", {"finding": finding, "form": form, "page_marking": finding.marking})


# --- Recommendations ------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def recommendation_add(request, reference: str):
    finding = _finding(request, reference, "finding.edit")
    form = forms.RecommendationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            recommendation = services.recommendation_add(
                actor=request.user,
                finding=finding,
                kind=form.cleaned_data["kind"],
                text=form.cleaned_data["text"],
                request=request,
            )
        except RuleViolation as exc:
            form_add_rule_violation(form, exc)
        else:
            messages.success(request, f"Recommendation {recommendation.reference} was added.")
            return redirect(f"{finding_url(finding)}#recommendations")
    return render(
        request,
        "findings/recommendation_step.html",
        {
            "finding": finding,
            "form": form,
            "title": "Add a recommendation",
            "button": "Add the recommendation",
            "help_text": "It stays with the centre until the finding is released; the company then "
            "acknowledges it, accepts or declines it, and implements it for the centre to verify.",
            "multipart": False,
            "confirm": False,
        },
    )


# step → (form, title, button, help, the service call)
RECOMMENDATION_STEPS = {
    "acknowledge": (
        forms.RecommendationAcknowledgeForm,
        "Acknowledge the recommendation",
        "Acknowledge",
        "The centre is told that the company has it; the company then accepts or declines it.",
        lambda user, rec, data, request: services.recommendation_acknowledge(
            actor=user, recommendation=rec, request=request
        ),
    ),
    "accept": (
        forms.RecommendationAcceptForm,
        "Accept the recommendation",
        "Accept",
        "The company will implement it by the date given, then report it implemented with its evidence.",
        lambda user, rec, data, request: services.recommendation_accept(
            actor=user, recommendation=rec, implement_by=data.get("implement_by"), request=request
        ),
    ),
    "decline": (
        forms.RecommendationDeclineForm,
        "Decline the recommendation",
        "Decline",
        "The centre reads the reason; a declined recommendation stays on the record and in the report.",
        lambda user, rec, data, request: services.recommendation_decline(
            actor=user, recommendation=rec, reason=data["reason"], request=request
        ),
    ),
    "implement": (
        forms.RecommendationImplementForm,
        "Report the recommendation implemented",
        "Report implemented",
        "The centre verifies the implementation against the finding.",
        lambda user, rec, data, request: services.recommendation_implement(
            actor=user,
            recommendation=rec,
            note=data["note"],
            files=data["files"],
            attested=data["no_classified_information"],
            request=request,
        ),
    ),
    "verify": (
        forms.RecommendationVerifyForm,
        "Verify the implementation",
        "Verified",
        "The recommendation is closed as verified; the company is told.",
        lambda user, rec, data, request: services.recommendation_verify(
            actor=user, recommendation=rec, note=data.get("note", ""), request=request
        ),
    ),
    "not_verify": (
        forms.RecommendationNotVerifyForm,
        "Implementation not verified",
        "Not verified",
        "The company is told why and implements it again by a new due date.",
        lambda user, rec, data, request: services.recommendation_not_verify(
            actor=user, recommendation=rec, note=data["note"], request=request
        ),
    ),
}


@login_required
@require_http_methods(["GET", "POST"])
def recommendation_step(request, public_id, step: str):
    form_class, title, button, help_text, call = RECOMMENDATION_STEPS[step]
    recommendation = get_object_for(
        request.user,
        Recommendation.objects.select_related("finding__assessment__submission__organisation"),
        RECOMMENDATION_MOVES[step].action,
        public_id=public_id,
    )
    confirmed = is_confirmed(request)
    form = form_class(request.POST if confirmed else None, request.FILES if confirmed else None)
    if confirmed and form.is_valid():
        try:
            recommendation = call(request.user, recommendation, form.cleaned_data, request)
        except RuleViolation as exc:
            form_add_rule_violation(form, exc)
        else:
            messages.success(request, f"{recommendation.reference} is now “{recommendation.get_status_display()}”.")
            return redirect(f"{finding_url(recommendation.finding)}#recommendations")
    return render(
        request,
        "findings/recommendation_step.html",
        {
            "finding": recommendation.finding,
            "recommendation": recommendation,
            "form": form,
            "title": title,
            "button": button,
            "help_text": help_text,
            "multipart": step == "implement",
            "confirm": True,
        },
    )


@login_required
@require_POST
def finding_comment(request, reference: str):
    finding = _finding(request, reference, "finding.comment")
    allow_internal = finding_actions_for(user=request.user, finding=finding)["can_comment_internal"]
    form = forms.CommentForm(request.POST, allow_internal=allow_internal)
    if form.is_valid():
        try:
            services.finding_comment_add(
                actor=request.user,
                finding=finding,
                body=form.cleaned_data["body"],
                internal=form.cleaned_data.get("internal", False),
                request=request,
            )
        except RuleViolation as exc:
            form_add_rule_violation(form, exc)
        else:
            messages.success(request, "Your comment was added.")
            return redirect(f"{finding_url(finding)}#thread")
    return render(
        request,
        "findings/comment_error.html",
        {"finding": finding, "form": form, "page_marking": finding.marking},
        status=400,
    )


def finding_url(finding: Finding) -> str:
    return reverse("findings:detail", kwargs={"reference": finding.reference})


@login_required
@require_GET
def evidence_download(request, public_id):
    evidence = get_object_for(
        request.user,
        FindingEvidence.objects.select_related("finding__assessment__submission"),
        "finding.evidence_download",
        public_id=public_id,
    )
    return file_response(request, evidence, case_ref=evidence.finding.assessment.reference)


# --- Handling markings: one page per marked item, calling its service --------------------------


def _marking_page(request, *, item, finding: Finding, what: str, change, back: str):
    """Show ``item``'s marking and a form to change it; ``change(marking, reason)`` calls the service."""
    form = MarkingForm(request.POST or None, initial={"marking": item.marking.code})
    if request.method == "POST" and form.is_valid():
        try:
            change(form.cleaned_data["marking"], form.cleaned_data["reason"])
        except RuleViolation as exc:
            form_add_rule_violation(form, exc)
        else:
            messages.success(request, f"The handling marking of {what} is now “{form.cleaned_data['marking'].name}”.")
            return redirect(back)
    return render(
        request,
        "findings/marking.html",
        {"form": form, "item": item, "finding": finding, "what": what, "back": back, "page_marking": item.marking},
    )


def _may_mark(request, kind: str, item) -> None:
    if not (can(request.user, f"{kind}.mark", item) or can(request.user, f"{kind}.mark_lower", item)):
        require(request.user, f"{kind}.mark", item, "You cannot change the handling marking of this item.")


@login_required
@require_http_methods(["GET", "POST"])
def finding_marking(request, reference: str):
    finding = _finding(request, reference)
    _may_mark(request, "finding", finding)
    return _marking_page(
        request,
        item=finding,
        finding=finding,
        what=finding.reference,
        change=lambda marking, reason: services.finding_set_marking(
            actor=request.user, finding=finding, marking=marking, reason=reason, request=request
        ),
        back=finding_url(finding),
    )


@login_required
@require_http_methods(["GET", "POST"])
def evidence_marking(request, public_id):
    evidence = get_object_for(
        request.user,
        FindingEvidence.objects.select_related("finding__assessment__submission__organisation", "marking"),
        public_id=public_id,
    )
    _may_mark(request, "evidence", evidence)
    return _marking_page(
        request,
        item=evidence,
        finding=evidence.finding,
        what=evidence.original_name,
        change=lambda marking, reason: services.evidence_set_marking(
            actor=request.user, evidence=evidence, marking=marking, reason=reason, request=request
        ),
        back=finding_url(evidence.finding),
    )


@login_required
@require_http_methods(["GET", "POST"])
def comment_marking(request, public_id):
    comment = get_object_for(
        request.user,
        FindingComment.objects.select_related("finding__assessment__submission__organisation", "marking", "author"),
        public_id=public_id,
    )
    _may_mark(request, "comment", comment)
    return _marking_page(
        request,
        item=comment,
        finding=comment.finding,
        what=f"the comment by {comment.author.full_name}",
        change=lambda marking, reason: services.comment_set_marking(
            actor=request.user, comment=comment, marking=marking, reason=reason, request=request
        ),
        back=f"{finding_url(comment.finding)}#thread",
    )


# --- The assessment report -------------------------------------------------------------------


def _report_kind(released_only: bool) -> str:
    return ReportKind.RELEASED if released_only else ReportKind.FULL


def _report_reading(request, assessment_reference: str, released_only: bool = False, fmt: str = "html") -> Assessment:
    """What every reading of a report does, a kept page included: the policy's check (a liaison may
    only have the released-findings variant), and the day's first reading on record."""
    assessment = _assessment(request, assessment_reference)
    services.assessment_report_export(
        actor=request.user, assessment=assessment, released_only=released_only, fmt=fmt, request=request
    )
    return assessment


@kept_after(_report_reading)
@login_required
@require_GET
def assessment_report(request, assessment_reference: str, released_only: bool = False, fmt: str = "html"):
    """The report, one page of ``REPORT_PAGE_SIZE`` findings at a time; its PDF at once when short,
    else a page that offers to build it in the background."""
    assessment = _report_reading(request, assessment_reference, released_only, fmt)
    # The disposition filter (see selectors.disposition_q): the page and its direct PDF; a PDF
    # built in the background is always the whole report.
    disposition = request.GET.get("disposition", "")
    if selectors.disposition_q(disposition) is None:
        disposition = ""
    report = selectors.assessment_report(assessment=assessment, released_only=released_only, disposition=disposition)
    direct = reports.report_is_direct(report.total)
    if fmt == "pdf":
        if not direct:
            latest = selectors.report_job_latest(
                user=request.user, assessment=assessment, kind=_report_kind(released_only)
            )
            return render(
                request,
                "findings/report_build.html",
                {"report": report, "assessment": assessment, "latest": latest, "page_marking": report.marking},
            )
        return _pdf_response(assessment, released_only, disposition)
    paginator = Paginator(
        selectors.report_findings(assessment=assessment, released_only=released_only, disposition=disposition),
        selectors.REPORT_PAGE_SIZE,
    )
    paginator.count = report.total  # counted with the severities by the report's aggregate: no second COUNT
    page_obj = paginator.get_page(request.GET.get("page"))
    context = {
        "report": report.part(list(page_obj.object_list)),
        "assessment": assessment,
        "pdf_direct": direct,
        "page_obj": page_obj,
        "query_string": urlencode({"disposition": disposition}) if disposition else "",
        "disposition": disposition,
        "disposition_choices": [(selectors.AWAITING, "Awaiting an answer"), *FindingDisposition.choices],
        "page_marking": report.marking,
    }
    return render(request, "findings/report.html", context)


def _pdf_response(assessment: Assessment, released_only: bool, disposition: str = "") -> HttpResponse:
    data = reports.report_pdf_build(assessment=assessment, released_only=released_only, disposition=disposition)
    response = HttpResponse(data, content_type="application/pdf")
    filename = reports.report_file_name(assessment, released_only)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def report_build(request, assessment_reference: str, released_only: bool = False):
    """Ask for the PDF to be built in the background, then follow it on the job's page."""
    assessment = _assessment(request, assessment_reference)
    job = reports.report_request(
        actor=request.user, assessment=assessment, kind=_report_kind(released_only), request=request
    )
    return redirect("findings:report_job", public_id=job.public_id)


def _report_job(request, public_id) -> ReportJob:
    job = get_object_for(
        request.user,
        ReportJob.objects.select_related("assessment__submission__organisation", "requested_by", "pdf", "marking"),
        public_id=public_id,
    )
    require(request.user, reports.report_action(job.kind), job.assessment, "You cannot have this report.")
    return job


@login_required
@require_GET
def report_job(request, public_id):
    """A background build: its progress (the page refreshes itself while it runs), then the download."""
    job = _report_job(request, public_id)
    stalled = job.is_pending and job.updated_at < timezone.now() - reports.STALLED_AFTER
    context = {
        "job": job,
        "assessment": job.assessment,
        "stalled": stalled,
        "page_marking": job.marking,
    }
    response = render(request, "findings/report_job.html", context)
    if job.is_pending and not stalled:
        # A Refresh header reloads the page without any script (the CSP allows none inline).
        response["Refresh"] = str(REPORT_JOB_REFRESH_SECONDS)
    return response


@login_required
@require_GET
def report_job_download(request, public_id):
    job = _report_job(request, public_id)
    stored = getattr(job, "pdf", None) if job.is_done else None  # None: no file yet
    if stored is None:
        raise Http404("The PDF is not ready.")
    return file_response(request, stored, case_ref=job.assessment.reference)
