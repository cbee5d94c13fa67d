"""Form rendering in the U.S. Web Design System.

``USWDSFormRenderer`` makes ``{{ form }}`` render every field as a USWDS
form group (label, hint, error message, input); ``USWDSFormMixin`` gives each
widget its USWDS class and refuses control characters in every text field.
Forms that fail validation re-render bound, so what the user typed stays in
the fields.
"""

from __future__ import annotations

from django import forms
from django.forms.renderers import TemplatesSetting
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join

from core.control_characters import validate_text
from core.errors import RuleViolation

_WIDGET_CLASSES: list[tuple[type, str]] = [
    (forms.CheckboxSelectMultiple, "usa-checkbox__input"),
    (forms.RadioSelect, "usa-radio__input"),
    (forms.CheckboxInput, "usa-checkbox__input"),
    (forms.Textarea, "usa-textarea"),
    (forms.SelectMultiple, "usa-select"),
    (forms.Select, "usa-select"),
    (forms.ClearableFileInput, "usa-file-input"),
    (forms.FileInput, "usa-file-input"),
    (forms.widgets.Input, "usa-input"),
]


class USWDSFormRenderer(TemplatesSetting):
    form_template_name = "forms/uswds_form.html"
    field_template_name = "forms/uswds_field.html"


class QuickSelect(forms.Select):
    """A select whose options are written in Python rather than by one template include each.

    Django renders every option of a select through its own template, which costs a list's filter
    bar more than the list itself when the choices are a programme's companies. The markup is the
    same as Django's (every value and label escaped by ``format_html``).
    """

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (option["value"], " selected" if option["selected"] else "", option["label"])
                for _group, group_options, _index in widget["optgroups"]
                for option in group_options
            ),
        )
        return format_html('<select name="{}"{}>{}</select>', widget["name"], flatatt(widget["attrs"]), options)


def widget_css_class(widget: forms.Widget) -> str:
    for widget_type, css in _WIDGET_CLASSES:
        if isinstance(widget, widget_type):
            return css
    return ""


class USWDSFormMixin:
    """Adds USWDS classes to widgets, marks invalid inputs for screen readers, and refuses control
    characters (other than tab and newlines) in every text field, beside the field, on every portal form.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = widget_css_class(field.widget)
            existing = field.widget.attrs.get("class", "")
            field.widget.attrs["class"] = f"{existing} {css}".strip()
            if isinstance(field.widget, forms.DateInput):
                field.widget.input_type = "date"
            if isinstance(field.widget, forms.DateTimeInput):
                field.widget.input_type = "datetime-local"

    def full_clean(self):
        # Here rather than in __init__, so a field a subclass adds after setting up is covered too.
        # Django's CharField refuses NUL only; the other control characters are as invisible.
        for field in self.fields.values():
            if isinstance(field, forms.CharField) and validate_text not in field.validators:
                field.validators.append(validate_text)
        # Marked after validation (not in __init__), so subclasses can finish setting up first.
        super().full_clean()
        for name in self.errors:
            field = self.fields.get(name)
            if field is not None:
                field.widget.attrs["aria-invalid"] = "true"
                field.widget.attrs["class"] = f"{field.widget.attrs.get('class', '')} usa-input--error".strip()


class PortalForm(USWDSFormMixin, forms.Form):
    pass


class PortalModelForm(USWDSFormMixin, forms.ModelForm):
    pass


def form_add_rule_violation(form: forms.Form, exc: RuleViolation) -> None:
    """Show a service's refusal on a bound form, keeping everything the user typed.

    Messages for fields the form has go beside those fields; messages for other
    fields, or a refusal that names no field, go above the form.
    """
    placed = False
    for field, messages in (exc.errors or {}).items():
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, message)
            placed = True
    if not placed:
        form.add_error(None, str(exc))
