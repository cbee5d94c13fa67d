from django import forms

from core.forms import PortalForm
from reminders.models import EmailPreference


class PreferenceForm(PortalForm):
    email = forms.ChoiceField(
        label="Reminder emails",
        choices=EmailPreference.choices,
        widget=forms.RadioSelect,
        help_text="In-app notifications always appear. Overdue escalations to leads and programme admins are "
        "always emailed.",
    )
