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
from findings import forms, reports, selectors, services
from findings.actions import finding_actions_for, finding_lifecycle
from findings.models import Finding, FindingEvidence, ReportJob, ReportKind
from findings.services.rubrics import rubrics_current
from findings.states import EDITABLE_STATUSES, FINDING_MOVES

LIST_PAGE_SIZE = 25
# How often the page of a report being built reloads itself.
REPORT_JOB_REFRESH_SECONDS = 3


def _finding(request, reference: str, action: str | None = None) -> Finding:
    return get_object_for(
        request.user,
        Finding.objects.with_related().select_related("evaluation_run", "rubric"),
        action,
        reference=reference,
    )


def _assessment(request, reference: str, action: str | None = None) -> Assessment:
    return get_object_for(
        request.user, Assessment.objects.select_related("submission__organisation", "lead"), action, reference=reference
    )


@login_required
@require_GET
def finding_list(request):
    form = forms.FindingFilterForm(request.GET or None)
    valid_filters(form)  # for the errors beside a bad value; the selector ignores bad values itself
    context = list_context(
        request,
        selectors.finding_list(user=request.user, params=request.GET),
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
    ("Response due", lambda f: f.response_due_at),
    ("Response overdue", lambda f: f.is_response_overdue),
    ("Recorded", lambda f: f.created_at),
]


@login_required
@require_GET
def finding_export(request):
    rows = selectors.finding_list(user=request.user, params=request.GET)
    return csv_export_response(request, rows, EXPORT_COLUMNS, what="the findings list", filename="findings")


@login_required
@require_http_methods(["GET", "POST"])
def finding_create(request, assessment_reference: str):
    assessment = _assessment(request, assessment_reference, "finding.create")
    form = forms.FindingForm(request.POST or None, request.FILES or None, assessment=assessment)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        evidence = data.pop("evidence")
        try:
            finding = services.finding_create(
                actor=request.user, assessment=assessment, evidence=evidence, request=request, **data
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
    return render(
        request,
        "findings/detail.html",
        {
            "finding": finding,
            "assessment": finding.assessment,
            "lifecycle": finding_lifecycle(finding),
            **actions,
            "comments": selectors.finding_thread(user=request.user, finding=finding),
            "files": selectors.finding_files(user=request.user, finding=finding),
            "comment_form": forms.CommentForm(allow_internal=actions["can_comment_internal"]),
            # The cited run's log and samples are the centre's; the company sees the run's summary only.
            "can_read_run": _can_read_run(request.user, finding),
        },
    )


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
        try:
            services.finding_update(actor=request.user, finding=finding, data=data, evidence=evidence, request=request)
        except RuleViolation as exc:
            form_add_rule_violation(form, exc)
        else:
            messages.success(request, f"{finding.reference} was saved.")
            return redirect("findings:detail", reference=finding.reference)
    return render(
        request,
        "findings/form.html",
        {"form": form, "assessment": finding.assessment, "finding": finding, "rubrics": rubrics_current()},
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
            messages.success(request, f"{finding.reference} is now “{finding.get_status_display()}”.")
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
                response=form.cleaned_data["company_response"],
                planned_mitigation=form.cleaned_data["planned_mitigation"],
                files=form.cleaned_data["files"],
                request=request,
            )
        except RuleViolation as exc:
            form_add_rule_violation(form, exc)
        else:
            messages.success(request, "Your response was sent to the centre.")
            return redirect("findings:detail", reference=finding.reference)
    return render(request, "findings/respond.html", {"finding": finding, "form": form})


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
    return render(request, "findings/comment_error.html", {"finding": finding, "form": form}, status=400)


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


# --- The assessment report -------------------------------------------------------------------


def _report_kind(released_only: bool) -> str:
    return ReportKind.RELEASED if released_only else ReportKind.FULL


@login_required
@require_GET
def assessment_report(request, assessment_reference: str, released_only: bool = False, fmt: str = "html"):
    """The report, one page of ``REPORT_PAGE_SIZE`` findings at a time; its PDF at once when short,
    else a page that offers to build it in the background."""
    assessment = _assessment(request, assessment_reference)
    # A liaison may only have the released-findings variant; the full one is refused outright.
    services.assessment_report_export(
        actor=request.user, assessment=assessment, released_only=released_only, fmt=fmt, request=request
    )
    report = selectors.assessment_report(assessment=assessment, released_only=released_only)
    direct = reports.report_is_direct(report.total)
    if fmt == "pdf":
        if not direct:
            latest = selectors.report_job_latest(
                user=request.user, assessment=assessment, kind=_report_kind(released_only)
            )
            return render(
                request, "findings/report_build.html", {"report": report, "assessment": assessment, "latest": latest}
            )
        return _pdf_response(assessment, released_only)
    paginator = Paginator(
        selectors.report_findings(assessment=assessment, released_only=released_only), selectors.REPORT_PAGE_SIZE
    )
    paginator.count = report.total  # counted with the severities by the report's aggregate: no second COUNT
    page_obj = paginator.get_page(request.GET.get("page"))
    context = {
        "report": report.part(list(page_obj.object_list)),
        "assessment": assessment,
        "pdf_direct": direct,
        "page_obj": page_obj,
        "query_string": "",
    }
    return render(request, "findings/report.html", context)


def _pdf_response(assessment: Assessment, released_only: bool) -> HttpResponse:
    data = reports.report_pdf_build(assessment=assessment, released_only=released_only)
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
        ReportJob.objects.select_related("assessment__submission__organisation", "requested_by", "pdf"),
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
