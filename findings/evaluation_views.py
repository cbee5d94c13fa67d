"""Pages of imported Inspect logs: an assessment's runs and the import form, a run's page (its
progress while the worker reads it), the log's download, a run's handling marking, and a finding's
cited samples.

The runs are the centre's working record: the case team and programme admins reach these pages;
a company sees a cited run's summary on its released finding only (another company's anything: 404).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.permissions import can, get_object_for, require, scope
from assessments.models import Assessment
from audit.downloads import file_response
from core.errors import RuleViolation
from core.forms import form_add_rule_violation
from core.marking_forms import ATTESTATION_FIELD, MarkingForm
from core.page_cache import never_page_cached
from core.templatetags.markings import page_marking
from findings import inspect_logs
from findings.evaluation_models import EvaluationRun
from findings.forms import EvaluationLogForm
from findings.models import Finding
from findings.services import evaluation
from findings.services.markings import evaluation_run_set_marking

# How often the page of a log being read reloads itself.
IMPORT_REFRESH_SECONDS = 3
# The runs an assessment's page lists, newest first.
RUNS_SHOWN = 50


def _assessment(request, reference: str) -> Assessment:
    return get_object_for(
        request.user, Assessment.objects.select_related("submission__organisation"), reference=reference
    )


def _run(request, public_id) -> EvaluationRun:
    return get_object_for(
        request.user,
        EvaluationRun.objects.select_related(
            "assessment__submission__organisation", "uploaded_by", "marking", "attested_by"
        ),
        "evaluation_run.read",
        public_id=public_id,
    )


@login_required
@require_http_methods(["GET", "POST"])
def run_list(request, assessment_reference: str):
    """An assessment's imported logs, and the form to import another (the team only)."""
    assessment = _assessment(request, assessment_reference)
    # The runs are the centre's: a liaison of the company may see the case but not its runs.
    require(request.user, "assessment.report", assessment, "Only the centre team sees the evaluation runs.")
    can_import = can(request.user, "evaluation_run.import", assessment) and not assessment.is_withdrawn
    form = EvaluationLogForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        require(request.user, "evaluation_run.import", assessment, "Only the assessment's team can import logs on it.")
        if form.is_valid():
            try:
                run = evaluation.evaluation_run_upload(
                    actor=request.user,
                    assessment=assessment,
                    file=form.cleaned_data["file"],
                    model_note=form.cleaned_data["model_note"],
                    attested=form.cleaned_data[ATTESTATION_FIELD],
                    request=request,
                )
            except RuleViolation as exc:
                form_add_rule_violation(form, exc)
            else:
                messages.success(request, f"{run.original_name} was uploaded; it is being read.")
                return redirect("findings:run_detail", public_id=run.public_id)
    runs = list(
        scope(EvaluationRun.objects.filter(assessment=assessment), request.user)
        .select_related("uploaded_by", "marking")
        .order_by("-uploaded_at")[:RUNS_SHOWN]
    )
    return render(
        request,
        "findings/run_list.html",
        {
            "assessment": assessment,
            "runs": runs,
            "form": form,
            "can_import": can_import,
            # The list names its runs: it carries the most restrictive marking of the runs it shows.
            "page_marking": page_marking(runs),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_GET
def run_detail(request, public_id):
    """A run's summary once imported, its progress while it is read, or why it was refused."""
    run = _run(request, public_id)
    stalled = run.is_pending and run.updated_at < timezone.now() - evaluation.IMPORT_STALLED_AFTER
    citing = list(
        scope(Finding.objects.filter(evaluation_run=run), request.user).only("reference", "title", "status")[:50]
    )
    response = render(
        request,
        "findings/run_detail.html",
        {
            "run": run,
            "assessment": run.assessment,
            "stalled": stalled,
            "citing": citing,
            "page_marking": run.marking,
            "can_mark": can(request.user, "evaluation_run.mark", run)
            or can(request.user, "evaluation_run.mark_lower", run),
        },
    )
    if run.is_pending and not stalled:
        # A Refresh header reloads the page without any script (the CSP allows none inline).
        response["Refresh"] = str(IMPORT_REFRESH_SECONDS)
    return response


@login_required
@require_GET
def run_download(request, public_id):
    run = _run(request, public_id)
    if not run.is_imported:
        raise Http404("Only an imported log can be downloaded.")
    return file_response(request, run, case_ref=run.assessment.reference)


@login_required
@require_http_methods(["GET", "POST"])
def run_marking(request, public_id):
    """The run's handling marking and the form to change it (``evaluation_run_set_marking``)."""
    run = _run(request, public_id)
    if not (can(request.user, "evaluation_run.mark", run) or can(request.user, "evaluation_run.mark_lower", run)):
        require(request.user, "evaluation_run.mark", run, "You cannot change the handling marking of this run.")
    form = MarkingForm(request.POST or None, initial={"marking": run.marking.code})
    back = reverse("findings:run_detail", kwargs={"public_id": run.public_id})
    if request.method == "POST" and form.is_valid():
        try:
            evaluation_run_set_marking(
                actor=request.user,
                run=run,
                marking=form.cleaned_data["marking"],
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except RuleViolation as exc:
            form_add_rule_violation(form, exc)
        else:
            messages.success(
                request, f"The handling marking of {run.original_name} is now “{form.cleaned_data['marking'].name}”."
            )
            return redirect(back)
    return render(
        request,
        "findings/marking.html",
        {
            "form": form,
            "item": run,
            "run": run,
            "finding": None,
            "what": run.original_name,
            "back": back,
            "page_marking": run.marking,
        },
    )


# Never a kept page: read from the stored log, and each day's first reading is audited.
@never_page_cached
@login_required
@require_GET
def finding_samples(request, reference: str):
    """The inputs and outputs of the samples a finding cites, read from the stored log on request."""
    finding = get_object_for(
        request.user,
        Finding.objects.select_related("assessment__submission__organisation", "evaluation_run"),
        reference=reference,
    )
    if finding.evaluation_run_id is None or not finding.cited_samples:
        raise Http404("This finding cites no samples.")
    error = ""
    try:
        samples = evaluation.finding_samples_read(actor=request.user, finding=finding, request=request)
    except inspect_logs.LogUnreadable as exc:
        samples, error = [], str(exc)
    return render(
        request,
        "findings/samples.html",
        {"finding": finding, "run": finding.evaluation_run, "samples": samples, "error": error},
    )
