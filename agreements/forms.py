"""Forms of the agreements pages. They parse input; the services decide."""

from __future__ import annotations

from django import forms
from django.db.models import Q

from accounts.models import Organisation, Role, User
from accounts.permissions import scope
from agreements.models import (
    AMENDING_KINDS,
    Agreement,
    AgreementKind,
    AgreementStatus,
    Clause,
    DocumentKind,
    EntryKind,
    NegotiationEntry,
    RiskConsequence,
)
from agreements.states import AGREEMENT_MOVES
from core import bounds
from core.choices import MAX_WINDOW_DAYS, AccessKind, RiskDomain
from core.forms import PortalForm, USWDSFormMixin
from core.lists import search_field
from core.markings import UNCLASSIFIED_STATEMENT, HandlingMarking

TERM_HELP = {
    "max_window_days": f"How long evaluators may have access to a model, 1 to {MAX_WINDOW_DAYS} days.",
    "release_notice_days": "Days of notice the company gives the centre before broad release.",
}


class _FieldSetup(forms.Form):
    """Runs ``setup_fields`` right after the fields are copied, before the USWDS mixin validates a
    bound form to mark its errors, so querysets narrowed per request are the ones validated against."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_fields()

    def setup_fields(self) -> None:
        pass


class ScopedPortalForm(USWDSFormMixin, _FieldSetup):
    pass


def _default_marking_choices() -> list[tuple[str, str]]:
    """Blank (the programme default, named) and every marking, least restrictive first: one query."""
    markings = list(HandlingMarking.objects.order_by("rank"))
    default = next((m for m in markings if m.is_default), markings[-1] if markings else None)
    blank = f"Programme default ({default.name})" if default else "Programme default"
    return [("", blank), *((m.code, m.name) for m in markings)]


class TermsForm(PortalForm):
    title = forms.CharField(max_length=bounds.TITLE)
    max_window_days = forms.IntegerField(
        label="Maximum assessment window (days)",
        min_value=1,
        max_value=MAX_WINDOW_DAYS,
        initial=MAX_WINDOW_DAYS,
        help_text=TERM_HELP["max_window_days"],
    )
    risk_domains = forms.MultipleChoiceField(
        label="Risk domains in scope", choices=RiskDomain.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    access_modalities = forms.MultipleChoiceField(
        label="Access modalities offered",
        choices=AccessKind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    trade_secret_terms = forms.CharField(
        label="Trade-secret handling", widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=bounds.BODY
    )
    default_marking = forms.ChoiceField(
        label="Default handling marking",
        required=False,
        help_text="The marking the company's findings, files, comments and reports get unless someone raises it.",
    )
    release_notice_days = forms.IntegerField(
        label="Release-notice period (days)",
        min_value=0,
        max_value=bounds.RELEASE_NOTICE_MAX_DAYS,
        initial=14,
        help_text=TERM_HELP["release_notice_days"],
    )
    risk_consequence = forms.ChoiceField(
        label="When a risk is found", choices=RiskConsequence.choices, widget=forms.RadioSelect
    )
    effective_date = forms.DateField(required=False, widget=forms.DateInput)
    expiry_date = forms.DateField(required=False, widget=forms.DateInput)
    covered_releases = forms.CharField(
        label="Covered releases",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=bounds.NOTE,
        help_text="For a framework: which of the company's future releases come under it.",
    )
    covered_model_family = forms.CharField(
        label="Covered model family", required=False, max_length=bounds.TITLE, help_text="For example: Alpha-Frontier."
    )
    termination_notice_days = forms.IntegerField(
        label="Notice to end (days)",
        min_value=0,
        max_value=bounds.RELEASE_NOTICE_MAX_DAYS,
        initial=30,
        required=False,
        help_text="Days between either side's notice to end the agreement and its end (30 if left empty).",
    )
    note = forms.CharField(
        label="Why the terms change",
        max_length=bounds.SHORT_NOTE,
        required=False,
        help_text="Shown in the version history.",
    )
    decision = forms.CharField(
        label="Decision to go ahead despite running cases",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=bounds.NOTE,
        help_text="Only when running cases would fall outside the new terms: say why the change goes ahead.",
    )

    def __init__(self, *args, agreement: Agreement | None = None, **kwargs):
        if agreement is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "title": agreement.title,
                **{name: getattr(agreement, name) for name in self.term_names()},
            }
        super().__init__(*args, **kwargs)
        self.fields["default_marking"].choices = _default_marking_choices()

    @staticmethod
    def term_names() -> list[str]:
        from agreements.models import TERM_FIELDS

        return list(TERM_FIELDS)

    def terms(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self.term_names()}


class AgreementCreateForm(TermsForm):
    organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.filter(kind=Organisation.Kind.DEVELOPER),
        label="Developer company",
        to_field_name="public_id",
    )
    kind = forms.ChoiceField(
        label="Kind", choices=AgreementKind.choices, initial=AgreementKind.STANDARD, required=False
    )
    parent = forms.ModelChoiceField(
        queryset=Agreement.objects.none(),
        to_field_name="reference",
        required=False,
        label="Amends",
        help_text="For an amendment or addendum: the agreement it changes.",
    )
    amended_clauses = forms.MultipleChoiceField(
        label="Terms it changes",
        choices=[(c.value, c.label) for c in Clause if c != Clause.GENERAL],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="For an amendment or addendum; the other terms stay the parent's.",
    )
    field_order = ["organisation", "title", "kind", "parent", "amended_clauses"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["note"]
        del self.fields["decision"]
        parents = Agreement.objects.exclude(kind__in=[k.value for k in AMENDING_KINDS]).select_related("organisation")
        self.fields["parent"].queryset = scope(parents, user).order_by("-created_at") if user else parents.none()
        self.fields["parent"].label_from_instance = lambda a: f"{a.reference} — {a.title} ({a.organisation.name})"


class TransitionForm(ScopedPortalForm):
    """The confirmation form of one transition; only the fields that transition needs are kept."""

    signature_due = forms.DateField(
        required=False, widget=forms.DateInput, help_text="Both sides should have signed by this date."
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=bounds.NOTE)

    def __init__(self, *args, transition: str, **kwargs):
        self.transition = transition
        super().__init__(*args, **kwargs)

    def setup_fields(self) -> None:
        transition = self.transition
        if transition != "submit_for_signature":
            del self.fields["signature_due"]
        else:
            self.fields["signature_due"].required = True
        if not AGREEMENT_MOVES[transition].needs_reason:
            del self.fields["reason"]
        else:
            self.fields["reason"].required = True


class SignatureDueForm(PortalForm):
    signature_due = forms.DateField(
        label="Signature due date", widget=forms.DateInput, help_text="Both sides should have signed by this date."
    )


class EntryForm(ScopedPortalForm):
    kind = forms.ChoiceField(choices=EntryKind.choices, widget=forms.RadioSelect, initial=EntryKind.PROPOSAL)
    clause = forms.ChoiceField(choices=Clause.choices, initial=Clause.GENERAL)
    responds_to = forms.ModelChoiceField(
        queryset=NegotiationEntry.objects.none(),
        to_field_name="public_id",
        required=False,
        label="In answer to",
        help_text="For a counter-proposal, the proposal it answers.",
    )
    text = forms.CharField(
        label="Proposed text or value, or your comment",
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=bounds.BODY,
    )

    def __init__(self, *args, agreement: Agreement, **kwargs):
        self.agreement = agreement
        super().__init__(*args, **kwargs)

    def setup_fields(self) -> None:
        field = self.fields["responds_to"]
        field.queryset = self.agreement.entries.exclude(kind=EntryKind.COMMENT).select_related("author")
        field.label_from_instance = lambda e: (
            f"{e.get_kind_display()} on {e.get_clause_display().lower()} by "
            f"{e.author.full_name if e.author else 'unknown'}, {e.created_at:%Y-%m-%d}"
        )


class MeetingForm(PortalForm):
    held_at = forms.DateTimeField(label="Held on", widget=forms.DateTimeInput)
    attendees = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), help_text="One per line, with organisation.", max_length=bounds.NOTE
    )
    minutes = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), max_length=bounds.BODY)

    def __init__(self, *args, agreement: Agreement | None = None, **kwargs):
        super().__init__(*args, **kwargs)


def owner_choices(agreement: Agreement):
    """People who may own an open point: centre staff and the company's liaisons."""
    return (
        User.objects.filter(is_active=True)
        .filter(
            Q(membership__organisation__kind=Organisation.Kind.AGENCY)
            | Q(membership__role=Role.LIAISON, membership__organisation_id=agreement.organisation_id)
        )
        .select_related("membership__organisation")
        .order_by("full_name")
    )


class OpenPointForm(ScopedPortalForm):
    title = forms.CharField(max_length=bounds.TITLE)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=bounds.NOTE)
    owner = forms.ModelChoiceField(queryset=User.objects.none(), to_field_name="public_id")
    due_date = forms.DateField(widget=forms.DateInput)

    def __init__(self, *args, agreement: Agreement, **kwargs):
        self.agreement = agreement
        super().__init__(*args, **kwargs)

    def setup_fields(self) -> None:
        self.fields["owner"].queryset = owner_choices(self.agreement)
        self.fields["owner"].label_from_instance = lambda u: f"{u.full_name} ({u.organisation})"


class OpenPointEditForm(ScopedPortalForm):
    owner = forms.ModelChoiceField(queryset=User.objects.none(), to_field_name="public_id")
    due_date = forms.DateField(widget=forms.DateInput)

    def __init__(self, *args, agreement: Agreement, **kwargs):
        self.agreement = agreement
        super().__init__(*args, **kwargs)

    def setup_fields(self) -> None:
        self.fields["owner"].queryset = owner_choices(self.agreement)
        self.fields["owner"].label_from_instance = lambda u: f"{u.full_name} ({u.organisation})"


class ResolveForm(PortalForm):
    resolution = forms.CharField(
        label="How was it resolved?", widget=forms.Textarea(attrs={"rows": 3}), max_length=bounds.NOTE
    )


class DocumentForm(PortalForm):
    file = forms.FileField(help_text="PDF or Word (DOC, DOCX, ODT), checked by content.")
    kind = forms.ChoiceField(choices=DocumentKind.choices, initial=DocumentKind.DRAFT)
    description = forms.CharField(max_length=bounds.SHORT_NOTE, required=False)
    no_classified_information = forms.BooleanField(label=UNCLASSIFIED_STATEMENT)


class SignForm(PortalForm):
    signer_name = forms.CharField(label="Name as signed", max_length=bounds.TITLE)
    capacity = forms.CharField(
        label="Capacity", max_length=bounds.TITLE, help_text="Your title, e.g. Chief Legal Officer."
    )
    confirm = forms.BooleanField(
        label="I am authorised to sign this agreement for my organisation, on the terms shown above."
    )
    # The hash of the terms shown, so a signature never binds terms that changed while the page was open.
    terms_hash_read = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)


class AgreementFilterForm(ScopedPortalForm):
    status = forms.ChoiceField(choices=[("", "Any status"), *AgreementStatus.choices], required=False)
    organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.none(),
        required=False,
        empty_label="Any company",
        to_field_name="public_id",
        label="Company",
    )
    overdue = forms.BooleanField(label="Only with overdue open points", required=False)
    q = search_field("Search reference or title", max_length=bounds.TITLE)

    field_order = ["q", "status", "organisation", "overdue"]

    def __init__(self, *args, organisations=None, **kwargs):
        self.organisations = organisations
        super().__init__(*args, **kwargs)

    def setup_fields(self) -> None:
        if self.organisations is not None:
            self.fields["organisation"].queryset = self.organisations


class ReleaseNoticeForm(PortalForm):
    """The centre records an upcoming covered release (agreements.services.release_notices)."""

    model_name = forms.CharField(max_length=bounds.TITLE)
    model_version = forms.CharField(max_length=bounds.VERSION, required=False)
    planned_release_date = forms.DateField(label="Planned public release date", widget=forms.DateInput)
    notice_given_on = forms.DateField(
        label="Notice given on", widget=forms.DateInput, help_text="The day the company told the centre."
    )
    lead = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True, membership__role=Role.LEAD_EVALUATOR).order_by("full_name"),
        to_field_name="public_id",
        required=False,
        label="Lead evaluator",
        help_text="Told at once if the notice is late.",
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=bounds.NOTE)


class ReleaseDateForm(PortalForm):
    planned_release_date = forms.DateField(label="New planned public release date", widget=forms.DateInput)
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=bounds.NOTE, help_text="Why the release date moves."
    )


class NoticeToEndForm(PortalForm):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), max_length=bounds.NOTE, help_text="Why the agreement is to end."
    )
