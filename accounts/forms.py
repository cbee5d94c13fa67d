from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, PasswordResetForm, SetPasswordForm

from accounts.models import User
from core.forms import PortalForm, PortalModelForm, USWDSFormMixin


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


class ApiTokenForm(PortalForm):
    """Name and lifetime of a new personal API token (the service checks the limits again)."""

    name = forms.CharField(
        max_length=100, help_text="What the token is for, so you recognise it later, e.g. 'nightly export script'."
    )
    days = forms.IntegerField(
        label="Expires after (days)",
        min_value=1,
        initial=90,
        help_text="The token stops working after this many days.",
    )

    def __init__(self, *args, max_days: int, **kwargs):
        # Set before the base class runs, because the USWDS mixin validates a bound form while it initialises.
        self.max_days = max_days
        super().__init__(*args, **kwargs)
        self.fields["days"].widget.attrs["max"] = max_days
        self.fields["days"].help_text = f"The token stops working after this many days (1 to {max_days})."

    def clean_days(self) -> int:
        days = self.cleaned_data["days"]
        if days > self.max_days:
            raise forms.ValidationError(f"A token can last at most {self.max_days} days.")
        return days
