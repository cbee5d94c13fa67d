from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.forms import (
    ApiTokenForm,
    EmailAuthenticationForm,
    PortalPasswordChangeForm,
    PortalPasswordResetForm,
    PortalSetPasswordForm,
    ProfileForm,
)
from accounts.models import ApiToken
from accounts.permissions import get_object_for, scope
from accounts.services import api_token_create, api_token_max_days, api_token_revoke
from audit.services import audit_probe
from core.errors import RuleViolation, TransitionNotAllowed


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        # A wrong password is a failed login, recorded by the authentication signal. A form that
        # never got as far as checking a password (no email, no password, not an email at all) is
        # not what a person signing in sends: record it as a probe.
        malformed = sorted(name for name in form.errors if name != NON_FIELD_ERRORS)
        if malformed:
            audit_probe(
                request=self.request,
                kind="sign-in",
                reference=str(form.data.get("username", ""))[:64],
                summary="Malformed sign-in refused (" + ", ".join(malformed) + ")",
            )
        return super().form_invalid(form)


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    form_class = PortalPasswordChangeForm
    success_url = reverse_lazy("password_change_done")


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    form_class = PortalPasswordResetForm
    email_template_name = "emails/password-reset-body.txt"
    subject_template_name = "emails/password-reset-subject.txt"
    success_url = reverse_lazy("password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    form_class = PortalSetPasswordForm
    success_url = reverse_lazy("password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


@login_required
def profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your profile was saved.")
        return redirect("profile")
    return render(request, "accounts/profile.html", {"form": form})


# --- Personal API tokens ----------------------------------------------------------


@login_required
def api_tokens(request):
    """List the user's API tokens and create a new one; the new token is shown on this response only."""
    max_days = api_token_max_days()
    form = ApiTokenForm(request.POST or None, max_days=max_days)
    if request.method == "POST" and form.is_valid():
        try:
            token, plaintext = api_token_create(
                actor=request.user,
                user=request.user,
                name=form.cleaned_data["name"],
                days=form.cleaned_data["days"],
                request=request,
            )
        except RuleViolation as exc:
            for field, errors in exc.errors.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            response = render(request, "accounts/api_token_created.html", {"token": token, "plaintext": plaintext})
            # The one and only time the plaintext is sent: keep it out of every cache.
            response["Cache-Control"] = "no-store"
            return response
    tokens = scope(ApiToken.objects.filter(user=request.user), request.user).order_by("revoked_at", "-created_at")
    return render(
        request,
        "accounts/api_tokens.html",
        {"form": form, "tokens": tokens, "now": timezone.now(), "max_days": max_days},
    )


@login_required
@require_POST
def api_token_revoke_view(request, public_id):
    token = get_object_for(
        request.user, ApiToken.objects.filter(user=request.user), "apitoken.revoke", public_id=public_id
    )
    try:
        api_token_revoke(actor=request.user, token=token, request=request)
    except TransitionNotAllowed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"The token '{token.name}' was revoked; it no longer works.")
    return redirect("api_tokens")
