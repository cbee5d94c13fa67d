"""The form that changes an item's handling marking (``core.markings``), and the upload confirmation.

Every app's marking page uses ``MarkingForm`` and calls its entity's ``<entity>_set_marking``
service; upload forms add ``attestation_field()`` under ``ATTESTATION_FIELD``.
"""

from __future__ import annotations

from django import forms

from core import bounds
from core.forms import PortalForm
from core.markings import ATTESTATION_FIELD, UNCLASSIFIED_STATEMENT, HandlingMarking

__all__ = ["ATTESTATION_FIELD", "MarkingForm", "attestation_field"]


class MarkingForm(PortalForm):
    marking = forms.ModelChoiceField(
        label="Handling marking",
        queryset=HandlingMarking.objects.order_by("rank"),
        to_field_name="code",
        empty_label=None,
        widget=forms.RadioSelect,
        help_text="Least restrictive first. Raising is for anyone who works on the item; lowering needs a lead "
        "evaluator or an admin, and is recorded with your reason.",
    )
    reason = forms.CharField(
        label="Reason",
        required=False,
        max_length=bounds.NOTE,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required to lower a marking.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["marking"].label_from_instance = lambda m: (
            f"{m.name} — {m.description}" if m.description else m.name
        )


def attestation_field(*, required: bool = True) -> forms.BooleanField:
    """The confirmation an uploader ticks; the service refuses the files without it."""
    return forms.BooleanField(
        label=UNCLASSIFIED_STATEMENT,
        required=required,
        help_text="Recorded with each file: who confirmed it, when, and this statement.",
    )
