"""The authorization matrix: every URL, every kind of person, the expected status.

Each app lists rows for its URLs in ``<app>/tests/authz_matrix.py``::

    ROWS = [
        Row("agreements:detail", kwargs=lambda w: {"reference": w.agreement_a.reference},
            expect=CASE_OBJECT),
    ]
    def build(w):                      # optional: add the app's objects to the world
        w.open_point = OpenPointFactory(agreement=w.agreement_a)

``tests/test_authorization_matrix.py`` collects every app's rows, walks the
whole URL configuration, and fails when a named URL has no row. ``expect``
maps each actor of ``ACTORS`` to a status code (or a tuple of acceptable
codes); a row may be a POST with ``data`` (a dict, or a function of the world).

The Django admin has its own list, ``ADMIN_ROWS``, in the same modules: one
``admin_change_row`` per registered model and one ``admin_action_row`` per
admin action (``test_every_admin_model_and_action_has_a_matrix_row`` says
which are missing). Everyone but the programme admin is sent to the
admin's login page.

The world ``w`` carries the shared fixtures: centre, company_a, company_b,
agreement_a, agreement_b, case (company A, led by ``lead``, ``evaluator`` on
the team), case_b (company B, led by ``lead2``, ``evaluator_other`` on it),
and one attribute per actor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ACTORS = ("anonymous", "liaison_a", "liaison_b", "evaluator", "evaluator_other", "lead", "admin_user")


def expect(default: int | tuple[int, ...], **overrides: int | tuple[int, ...]) -> dict[str, Any]:
    """Expected status per actor: ``default`` for everyone not named."""
    unknown = set(overrides) - set(ACTORS)
    if unknown:
        raise ValueError(f"Unknown actors {unknown}")
    return {actor: overrides.get(actor, default) for actor in ACTORS}


LOGIN_REDIRECT = 302
# A page every signed-in member may open; anonymous people are sent to login.
ANY_MEMBER = expect(200, anonymous=LOGIN_REDIRECT)
# An object of company A's case: company B and the evaluator off the case get 404.
CASE_OBJECT = expect(200, anonymous=LOGIN_REDIRECT, liaison_b=404, evaluator_other=404)
# Same, but the company never sees it (drafts, internal pages).
CASE_INTERNAL = expect(200, anonymous=LOGIN_REDIRECT, liaison_a=404, liaison_b=404, evaluator_other=404)
# API: anonymous callers get 401 with a WWW-Authenticate: Bearer challenge (no session, no token).
API_ANONYMOUS = 401


# The Django admin: programme admins only; everyone else is sent to the admin's login page.
ADMIN_PAGE = expect(LOGIN_REDIRECT, admin_user=200)
# An admin action: the programme admin is sent back to the list, where the outcome is shown.
ADMIN_ACTION = expect(LOGIN_REDIRECT, admin_user=302)


@dataclass
class Row:
    url_name: str
    expect: dict[str, Any]
    kwargs: Callable[[Any], dict] | dict = field(default_factory=dict)
    method: str = "get"
    data: Callable[[Any], dict] | dict | None = None
    query: str = ""
    note: str = ""

    def resolve_kwargs(self, world: Any) -> dict:
        return self.kwargs(world) if callable(self.kwargs) else dict(self.kwargs)

    def resolve_data(self, world: Any) -> dict | None:
        return self.data(world) if callable(self.data) else self.data


def admin_change_row(label: str, obj: Callable[[Any], Any]) -> Row:
    """The admin change page of ``obj(world)``, a ``app_label.modelname`` object."""
    app, model = label.split(".")
    return Row(
        f"admin:{app}_{model}_change",
        kwargs=lambda w: {"object_id": obj(w).pk},
        expect=ADMIN_PAGE,
        note=f"admin {label}",
    )


def admin_action_row(
    label: str,
    action: str,
    objects: Callable[[Any], list],
    extra: dict | None = None,
    statuses: dict[str, Any] = ADMIN_ACTION,
) -> Row:
    """A POST of the admin action ``action`` on ``objects(world)`` from the model's change list."""
    app, model = label.split(".")
    return Row(
        f"admin:{app}_{model}_changelist",
        method="post",
        data=lambda w: {"action": action, "_selected_action": [o.pk for o in objects(w)], **(extra or {})},
        expect=statuses,
        note=f"admin action {action}",
    )
