from django import forms

from core.forms import PortalForm
from core.lists import search_field
from reminders.models import EmailPreference


class PreferenceForm(PortalForm):
    email = forms.ChoiceField(
        label="Reminder emails",
        choices=EmailPreference.choices,
        widget=forms.RadioSelect,
        help_text="In-app notifications always appear. Overdue escalations to leads and programme admins are "
        "always emailed.",
    )


class DeadlineFilterForm(PortalForm):
    q = search_field("Search what is due")
    show = forms.ChoiceField(
        choices=[("all", "All open"), ("upcoming", "Upcoming"), ("overdue", "Overdue")], required=False
    )


class NotificationFilterForm(PortalForm):
    q = search_field("Search titles")
    unread = forms.BooleanField(label="Unread only", required=False)
