"""The base classes every app's admin builds on: each asks the permission policy.

The admin obeys the same rules as the portal. A field a rule governs is
read-only here, or is saved by the service that owns the rule (an admin's
``save_model`` or an action calls it); when the service refuses, nothing is
saved and its message is shown on the form. Nothing is deleted through the
admin unless a ModelAdmin says so (only second-factor devices and lockouts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm

from accounts.permissions import can
from core.control_characters import validate_text
from core.errors import RuleViolation
from core.markings import HandlingMarking


class NoteActionForm(ActionForm):
    """The actions bar with a text box for the reason or rationale a service asks for."""

    note = forms.CharField(
        label="Reason",
        required=False,
        widget=forms.TextInput(attrs={"size": 40, "placeholder": "Reason (for actions that need one)"}),
    )


class MarkingActionForm(NoteActionForm):
    """The actions bar of a marked model (``core.markings``): the marking to give, and the reason box."""

    marking = forms.ModelChoiceField(
        label="Marking",
        queryset=HandlingMarking.objects.order_by("rank"),
        to_field_name="code",
        required=False,
        empty_label="Handling marking (for the marking action)",
    )

    def chosen_marking(self) -> HandlingMarking | None:
        """The marking picked, or None (none or an unknown code). Read alone: the bar's action choices
        are filled in by the admin's own copy of this form, not by this one."""
        try:
            return self.fields["marking"].clean(self.data.get("marking"))
        except forms.ValidationError:
            return None


def run_marking_action(model_admin: PolicyModelAdmin, request, objects: Iterable[Any], call: Callable) -> None:
    """The marking action of a marked model's admin: ``call(obj, marking, reason)`` (the entity's
    ``<entity>_set_marking`` service) for each object, with the marking and reason of the actions bar."""
    marking = MarkingActionForm(request.POST).chosen_marking()
    if marking is None:
        model_admin.message_user(request, "Choose the handling marking to give.", messages.ERROR)
        return
    reason = model_admin.action_note(request).strip()
    model_admin.run_service(
        request, objects, lambda obj: call(obj, marking, reason), done=f"Marked {{count}} item(s) {marking.name}."
    )


def _refused_form(form_class: type[forms.BaseForm], refusal: RuleViolation) -> type[forms.BaseForm]:
    """``form_class`` that fails validation with the service's refusal: its messages on the fields at fault."""

    class RefusedForm(form_class):
        def clean(self):
            cleaned = super().clean()
            placed: list[str] = []
            for name, field_messages in refusal.errors.items():
                if name in self.fields:
                    for message in field_messages:
                        self.add_error(name, message)
                        placed.append(message)
            if str(refusal) not in placed:
                self.add_error(None, str(refusal))
            return cleaned

    RefusedForm.__name__ = form_class.__name__
    return RefusedForm


class PolicyModelAdmin(admin.ModelAdmin):
    """Programme admins manage what the admin shows; nobody else reaches it.

    Subclasses that save through a service override ``save_model`` (and
    ``save_related`` when the service writes relations) and let the
    service's ``RuleViolation`` propagate: ``changeform_view`` turns it into
    form errors after the admin's transaction rolled everything back.
    Admins whose actions need a reason set ``action_form = NoteActionForm``.
    """

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        # The admin's text fields refuse control characters like every portal form does.
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if isinstance(field, forms.CharField) and validate_text not in field.validators:
            field.validators.append(validate_text)
        return field

    def has_module_permission(self, request) -> bool:
        return can(request.user, "admin.access")

    def has_view_permission(self, request, obj=None) -> bool:
        return can(request.user, "admin.access")

    def has_add_permission(self, request) -> bool:
        return can(request.user, "admin.access")

    def has_change_permission(self, request, obj=None) -> bool:
        return can(request.user, "admin.access")

    def has_delete_permission(self, request, obj=None) -> bool:
        # Records are kept: users are deactivated, cases withdrawn, tickets revoked, never deleted.
        return False

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except RuleViolation as refusal:
            # A service refused inside the admin's transaction, which the exception rolled back, so
            # nothing was saved. Show the form again with what was typed and the rule's message.
            request._service_refusal = refusal
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        refusal = getattr(request, "_service_refusal", None)
        return form if refusal is None else _refused_form(form, refusal)

    def action_note(self, request) -> str:
        """The text typed in the actions bar's Reason box."""
        return request.POST.get("note", "")

    def run_service(self, request, objects: Iterable[Any], call: Callable[[Any], Any], *, done: str) -> int:
        """Call ``call(obj)`` (one service call, its own transaction) for each object.

        A refusal leaves that object as it was and is shown with the object's
        name; ``done`` (with ``{count}``) reports the others. Returns how many
        the services accepted.
        """
        count = 0
        for obj in objects:
            try:
                call(obj)
            except RuleViolation as refusal:
                self.message_user(request, f"{obj}: {refusal}", messages.ERROR)
            else:
                count += 1
        if count:
            self.message_user(request, done.format(count=count), messages.SUCCESS)
        return count

    # Edits made in the admin reach the audit trail like any other: who, what, before and after
    # (secret-looking fields masked). Admins that save through a service (which audits) override
    # save_model without calling this one.
    def save_model(self, request, obj, form, change) -> None:
        from audit.services import audit_record, diff_fields

        before = {name: form.initial.get(name) for name in form.changed_data}
        super().save_model(request, obj, form, change)
        after = {name: form.cleaned_data.get(name) for name in form.changed_data}
        audit_record(
            actor=request.user,
            action="change" if change else "create",
            obj=obj,
            request=request,
            changes=diff_fields(before, after) if change else {},
            summary="Changed in the admin" if change else "Created in the admin",
        )

    def delete_model(self, request, obj) -> None:
        from audit.services import audit_record

        audit_record(
            actor=request.user, action="delete", obj=obj, request=request, summary=f"Deleted in the admin: {obj}"
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


class ReadOnlyPolicyAdmin(PolicyModelAdmin):
    """For records nobody may change through the admin (audit events, history)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyTabularInline(admin.TabularInline):
    """An inline of records kept as history (files, comments, reveals): shown, never added, changed or deleted.

    Subclasses set ``model`` and ``fields``; every field is read-only.
    """

    extra = 0
    can_delete = False

    def has_view_permission(self, request, obj=None) -> bool:
        return can(request.user, "admin.access")

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
