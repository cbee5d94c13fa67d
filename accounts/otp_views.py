"""Pages of the second factor: enrol an authenticator app, enter a code after the password, backup codes."""

from __future__ import annotations

from urllib.parse import quote

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts import security
from core.forms import PortalForm


class CodeForm(PortalForm):
    token = forms.CharField(
        label="Code",
        max_length=32,
        help_text="The 6-digit code your authenticator app shows now, or one of your backup codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}),
    )


class EnrolForm(CodeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["token"].help_text = "The 6-digit code your authenticator app shows after you add the account."
        self.fields["token"].widget.attrs["inputmode"] = "numeric"


def _next_url(request) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return "/"


@login_required
def setup(request):
    """Enrol an authenticator app; once enrolled, show the status and offer new backup codes."""
    user = request.user
    if security.has_second_factor(user):
        if not security.is_verified(user):
            return redirect(f"{reverse('twofactor:verify')}?next={quote(request.get_full_path())}")
        return render(
            request,
            "security/two_factor_status.html",
            {"backup_codes_left": security.backup_codes_left(user)},
        )
    device = security.totp_enrolment_start(user=user)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = security.totp_enrolment_confirm(user=user, request=request, token=form.cleaned_data["token"])
        except ValidationError as exc:
            form.add_error("token", exc)
        else:
            messages.success(request, "Two-factor authentication is on. Keep your backup codes somewhere safe.")
            return render(request, "security/backup_codes.html", {"codes": codes, "next": _next_url(request)})
    return render(
        request,
        "security/two_factor_setup.html",
        {
            "form": form,
            "qr_data_uri": security.totp_qr_data_uri(device),
            "secret": security.totp_secret_for_display(device),
            "required": security.second_factor_required(request),
            "next": _next_url(request),
        },
    )


@login_required
def verify(request):
    """The second step of signing in: a code from the authenticator app or a backup code."""
    user = request.user
    if not security.has_second_factor(user):
        return redirect("twofactor:setup")
    if security.is_verified(user):
        return redirect(_next_url(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            security.second_factor_verify(user=user, request=request, token=form.cleaned_data["token"])
        except ValidationError as exc:
            form.add_error("token", exc)
        else:
            return redirect(_next_url(request))
    return render(request, "security/two_factor_verify.html", {"form": form, "next": _next_url(request)})


@login_required
@require_POST
def backup_codes(request):
    """Replace the backup codes and show the new ones once."""
    try:
        codes = security.backup_codes_regenerate(user=request.user, request=request)
    except ValidationError:
        return redirect("twofactor:setup")
    return render(request, "security/backup_codes.html", {"codes": codes, "next": "/"})
