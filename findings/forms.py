"""Forms of the findings app. They parse and check input; the services in findings.services write."""

from __future__ import annotations

import re
from datetime import datetime, time

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from core import bounds
from core.choices import RiskDomain
from core.files import EVIDENCE_KINDS, validate_upload
from core.forms import PortalForm
from core.lists import search_field
from core.marking_forms import ATTESTATION_FIELD, attestation_field
from findings.models import SEVERITY_RUBRIC, Confidence, EvaluationRun, FindingStatus, Severity
from findings.selectors import AWAITING
from findings.services import MAX_FILES_PER_UPLOAD, default_response_due
from findings.services.evaluation import MAX_CITED_SAMPLES
from findings.states import COMPANY_DISPOSITIONS, DISPOSITIONS_NEEDING_PLAN, FindingDisposition, RecommendationKind

FILES_AGAIN = "Files are not kept when the form has errors: choose the file(s) again before saving."


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; cleaned to a list, each checked by content and size."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        items = data if isinstance(data, list | tuple) else ([data] if data else [])
        items = [super(MultipleFileField, self).clean(item, initial) for item in items if item]
        if len(items) > MAX_FILES_PER_UPLOAD:
            raise ValidationError(f"Attach at most {MAX_FILES_PER_UPLOAD} files at once.")
        errors = []
        for item in items:
            try:
                validate_upload(item, allowed=EVIDENCE_KINDS)
            except ValidationError as exc:
                errors.extend(exc.messages)
        if errors:
            raise ValidationError(errors)
        return items


def _files_help() -> str:
    kinds = ", ".join(sorted(k.upper() for k in EVIDENCE_KINDS))
    return f"Up to {MAX_FILES_PER_UPLOAD} files, {settings.UPLOAD_MAX_BYTES // 1048576} MB each. Accepted: {kinds}."


class SampleIdsField(forms.CharField):
    """Sample ids typed as text ("a-1, a-2 7"), cleaned to a list; shown back the same way."""

    def prepare_value(self, value):
        return ", ".join(str(v) for v in value) if isinstance(value, list | tuple) else value

    def to_python(self, value):
        text = super().to_python(value)
        ids = [part for part in re.split(r"[,\s]+", text or "") if part]
        if len(ids) > MAX_CITED_SAMPLES:
            raise ValidationError(f"Cite at most {MAX_CITED_SAMPLES} samples.")
        return ids


def _severity_choices() -> list[tuple[str, str]]:
    return [(value, f"{label} — {SEVERITY_RUBRIC[value]}") for value, label in Severity.choices]


class FilesKeptNoticeMixin:
    """A form with file inputs that fails says clearly that the files must be chosen again."""

    file_fields: tuple[str, ...] = ()

    def clean(self):
        cleaned = super().clean()
        if self._errors:
            for name in self.file_fields:
                if self.files.getlist(self.add_prefix(name)) and name not in self._errors:
                    self.add_error(name, FILES_AGAIN)
        return cleaned


class FindingForm(FilesKeptNoticeMixin, PortalForm):
    file_fields = ("evidence",)

    title = forms.CharField(max_length=bounds.TITLE)
    risk_domain = forms.ChoiceField(label="Risk domain", choices=[("", "- Select -"), *RiskDomain.choices])
    severity = forms.ChoiceField(
        choices=_severity_choices,
        widget=forms.RadioSelect,
        help_text="Choose by the rubric: the uplift or harm the behaviour gives, and how readily.",
    )
    summary = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), help_text="Two or three sentences.", max_length=bounds.SUMMARY
    )
    details = forms.CharField(
        required=False,
        max_length=bounds.BODY,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text="Markdown: **bold**, *italic*, lists, `code`, [links](https://…). HTML is shown as text.",
    )
    reproduction_steps = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 5}), max_length=bounds.BODY
    )
    recommended_action = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4}), max_length=bounds.BODY
    )
    evidence = MultipleFileField(label="Evidence files")
    no_classified_information = attestation_field(required=False)
    confidence = forms.ChoiceField(
        label="Evaluators' confidence", choices=Confidence.choices, required=False, widget=forms.RadioSelect
    )
    not_tested = forms.CharField(
        label="What was not tested",
        required=False,
        max_length=bounds.NOTE,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Conditions, tools or variants left out, so a reader knows the finding's limits.",
    )
    evaluation_run = forms.ModelChoiceField(
        label="Evaluation run cited",
        queryset=EvaluationRun.objects.none(),
        required=False,
        empty_label="- None -",
        help_text="An Inspect log imported on this assessment.",
    )
    cited_samples = SampleIdsField(
        label="Sample ids cited",
        required=False,
        help_text="The ids of the log's samples that show the behaviour, separated by commas or spaces.",
    )

    def __init__(self, *args, assessment=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["evidence"].help_text = _files_help()
        if assessment is not None:
            self.fields["evaluation_run"].queryset = EvaluationRun.objects.imported().filter(assessment=assessment)

    def clean(self):
        # Before the mixin's check, so a missing confirmation also says the files must be chosen again.
        _require_attestation(self, "evidence")
        return super().clean()


def _require_attestation(form: forms.Form, files_field: str) -> None:
    """Files chosen without the unclassified confirmation: the confirmation is required (files kept by name)."""
    if form.cleaned_data.get(files_field) and not form.cleaned_data.get(ATTESTATION_FIELD):
        form.add_error(ATTESTATION_FIELD, "Confirm that the files hold no classified information.")


def _end_of_day(day) -> datetime:
    """The end of ``day`` in the user's time zone (the middleware activates it), stored as UTC."""
    return timezone.make_aware(datetime.combine(day, time(23, 59)))


class ResponseDueField(forms.DateField):
    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", "Company response due")
        kwargs.setdefault("widget", forms.DateInput())
        super().__init__(**kwargs)


class ReleaseForm(PortalForm):
    response_due = ResponseDueField(
        help_text=f"Leave empty for the default of {settings.FINDING_RESPONSE_DAYS} days from today."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["response_due"].initial = timezone.localdate(default_response_due())

    def clean_response_due(self):
        day = self.cleaned_data.get("response_due")
        if day is None:
            return None
        if day <= timezone.localdate():
            raise ValidationError("Pick a date after today.")
        message = bounds.RESPONSE_DUE.error(day)
        if message:
            raise ValidationError(message)
        return _end_of_day(day)


class ReopenForm(ReleaseForm):
    note = forms.CharField(
        label="What the company should answer",
        max_length=bounds.NOTE,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Shown to the company in the finding's thread.",
    )


class ResolveForm(PortalForm):
    note = forms.CharField(
        label="Resolution note", required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=bounds.NOTE
    )


class WithdrawForm(PortalForm):
    reason = forms.CharField(
        label="Reason for withdrawing", widget=forms.Textarea(attrs={"rows": 3}), max_length=bounds.NOTE
    )


def _disposition_choices() -> list[tuple[str, str]]:
    return [(value, f"{FindingDisposition(value).label} — {DISPOSITION_HELP[value]}") for value in COMPANY_DISPOSITIONS]


# What each disposition asks of the company, beside its choice on the response form.
DISPOSITION_HELP = {
    FindingDisposition.WILL_MITIGATE: "you accept the finding and will mitigate it: give the plan and a target date.",
    FindingDisposition.RISK_ACCEPTED: "you accept the finding but take no action: justify it in your response.",
    FindingDisposition.DISPUTED: "you disagree with the finding: give your reasons, and attach any evidence.",
    FindingDisposition.NEEDS_CLARIFICATION: "you need the centre to explain more before you can answer: say what.",
}


class ResponseForm(FilesKeptNoticeMixin, PortalForm):
    file_fields = ("files",)

    disposition = forms.ChoiceField(label="Your disposition", choices=_disposition_choices, widget=forms.RadioSelect)
    company_response = forms.CharField(
        label="Your response",
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=bounds.BODY,
        help_text="What you accept and will change, your justification, your reasons, or your question.",
    )
    planned_mitigation = forms.CharField(
        label="Planned mitigation",
        required=False,
        max_length=bounds.BODY,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Needed when you will mitigate: what the company will change.",
    )
    mitigation_target = forms.DateField(
        label="Mitigation target date",
        required=False,
        widget=forms.DateInput(),
        help_text="Needed when you will mitigate: when the mitigation will be in place.",
    )
    files = MultipleFileField(label="Supporting files")
    no_classified_information = attestation_field(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["files"].help_text = _files_help() + " Evidence for a dispute goes here."

    def clean(self):
        # Before the mixin's check, so a missing confirmation also says the files must be chosen again.
        _require_attestation(self, "files")
        cleaned = super().clean()
        if cleaned.get("disposition") in DISPOSITIONS_NEEDING_PLAN:
            if not (cleaned.get("planned_mitigation") or "").strip() and "planned_mitigation" not in self._errors:
                self.add_error("planned_mitigation", "Describe the planned mitigation.")
            if cleaned.get("mitigation_target") is None and "mitigation_target" not in self._errors:
                self.add_error("mitigation_target", "Give the date the mitigation will be in place.")
        return cleaned


class RecommendationForm(PortalForm):
    kind = forms.ChoiceField(label="Kind", choices=[("", "- Select -"), *RecommendationKind.choices])
    text = forms.CharField(
        label="What the company should do",
        max_length=bounds.NOTE,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="For example: add a refusal safeguard for the named uplift, restrict fine-tuning access, "
        "or hold the release until the mitigation is verified.",
    )


class RecommendationAcknowledgeForm(PortalForm):
    """Acknowledging needs nothing but the decision (the confirmation page's button)."""


class RecommendationAcceptForm(PortalForm):
    implement_by = forms.DateField(
        label="Implemented by",
        required=False,
        widget=forms.DateInput(),
        help_text="Leave empty for the default of 60 days from today.",
    )


class RecommendationDeclineForm(PortalForm):
    reason = forms.CharField(
        label="Why the company declines", max_length=bounds.NOTE, widget=forms.Textarea(attrs={"rows": 4})
    )


class RecommendationImplementForm(FilesKeptNoticeMixin, PortalForm):
    file_fields = ("files",)

    note = forms.CharField(
        label="What was implemented", max_length=bounds.NOTE, widget=forms.Textarea(attrs={"rows": 4})
    )
    files = MultipleFileField(label="Evidence files")
    no_classified_information = attestation_field(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["files"].help_text = _files_help()

    def clean(self):
        # Before the mixin's check, so a missing confirmation also says the files must be chosen again.
        _require_attestation(self, "files")
        return super().clean()


class RecommendationVerifyForm(PortalForm):
    note = forms.CharField(
        label="Verification note", required=False, max_length=bounds.NOTE, widget=forms.Textarea(attrs={"rows": 3})
    )


class RecommendationNotVerifyForm(PortalForm):
    note = forms.CharField(
        label="Why it is not verified",
        max_length=bounds.NOTE,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Shown to the company, which implements it again.",
    )


class EscalateForm(PortalForm):
    note = forms.CharField(
        label="Why the finding is escalated",
        max_length=bounds.NOTE,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Read by the programme admins and the case lead; not shown to the company.",
    )


class CommentForm(PortalForm):
    body = forms.CharField(label="Comment", widget=forms.Textarea(attrs={"rows": 3}), max_length=bounds.NOTE)
    internal = forms.BooleanField(
        label="Internal: only the centre team sees this comment", required=False, initial=True
    )

    def __init__(self, *args, allow_internal: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not allow_internal:
            del self.fields["internal"]


class FindingFilterForm(PortalForm):
    """The findings list's filter bar (the selector reads the same parameters and ignores bad ones)."""

    q = search_field("Search title, summary or reference", max_length=bounds.TITLE)
    severity = forms.ChoiceField(choices=[("", "Any"), *Severity.choices], required=False)
    risk_domain = forms.ChoiceField(label="Risk domain", choices=[("", "Any"), *RiskDomain.choices], required=False)
    status = forms.ChoiceField(choices=[("", "Any"), *FindingStatus.choices], required=False)
    disposition = forms.ChoiceField(
        label="Company disposition",
        choices=[("", "Any"), (AWAITING, "Awaiting an answer"), *FindingDisposition.choices],
        required=False,
    )
    assessment = forms.CharField(label="Assessment reference", required=False, max_length=32)
    overdue = forms.BooleanField(label="Only findings whose company response is overdue", required=False)


class EvaluationLogForm(PortalForm):
    """An Inspect log to import on an assessment."""

    file = forms.FileField(
        label="Inspect log",
        help_text="An evaluation log as Inspect writes it: .eval (its default) or .json.",
        widget=forms.ClearableFileInput(attrs={"accept": ".eval,.json"}),
    )
    model_note = forms.CharField(
        label="Why another model name is expected (optional)",
        required=False,
        max_length=bounds.NOTE,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="The log must name the submission's model. If it names it otherwise (a provider alias, "
        "a deployment name), say why here and the import accepts it.",
    )
    # Checked by the upload service, which refuses the log without it (the message shows on this field).
    no_classified_information = attestation_field(required=False)
