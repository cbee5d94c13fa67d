"""Forms of the assessments app: they parse and show errors; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import Role, User
from accounts.permissions import scope
from agreements.models import Agreement, ReleaseNotice, ReleaseNoticeStatus
from assessments.models import AssessmentOutcome, AssessmentStatus, Modality, ModelSubmission, TicketStatus
from assessments.selectors import team_candidates
from assessments.services.cases import validate_window
from core import bounds
from core.choices import AccessKind, RiskDomain
from core.errors import RuleViolation
from core.forms import PortalForm, form_add_rule_violation
from core.lists import search_field

_DT_FORMAT = "%Y-%m-%dT%H:%M"


def _dt_field(label: str, help_text: str = "", required: bool = True) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        help_text=help_text,
        required=required,
        widget=forms.DateTimeInput(format=_DT_FORMAT),
        input_formats=[_DT_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"],
    )


class ConfiguredForm(PortalForm):
    """A form whose fields depend on the user or the object.

    PortalForm validates a bound form while it is being built, before a
    subclass can set its querysets; ``_configured()`` validates again with
    the final fields and redoes the error marking.
    """

    def _configured(self) -> None:
        if not self.is_bound:
            return
        self._errors = None
        for name, field in self.fields.items():
            attrs = field.widget.attrs
            attrs["class"] = attrs.get("class", "").replace(" usa-input--error", "")
            attrs.pop("aria-invalid", None)
            if name in self.errors:
                attrs["aria-invalid"] = "true"
                attrs["class"] += " usa-input--error"


class SubmissionForm(ConfiguredForm):
    agreement = forms.ModelChoiceField(
        queryset=Agreement.objects.none(),
        help_text="Models can be submitted only under an active agreement.",
        empty_label="Choose an agreement",
    )
    model_name = forms.CharField(max_length=bounds.TITLE)
    model_version = forms.CharField(max_length=bounds.VERSION)
    modalities = forms.MultipleChoiceField(choices=Modality.choices, widget=forms.CheckboxSelectMultiple)
    intended_release_date = forms.DateField(
        required=False, widget=forms.DateInput(format="%Y-%m-%d"), help_text="When you plan to release it broadly."
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}), max_length=bounds.NOTE)
    release_notice = forms.ModelChoiceField(
        queryset=ReleaseNotice.objects.none(),
        required=False,
        label="Release notice",
        help_text="If the centre recorded notice of this release, choose it: its planned date is used.",
        empty_label="None",
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["agreement"].queryset = scope(Agreement.objects.all(), user).order_by("-created_at")
        self.fields["release_notice"].queryset = scope(
            ReleaseNotice.objects.filter(status=ReleaseNoticeStatus.EXPECTED), user
        ).order_by("planned_release_date")
        self.fields["release_notice"].label_from_instance = lambda n: (
            f"{n.reference} — {n.model_name} {n.model_version}, planned {n.planned_release_date:%d %b %Y}"
        )
        self.fields["agreement"].label_from_instance = lambda a: f"{a.reference} — {a.title} ({a.get_status_display()})"
        self._configured()


class AssessmentForm(ConfiguredForm):
    """Create (with ``submission``) or change the plan of a case."""

    submission = forms.ModelChoiceField(queryset=ModelSubmission.objects.none(), empty_label="Choose a submission")
    lead = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, help_text="Leave empty to lead the case yourself."
    )
    team = forms.ModelMultipleChoiceField(
        queryset=User.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    risk_domains = forms.MultipleChoiceField(choices=RiskDomain.choices, widget=forms.CheckboxSelectMultiple)
    window_start = _dt_field("Access window starts")
    window_end = _dt_field(
        "Access window ends", "At most the agreement's maximum (never more than 30 days) after the start."
    )
    internal_notes = forms.CharField(
        required=False,
        max_length=bounds.BODY,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Centre only: never shown to the company.",
    )
    window_after_release_reason = forms.CharField(
        label="Why the window runs past the planned public release",
        required=False,
        max_length=bounds.BODY,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Only when the window must end after the company's planned public release.",
    )

    def __init__(self, *args: Any, user: Any, assessment: Any = None, **kwargs: Any):
        self.assessment = assessment
        super().__init__(*args, **kwargs)
        staff = team_candidates()
        self.fields["team"].queryset = staff
        self.fields["team"].label_from_instance = lambda u: (
            f"{u.full_name or u.email} ({u.membership.get_role_display()})"
        )
        if assessment is not None:
            del self.fields["submission"]
            del self.fields["lead"]
        else:
            self.fields["submission"].queryset = scope(
                ModelSubmission.objects.select_related("organisation"), user
            ).order_by("-created_at")
            self.fields["submission"].label_from_instance = lambda s: f"{s.reference} — {s.organisation.name}: {s}"
            if user.role == Role.LEAD_EVALUATOR:
                del self.fields["lead"]
            else:
                self.fields["lead"].queryset = staff.filter(membership__role=Role.LEAD_EVALUATOR)
                self.fields["lead"].required = True
                self.fields["lead"].help_text = "The lead evaluator who runs the case."
        self._configured()

    def clean(self):
        data = super().clean()
        agreement = None
        if self.assessment is not None:
            agreement = self.assessment.submission.agreement
        elif data.get("submission") is not None:
            agreement = data["submission"].agreement
        if agreement is not None and data.get("window_start") and data.get("window_end"):
            try:
                validate_window(agreement=agreement, start=data["window_start"], end=data["window_end"])
            except RuleViolation as exc:
                form_add_rule_violation(self, exc)
        return data


class CloseForm(PortalForm):
    outcome = forms.ChoiceField(choices=AssessmentOutcome.choices, widget=forms.RadioSelect)
    rationale = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}), help_text="Why this outcome: the record.", max_length=bounds.BODY
    )
    company_summary = forms.CharField(
        label="Summary for the company",
        required=False,
        max_length=bounds.NOTE,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Sent to the company's liaisons with the outcome, who acknowledge it. Write nothing the "
        "company should not read.",
    )


class OutcomeAcknowledgeForm(PortalForm):
    comment = forms.CharField(
        label="Comment (optional)",
        required=False,
        max_length=bounds.NOTE,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Read by the centre's case team; it appears with your acknowledgement in the report.",
    )


class ReasonForm(PortalForm):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=bounds.NOTE)


class TicketRequestForm(PortalForm):
    kind = forms.ChoiceField(choices=AccessKind.choices, label="Kind of access")
    justification = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), help_text="What you will test and why.", max_length=bounds.NOTE
    )
    wanted_from = _dt_field("Access from")
    wanted_to = _dt_field("Access until", "Within the assessment window.")


class TicketApproveForm(PortalForm):
    starts_at = _dt_field("Access from", "You may shorten the period requested, not lengthen it.")
    ends_at = _dt_field("Access until")
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=bounds.NOTE)


class TicketProvisionForm(PortalForm):
    endpoint = forms.CharField(label="Endpoint or location", max_length=bounds.ENDPOINT)
    credential = forms.CharField(
        required=False,
        strip=False,
        # No max_length: a browser would cut a pasted key short without a word; the service refuses one over
        # bounds.CREDENTIAL_BYTES with a message instead.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="API key or token, at most 8 KiB. Stored encrypted; shown only to the evaluators on the case, "
        "and every showing is recorded. Leave empty only for documentation access.",
    )
    instructions = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 5}), max_length=bounds.NOTE)


class ExtensionRequestForm(PortalForm):
    until = _dt_field("Extend access until", "Within the assessment window; the company must consent.")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=bounds.NOTE)


class ExtensionDecisionForm(PortalForm):
    decision = forms.ChoiceField(
        choices=[("consent", "Consent to the extension"), ("decline", "Decline it")], widget=forms.RadioSelect
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=bounds.NOTE)


# --- The lists' filter bars ------------------------------------------------------------------


class SubmissionFilterForm(PortalForm):
    q = search_field("Search model, version or reference", max_length=bounds.TITLE)


class AssessmentFilterForm(PortalForm):
    q = search_field("Search reference, model or company", max_length=bounds.TITLE)
    status = forms.ChoiceField(choices=[("", "Any status"), *AssessmentStatus.choices], required=False)


class TicketFilterForm(PortalForm):
    q = search_field("Search reference, model or company", max_length=bounds.TITLE)
    status = forms.ChoiceField(choices=[("", "Any status"), *TicketStatus.choices], required=False)
    kind = forms.ChoiceField(choices=[("", "Any kind"), *AccessKind.choices], required=False)
