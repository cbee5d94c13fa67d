"""The filter bar's company select, written without a template per option, reads as Django's own."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.urls import reverse

from core.forms import QuickSelect

pytestmark = pytest.mark.django_db


def _options(html: str) -> list[tuple[str, bool, str]]:
    return [
        (value, bool(selected), label)
        for value, selected, label in re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', html)
    ]


def test_it_renders_the_same_options_as_a_select_with_values_and_labels_escaped():
    choices = [("", "Any company"), ("a", 'Evil "<b>" & Co'), ("b", "Beta AI")]
    quick = QuickSelect(choices=choices).render("organisation", "a", attrs={"id": "id_organisation"})
    plain = forms.Select(choices=choices).render("organisation", "a", attrs={"id": "id_organisation"})
    assert (
        _options(quick)
        == _options(plain)
        == [
            ("", False, "Any company"),
            ("a", True, "Evil &quot;&lt;b&gt;&quot; &amp; Co"),
            ("b", False, "Beta AI"),
        ]
    )
    assert quick.startswith('<select name="organisation" id="id_organisation">')
    assert "<b>" not in quick


def test_the_agreements_filter_offers_every_company_and_keeps_the_chosen_one(client_for, admin_user, company_a):
    page = client_for(admin_user).get(reverse("agreements:list"), {"organisation": str(company_a.public_id)})
    select = re.search(r'<select name="organisation"[^>]*>.*?</select>', page.text, re.S).group(0)
    options = _options(select)
    assert options[0] == ("", False, "Any company")
    assert (str(company_a.public_id), True, company_a.name) in options
    assert 'class="usa-select' in select
