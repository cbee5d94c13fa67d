from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, PasswordResetForm, SetPasswordForm

from accounts.models import User
from reviewportal.forms import PortalModelForm, USWDSFormMixin


class EmailAuthenticationForm(USWDSFormMixin, AuthenticationForm):
    username = forms.EmailField(
        label="Email address", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "username"})
    )

    error_messages = {
        "invalid_login": "That email address and password do not match an active account.",
        "inactive": "This account is disabled. Contact the programme team.",
    }


class PortalPasswordChangeForm(USWDSFormMixin, PasswordChangeForm):
    pass


class PortalPasswordResetForm(USWDSFormMixin, PasswordResetForm):
    pass


class PortalSetPasswordForm(USWDSFormMixin, SetPasswordForm):
    pass


class ProfileForm(PortalModelForm):
    class Meta:
        model = User
        fields = ["full_name", "time_zone"]
        help_texts = {"time_zone": "Dates and times are shown in this zone, e.g. America/New_York or Europe/London."}
