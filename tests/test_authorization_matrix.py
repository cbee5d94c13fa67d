"""Walk every URL as every kind of person and check the status each one gets.

Rows come from ``<app>/tests/authz_matrix.py`` (see tests/authz.py). A named
URL of the project without a row fails ``test_every_url_has_a_matrix_row``,
so a new page or endpoint cannot ship without saying who may reach it.
"""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.authz import ACTORS, Row

MATRIX_APPS = ["accounts", "agreements", "assessments", "findings", "reminders", "audit", "reviewportal.programme"]


MODULES = [importlib.import_module(f"{app}.tests.authz_matrix") for app in MATRIX_APPS]
ROWS: list[Row] = [row for module in MODULES for row in module.ROWS]
ADMIN_ROWS: list[Row] = [row for module in MODULES for row in getattr(module, "ADMIN_ROWS", [])]


def _named_urls(resolver=None, namespace: str = "") -> set[str]:
    names: set[str] = set()
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}{entry.namespace}:"
            names |= _named_urls(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(f"{namespace}{entry.name}")
    return names


def test_every_url_has_a_matrix_row():
    # The Django admin is checked model by model in test_admin_is_for_programme_admins_only.
    named = {name for name in _named_urls() if not name.startswith("admin:")}
    covered = {row.url_name for row in ROWS}
    missing = sorted(named - covered)
    assert not missing, f"URLs without a row in an authz_matrix.py: {missing}"
    stale = sorted(covered - named)
    assert not stale, f"Matrix rows for URLs that no longer exist: {stale}"


@pytest.fixture
def world(
    centre,
    company_a,
    company_b,
    agreement_a,
    agreement_b,
    case,
    case_b,
    liaison_a,
    liaison_b,
    evaluator,
    evaluator_other,
    lead,
    lead2,
    admin_user,
):
    w = SimpleNamespace(
        centre=centre,
        company_a=company_a,
        company_b=company_b,
        agreement_a=agreement_a,
        agreement_b=agreement_b,
        case=case,
        case_b=case_b,
        liaison_a=liaison_a,
        liaison_b=liaison_b,
        evaluator=evaluator,
        evaluator_other=evaluator_other,
        lead=lead,
        lead2=lead2,
        admin_user=admin_user,
        anonymous=None,
    )
    for module in MODULES:
        build = getattr(module, "build", None)
        if build is not None:
            build(w)
    return w


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r.method.upper()} {r.url_name}{' ' + r.note if r.note else ''}")
def test_authorization_matrix(row: Row, world, client):
    url = reverse(row.url_name, kwargs=row.resolve_kwargs(world)) + (f"?{row.query}" if row.query else "")
    failures = []
    for actor in ACTORS:
        client.logout()
        user = getattr(world, actor)
        if user is not None:
            client.force_login(user)
        # Each actor's request runs in a savepoint that is rolled back, so POSTs do not leak into the next.
        with transaction.atomic():
            response = getattr(client, row.method)(url, data=row.resolve_data(world))
            transaction.set_rollback(True)
        wanted = row.expect[actor]
        ok = response.status_code in wanted if isinstance(wanted, tuple) else response.status_code == wanted
        if not ok:
            failures.append(f"{actor}: got {response.status_code}, expected {wanted}")
    assert not failures, f"{row.method.upper()} {url}: " + "; ".join(failures)


def test_admin_is_for_programme_admins_only(world, client):
    from django.contrib import admin

    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        urls.append(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"))
    for url in urls:
        for actor in ACTORS:
            client.logout()
            user = getattr(world, actor)
            if user is not None:
                client.force_login(user)
            response = client.get(url)
            expected = 200 if actor == "admin_user" else 302
            assert response.status_code == expected, f"{actor} on {url}: {response.status_code}"
            if expected == 302:
                assert "/admin/login/" in response["Location"]


@pytest.mark.parametrize("row", ADMIN_ROWS, ids=lambda r: f"{r.method.upper()} {r.url_name} {r.note}")
def test_admin_authorization_matrix(row: Row, world, client):
    """Each admin page and action: the programme admin reaches it; everyone else goes to the admin login."""
    url = reverse(row.url_name, kwargs=row.resolve_kwargs(world))
    failures = []
    for actor in ACTORS:
        client.logout()
        user = getattr(world, actor)
        if user is not None:
            client.force_login(user)
        with transaction.atomic():
            response = getattr(client, row.method)(url, data=row.resolve_data(world))
            transaction.set_rollback(True)
        wanted = row.expect[actor]
        ok = response.status_code in wanted if isinstance(wanted, tuple) else response.status_code == wanted
        if ok and response.status_code == 302:
            to_login = "/admin/login/" in response["Location"]
            ok = to_login != (actor == "admin_user")
        if not ok:
            where = f" to {response['Location']}" if response.status_code == 302 else ""
            failures.append(f"{actor}: got {response.status_code}{where}, expected {wanted}")
    assert not failures, f"{row.method.upper()} {url}: " + "; ".join(failures)


def test_every_admin_model_and_action_has_a_matrix_row(admin_user):
    from django.contrib import admin
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = admin_user
    covered = {(row.url_name, row.note) for row in ADMIN_ROWS}
    missing = []
    for model, model_admin in admin.site._registry.items():
        base = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        if (f"{base}_change", f"admin {model._meta.label_lower}") not in covered:
            missing.append(f"{base}_change")
        for action in model_admin.get_actions(request):
            if (f"{base}_changelist", f"admin action {action}") not in covered:
                missing.append(f"{base}_changelist action {action}")
    assert not missing, f"Admin pages and actions without a row in an authz_matrix.py ADMIN_ROWS: {sorted(missing)}"
