"""The form renderer writes Django's common widgets in Python: the markup is Django's own, byte for byte."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django import forms
from django.forms.renderers import TemplatesSetting
from django.urls import reverse
from django.utils.safestring import mark_safe

from core.forms import USWDSFormRenderer

pytestmark = pytest.mark.django_db

HOSTILE = 'Evil "<b>" & Co \u00e9'

# (widget, value): every kind of widget the renderer writes itself, with awkward values and attributes.
CASES = [
    (forms.TextInput(attrs={"class": "usa-input", "maxlength": 200, "required": True, "disabled": False}), HOSTILE),
    (forms.TextInput(), None),
    (forms.TextInput(), 0),
    (forms.EmailInput(attrs={"autocomplete": "email"}), "a@b.example"),
    (forms.NumberInput(attrs={"min": 1, "max": 30}), 7),
    (forms.PasswordInput(render_value=True), "s3cret\"'"),
    (forms.HiddenInput(), "token"),
    (forms.DateInput(attrs={"type": "date"}), date(2026, 11, 29)),
    (forms.DateTimeInput(), "2026-11-29T10:00"),
    (forms.URLInput(), "https://example.gov/?a=1&b=<2>"),
    (forms.CheckboxInput(attrs={"aria-invalid": "true"}), True),
    (forms.CheckboxInput(), False),
    (forms.Textarea(attrs={"rows": 3, "class": "usa-textarea"}), f"line one\n{HOSTILE}"),
    (forms.Textarea(), ""),
    (forms.Textarea(), mark_safe("<p>already safe</p>")),
    (forms.Select(choices=[("", "Any"), ("a", HOSTILE), ("b", "Beta AI")], attrs={"class": "usa-select"}), "a"),
    (forms.Select(choices=[(1, "One"), (2, "Two")]), 2),
    (forms.Select(choices=[("Group <1>", [("x", "X"), ("y", "Y")]), ("z", "Z")]), "y"),
    (forms.Select(choices=[]), None),
]


@pytest.mark.parametrize(("widget", "value"), CASES, ids=[f"{type(w).__name__}-{i}" for i, (w, _) in enumerate(CASES)])
def test_the_markup_is_djangos_own(widget, value):
    ours = widget.render("field", value, attrs={"id": "id_field"}, renderer=USWDSFormRenderer())
    djangos = widget.render("field", value, attrs={"id": "id_field"}, renderer=TemplatesSetting())
    assert ours == djangos
    assert "<b>" not in ours  # every value and label escaped


def test_a_widget_with_templates_of_its_own_is_rendered_by_them():
    widget = forms.RadioSelect(choices=[("a", "A"), ("b", HOSTILE)])
    ours = widget.render("field", "a", renderer=USWDSFormRenderer())
    assert ours == widget.render("field", "a", renderer=TemplatesSetting())
    assert 'type="radio"' in ours


def _options(html: str) -> list[tuple[str, bool, str]]:
    return [
        (value, bool(selected), label)
        for value, selected, label in re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', html)
    ]


def test_the_agreements_filter_offers_every_company_and_keeps_the_chosen_one(client_for, admin_user, company_a):
    page = client_for(admin_user).get(reverse("agreements:list"), {"organisation": str(company_a.public_id)})
    select = re.search(r'<select name="organisation"[^>]*>.*?</select>', page.text, re.S).group(0)
    options = _options(select)
    assert options[0] == ("", False, "Any company")
    assert (str(company_a.public_id), True, company_a.name) in options
    assert 'class="usa-select' in select
