"""The form a programme admin records a company's engagement with, on the company's engagement page."""

from __future__ import annotations

from django import forms

from accounts.models import EngagementChange, Organisation
from accounts.states import EngagementStage, engagement_targets
from core.forms import PortalForm


class EngagementForm(PortalForm):
    """The stage (the current one, or one it may move to) and the disclosure flag, with a note.

    Only the moves ``accounts.states`` allows are offered; the service checks again, and its
    refusal is shown on the form with what was typed.
    """

    stage = forms.ChoiceField(label="Engagement stage")
    disclosure_permitted = forms.BooleanField(
        label="The company agrees that its participation may be disclosed publicly", required=False
    )
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=EngagementChange._meta.get_field("note").max_length,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What happened, for the record. Required when recording a company as lapsed.",
    )

    def __init__(self, *args, organisation: Organisation, **kwargs):
        kwargs.setdefault(
            "initial",
            {"stage": organisation.engagement_stage, "disclosure_permitted": organisation.disclosure_permitted},
        )
        super().__init__(*args, **kwargs)
        current = organisation.engagement_stage
        allowed = [current, *engagement_targets(current)]
        self.fields["stage"].choices = [
            (value, f"{label} (now)" if value == current else label)
            for value, label in EngagementStage.choices
            if value in allowed
        ]
