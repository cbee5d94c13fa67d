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
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

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


# Django's own widget templates that the renderer writes in Python, with the same markup byte for
# byte (tests/test_form_renderer.py compares them): a list's filter bar rendered its selects through
# a template per option and its inputs through two nested includes, which cost a page more than
# its rows. Any other template (a widget of a library, a file input) is rendered as usual.
_INPUT_TEMPLATES = frozenset(
    f"django/forms/widgets/{name}.html"
    for name in (
        "input",
        "text",
        "email",
        "url",
        "number",
        "password",
        "search",
        "tel",
        "color",
        "date",
        "datetime",
        "time",
        "hidden",
        "checkbox",
    )
)
_SELECT_TEMPLATE = "django/forms/widgets/select.html"
_OPTION_TEMPLATE = "django/forms/widgets/select_option.html"
_TEXTAREA_TEMPLATE = "django/forms/widgets/textarea.html"


def _attrs(attrs: dict) -> str:
    """``django/forms/widgets/attrs.html``: `` name="value"``, a bare `` name`` for True, nothing for False."""
    return "".join(
        f" {conditional_escape(name)}"
        if value is True
        else f' {conditional_escape(name)}="{conditional_escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _safe(html: str) -> str:
    # Every name, value and label in ``html`` was escaped by the writer that built it.
    return mark_safe(html)  # noqa: S308  # nosec B308 B703


def _input(widget: dict) -> str:
    kind, name = conditional_escape(widget["type"]), conditional_escape(widget["name"])
    value = "" if widget["value"] is None else f' value="{conditional_escape(widget["value"])}"'
    return _safe(f'<input type="{kind}" name="{name}"{value}{_attrs(widget["attrs"])}>')


def _select(widget: dict) -> str | None:
    """A programme's companies make a select of hundreds of options: each is written by one f-string."""
    parts = []
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
        for option in group_choices:
            if option["template_name"] != _OPTION_TEMPLATE:
                return None  # an option with a template of its own is rendered by it
            value, label, attrs = option["value"], option["label"], option["attrs"]
            parts.append(
                f'\n  <option value="{conditional_escape(value)}"{_attrs(attrs) if attrs else ""}>'
                f"{conditional_escape(label)}</option>\n"
            )
        if group_name:
            parts.append("\n  </optgroup>")
    name = conditional_escape(widget["name"])
    return _safe(f'<select name="{name}"{_attrs(widget["attrs"])}>{"".join(parts)}\n</select>')


def _textarea(widget: dict) -> str:
    text = conditional_escape(widget["value"]) if widget["value"] else ""
    name = conditional_escape(widget["name"])
    return _safe(f'<textarea name="{name}"{_attrs(widget["attrs"])}>\n{text}</textarea>')


class USWDSFormRenderer(TemplatesSetting):
    form_template_name = "forms/uswds_form.html"
    field_template_name = "forms/uswds_field.html"

    def render(self, template_name, context, request=None):
        widget = context.get("widget") if len(context) == 1 else None
        if widget is not None:
            if template_name in _INPUT_TEMPLATES:
                return _input(widget)
            if template_name == _SELECT_TEMPLATE:
                written = _select(widget)
                if written is not None:
                    return written
            elif template_name == _TEXTAREA_TEMPLATE:
                return _textarea(widget)
        return super().render(template_name, context, request)


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
