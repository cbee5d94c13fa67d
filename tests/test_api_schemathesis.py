"""Fuzz every operation of /api/schema/ as each role, through the real WSGI app.

For each role (programme admin, lead evaluator, evaluator, company liaison)
a personal API token is minted on the demo world (``seed_demo``), and every
operation in the schema is called with Hypothesis-generated input, a few
examples each: once with generated path parameters (mostly 404s) and, for
detail operations, once with the id of an object that role can see, taken
from the matching list. Every response must be free of server errors and
agree with the schema: documented status code, content type, headers and
body shape. Bounded (``EXAMPLES`` per operation, no deadline, derandomised)
so it runs in CI in a couple of minutes. The write throttle is raised for
the run so the fuzzer's writes reach their views; the test fails when more
than 5 % of them are answered 429.
"""

from __future__ import annotations

import io
import logging
import re

import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import User
from accounts.services import api_token_create

EXAMPLES = 8
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
ROLES = {
    "programme admin": "admin@caisi.example",
    "lead evaluator": "lead@caisi.example",
    "evaluator": "evaluator@caisi.example",
    "company liaison": "liaison@alpha-ai.example",
}
PATH_PARAM = re.compile(r"\{([^}]+)\}")
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def demo_world(db):
    call_command("seed_demo", "--force-demo-password", stdout=io.StringIO())


@pytest.fixture
def quiet_request_log():
    """Thousands of expected 404s would drown the report of the few that matter."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(level)


@pytest.fixture
def wsgi_app(quiet_request_log):
    """The project's WSGI app, run in the test's transaction (as Django's own test client does)."""
    from reviewportal.wsgi import application

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield application
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _visible_ids(operation, headers) -> dict[str, str]:
    """Lookup values of objects this role can see, from the list operation of the same resource."""
    list_path = operation.path[: operation.path.index("{")]
    list_operation = operation.schema[list_path]["GET"] if list_path in operation.schema else None
    if list_operation is None or "GET" not in operation.schema[list_path]:
        return {}
    response = list_operation.Case().call(headers=headers)
    if response.status_code != 200:
        return {}
    body = response.json()
    rows = body.get("results", body) if isinstance(body, dict) else body
    names = PATH_PARAM.findall(operation.path)
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict):
            continue
        if all(name in row for name in names):
            return {name: str(row[name]) for name in names}
        if len(names) == 1 and "id" in row:  # e.g. {public_id} is serialised as "id"
            return {names[0]: str(row["id"])}
    return {}


def _fuzz(operation, headers, statuses: list[int], path_parameters=None) -> str | None:
    """Fuzz one operation; append the status of every answer to ``statuses``; a failure's report or None."""
    strategy = operation.as_strategy(path_parameters=path_parameters) if path_parameters else operation.as_strategy()

    @given(case=strategy)
    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        call_and_validate(case)

    def call_and_validate(case):
        response = case.call(headers=headers)
        statuses.append(response.status_code)
        case.validate_response(response, checks=CHECKS, headers=headers)

    try:
        if operation.method.upper() == "GET" and ("{" not in operation.path or path_parameters):
            # One plain call first (no generated query), so the default first page is always validated.
            call_and_validate(operation.Case(path_parameters=path_parameters or None))
        run()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - schemathesis raises exception groups; reported together below
        return f"{operation.method.upper()} {operation.path}: {exc}"[:2500]
    return None


@pytest.mark.parametrize("role", list(ROLES))
def test_every_operation_answers_as_documented(role, demo_world, wsgi_app, settings):
    # The fuzzer writes far faster than any script would: at the default rate most of its writes
    # answered 429 and never reached a view. The share of 429s is checked below.
    settings.API_WRITE_RATE = "100000/min"
    user = User.objects.get(email=ROLES[role])
    _, token = api_token_create(actor=user, user=user, name="schemathesis", days=1)
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app)

    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 5, "the schema lists the API's operations"
    failures, with_real_ids, write_statuses = [], 0, []
    for operation in operations:
        statuses = write_statuses if operation.method.upper() in WRITES else []
        failures.append(_fuzz(operation, headers, statuses))
        if "{" in operation.path:
            ids = _visible_ids(operation, headers)
            if ids:
                with_real_ids += 1
                failures.append(_fuzz(operation, headers, statuses, path_parameters=ids))
    failures = [f for f in failures if f]
    assert with_real_ids > 0, f"as {role}, no detail operation was called on an object the role can see"
    throttled = write_statuses.count(429)
    assert len(write_statuses) > 50, f"as {role}, the write operations were called"
    assert throttled <= 0.05 * len(write_statuses), (
        f"as {role}, {throttled} of {len(write_statuses)} writes were throttled (429) instead of reaching their view"
    )
    assert not failures, f"{len(failures)} operation(s) misbehaved as {role}:\n\n" + "\n\n".join(failures)
