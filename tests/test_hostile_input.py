"""No input makes a 500: every URL pattern, hostile values, every kind of person.

The URL patterns come from the resolver itself (web pages, the REST API and
the Django admin), so a new page is walked the day it is added. Each path
parameter in turn gets a hostile value (a NUL byte, ``..``, 1,000 characters,
an encoded slash, a dotted value that looks like a format suffix) while the
other parameters keep a real value from the authorization matrix, so the
lookup behind a valid parent is reached too. Each page is also asked for with
a format suffix (``.json``) in place of its trailing slash, and with NUL in
its query string.

The walk runs as anonymous, programme admin, lead, evaluator and company
liaison (a few thousand requests in all), and asserts that nothing answers
5xx, that a NUL in a path is a 404 and a NUL in the query string a 400, and
that every error under /api/ has the API's error shape. NUL only breaks
PostgreSQL (``DataError``), so run this file with ``DATABASE_URL`` pointing at
PostgreSQL as well as on SQLite.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.regex_helper import normalize

from tests.test_authorization_matrix import ROWS, world  # noqa: F401 - world is a fixture

ROLES = ["anonymous", "admin_user", "lead", "evaluator", "liaison_a"]

# What goes into the address as typed (already percent-encoded where it must be).
HOSTILE = {
    "NUL": "%00",
    "dot-dot": "..",
    "1,000 characters": "x" * 1000,
    "encoded slash": "a%2Fb",
    "dotted like a format suffix": "0.5",
}
NUL_QUERY = "q=%00&search=%00&status=%00&ordering=%00&page=%00&case_ref=%00"


@dataclass(frozen=True)
class Pattern:
    name: str  # namespaced URL name, or "" for an unnamed pattern
    template: str  # e.g. "/findings/%(reference)s/", as Django reverses it
    params: tuple[str, ...]

    @property
    def is_admin(self) -> bool:
        return self.template.startswith("/admin/")


def _walk(resolver, prefix: str = "", namespace: str = ""):
    for entry in resolver.url_patterns:
        regex = entry.pattern.regex.pattern.removeprefix("^")
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry, prefix + regex, inner)
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name}" if entry.name else "", prefix + regex


def url_patterns() -> list[Pattern]:
    """Every pattern the site answers, from the resolver (one reversible form each)."""
    patterns = []
    for name, regex in _walk(get_resolver()):
        template, params = normalize(regex)[0]
        patterns.append(Pattern(name=name, template="/" + template, params=tuple(params)))
    return patterns


PATTERNS = url_patterns()


def _real_kwargs(world) -> dict[str, dict[str, str]]:  # noqa: F811
    """A real value for each parameter of each named URL, from the authorization matrix."""
    real: dict[str, dict[str, str]] = {}
    for row in ROWS:
        real.setdefault(row.url_name, {k: str(v) for k, v in row.resolve_kwargs(world).items()})
    return real


def _fill(pattern: Pattern, values: dict[str, str]) -> str:
    return pattern.template % values


def hostile_urls(pattern: Pattern, real: dict[str, str]) -> list[tuple[str, str]]:
    """(what is hostile, address) pairs for one pattern."""
    filler = {p: quote(real[p], safe="") if p in real else "x" for p in pattern.params}
    urls = []
    for param in pattern.params:
        for label, value in HOSTILE.items():
            urls.append((f"{param}={label}", _fill(pattern, {**filler, param: value})))
    base = _fill(pattern, filler)
    if base.endswith("/"):
        urls.append(("format suffix", base[:-1] + ".json"))
    return urls


def assert_api_error_shape(response, url: str) -> None:
    assert response["Content-Type"].startswith("application/json"), f"{url}: {response['Content-Type']}"
    body = response.json()
    assert set(body) == {"detail", "code", "errors"}, f"{url}: {body}"


def _check(response, method: str, label: str, url: str, must_be: int | None) -> str | None:
    """What is wrong with one answer, or None: a 5xx, another status than ``must_be``, a non-API error body."""
    status = response.status_code
    where = f"{method.upper()} {url[:120]} ({label})"
    if status >= 500:
        exc = response.exc_info[1] if response.exc_info else None
        return f"{where}: {status} {type(exc).__name__}: {exc}"[:400]
    if must_be is not None and status != must_be:
        return f"{where}: {status}, expected {must_be}"
    if url.startswith("/api/v1/") and status >= 400:
        try:
            assert_api_error_shape(response, url)
        except AssertionError as exc:
            return f"{where}: {exc}"[:400]
    return None


def _walk_as(client, user, requests) -> tuple[list[str], int]:
    """GET each (label, url, expected status); POST too where GET is not allowed, so POST-only
    views reach their lookups. Returns the failures and the number of requests sent."""
    client.raise_request_exception = False
    client.logout()
    if user is not None:
        client.force_login(user)
    failures, sent = [], 0
    logger = logging.getLogger("django.request")  # thousands of expected 404s would drown the report
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        for label, url, must_be in requests:
            methods = ["get"]
            while methods:
                method = methods.pop()
                response = getattr(client, method)(url)
                sent += 1
                problem = _check(response, method, label, url, must_be)
                if problem:
                    failures.append(problem)
                if method == "get" and response.status_code == 405:
                    methods.append("post")
    finally:
        logger.setLevel(level)
    return failures, sent


def _walked(role: str, pattern: Pattern) -> bool:
    # The admin sends everyone but programme admins to its login page before any lookup
    # (tests/test_authorization_matrix.py checks that), so only programme admins walk it.
    return role == "admin_user" or not pattern.is_admin


@pytest.mark.parametrize("role", ROLES)
def test_no_hostile_address_makes_a_server_error(role, world, client, settings):  # noqa: F811
    settings.API_WRITE_RATE = "100000/min"  # so every POST reaches its view instead of the throttle
    real = _real_kwargs(world)
    requests = []
    for pattern in PATTERNS:
        if not _walked(role, pattern):
            continue
        for label, url in hostile_urls(pattern, real.get(pattern.name, {})):
            # A NUL in a path names nothing that can exist: 404, whoever asks.
            requests.append((label, url, 404 if label.endswith("=NUL") else None))
    failures, sent = _walk_as(client, getattr(world, role), requests)
    assert sent > 500, "the resolver lists the site's pages"
    assert not failures, f"{len(failures)} of {sent} requests as {role} failed:\n" + "\n".join(failures)


# The query string is refused before anything that depends on who asks, so two roles suffice:
# anonymous, and the programme admin who reaches the most pages (the admin's filters included).
@pytest.mark.parametrize("role", ["anonymous", "admin_user"])
def test_nul_in_the_query_string_of_any_page_is_400(role, world, client):  # noqa: F811
    real = _real_kwargs(world)
    requests = []
    for pattern in PATTERNS:
        if not _walked(role, pattern):
            continue
        filler = {p: quote(real.get(pattern.name, {}).get(p, "x"), safe="") for p in pattern.params}
        requests.append(("query", f"{_fill(pattern, filler)}?{NUL_QUERY}", 400))
    failures, sent = _walk_as(client, getattr(world, role), requests)
    assert not failures, f"{len(failures)} of {sent} requests as {role} failed:\n" + "\n".join(failures)


# --- Addresses, filters and headers: the one middleware ------------------------------------


def test_nul_in_a_reference_is_the_not_found_page(client_for, evaluator, case):
    response = client_for(evaluator).get("/findings/%00/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_nul_in_an_api_reference_is_a_json_404(client_for, evaluator, case):
    response = client_for(evaluator).get("/api/v1/findings/%00/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found", "errors": {}}


def test_control_character_in_a_search_is_a_400_page_naming_the_parameter(client_for, evaluator, case):
    response = client_for(evaluator).get("/findings/?q=%00")
    assert response.status_code == 400
    body = response.content.decode()
    assert "usa-alert--error" in body
    assert "Remove the invisible control character U+0000 (character 1)" in body
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("value", ["%01", "a%09b", "%7F", "%0A"])
def test_any_control_character_in_an_api_filter_is_a_400_naming_it(client_for, evaluator, case, value):
    """Tab and newline too: no filter, search or ordering value holds one."""
    response = client_for(evaluator).get(f"/api/v1/findings/?search={value}")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["errors"]) == ["search"]
    assert "control character" in body["detail"]


def test_nul_in_an_admin_filter_is_400(client_for, admin_user):
    response = client_for(admin_user).get("/admin/audit/auditevent/?case_ref=%00")
    assert response.status_code == 400
    assert "Remove the invisible control character U+0000" in response.content.decode()


def test_forged_session_cookie_with_nul_reads_as_signed_out(client, db):
    response = client.get("/findings/", HTTP_COOKIE='sessionid="\\000abcdefghijkl"')
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_control_character_in_the_api_token_is_a_json_400(client, db):
    response = client.get("/api/v1/findings/", HTTP_AUTHORIZATION="Bearer rp_\x00abc_secret")
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"detail", "code", "errors"}
    assert "Authorization header" in body["detail"]


# --- Submitted text: every portal form and every API body ----------------------------------

POSTED_ROWS = [row for row in ROWS if row.method == "post" and row.data is not None]


def _poisoned(value, char: str):
    if isinstance(value, str):
        return f"{value[:1]}{char}{value[1:]}" if value else char
    if isinstance(value, list):
        return [_poisoned(item, char) for item in value]
    return value


def _succeeding_actor(row) -> str | None:
    """Someone the matrix lets through (a signed-in person whose POST succeeds), or None."""
    for actor, wanted in row.expect.items():
        codes = wanted if isinstance(wanted, tuple) else (wanted,)
        if actor != "anonymous" and any(code in (200, 201, 302) for code in codes):
            return actor
    return None


@pytest.mark.parametrize("char", ["\x00", "\x0b"], ids=["NUL", "vertical tab"])
def test_control_characters_in_every_posted_form_and_body_are_refused(char, world, client, settings):  # noqa: F811
    """Every POST of the matrix, with a control character inside each of its text values, as someone
    it would succeed for: refused (the form again with its errors, an error message, or a 400 naming
    the fields), never a 500, and nothing written."""
    from audit.models import AuditEvent

    settings.API_WRITE_RATE = "100000/min"
    client.raise_request_exception = False
    checked, failures = 0, []
    for row in POSTED_ROWS:
        actor = _succeeding_actor(row)
        data = row.resolve_data(world)
        poisoned = {key: _poisoned(value, char) for key, value in data.items()}
        if actor is None or poisoned == data:
            continue
        url = reverse(row.url_name, kwargs=row.resolve_kwargs(world))
        client.logout()
        client.force_login(getattr(world, actor))
        events = AuditEvent.objects.count()
        with transaction.atomic():
            response = client.post(url, poisoned)
            written = AuditEvent.objects.count() - events
            transaction.set_rollback(True)
        checked += 1
        where = f"{row.url_name} as {actor}: {response.status_code}"
        if url.startswith("/api/"):
            if response.status_code != 400 or set(response.json()) != {"detail", "code", "errors"}:
                failures.append(f"{where} {response.content[:200]!r}")
        elif response.status_code == 302:
            # A button without a form (advance a case): the service refuses, the page says why.
            if not any(m.level_tag == "error" for m in response.wsgi_request._messages):
                failures.append(f"{where}: redirected without an error message")
        elif response.status_code not in (200, 400) or "usa-error-message" not in response.content.decode():
            failures.append(f"{where}: expected the form again with its errors")
        if written:
            failures.append(f"{where}: {written} audit event(s) written for a refused input")
    assert checked > 20, "the matrix's POSTs with data were tried"
    assert not failures, "\n".join(failures)


def test_a_form_keeps_what_was_typed_and_says_which_character(client_for, liaison_a, world):  # noqa: F811
    from findings.models import FindingComment

    response = client_for(liaison_a).post(
        f"/findings/{world.f_released.reference}/comments/", {"body": "Agreed;\x0bship it"}
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "Remove the invisible control character U+000B (character 8)" in body
    assert "Agreed;\x0bship it" in body  # the text area holds what was typed
    assert not FindingComment.objects.filter(body__startswith="Agreed;").exists()


def test_tab_and_newlines_stay_allowed_in_submitted_text(client_for, liaison_a, world):  # noqa: F811
    from findings.models import FindingComment

    text = "Steps:\r\n\t1. Open a session.\n\t2. Ask."
    response = client_for(liaison_a).post(f"/findings/{world.f_released.reference}/comments/", {"body": text})
    assert response.status_code == 302
    assert FindingComment.objects.get(finding=world.f_released, author=liaison_a).body == text


def _api(client, user):
    client.force_login(user)
    return client


def _finding_body(case, **changes) -> dict:
    body = {"assessment": case.reference, "title": "Refusals bypassed", "risk_domain": "cyber", "severity": "low"}
    return {**body, "summary": "Exploit code under role-play.", **changes}


def test_api_json_with_a_control_character_is_400_naming_the_field(client, evaluator, case):
    from findings.models import Finding

    body = _finding_body(case, title="Refusals\x01bypassed", summary="Fine\tso far\nreally")
    response = _api(client, evaluator).post("/api/v1/findings/", body, content_type="application/json")
    message = "Remove the invisible control character U+0001 (character 9); it cannot be stored or shown."
    assert response.status_code == 400
    assert response.json() == {"detail": f"title: {message}", "code": "invalid", "errors": {"title": [message]}}
    assert not Finding.objects.exists()


def test_api_json_keeps_tab_and_newlines(client, evaluator, case):
    response = _api(client, evaluator).post(
        "/api/v1/findings/", _finding_body(case, summary="Fine\tso far\r\nreally"), content_type="application/json"
    )
    assert response.status_code == 201
    assert response.json()["summary"] == "Fine\tso far\r\nreally"


def test_api_json_nested_value_and_key_are_checked(client, evaluator, case):
    body = {**_finding_body(case), "extra": [{"note": "a\x00b"}], "bad\x00key": 1}
    response = _api(client, evaluator).post("/api/v1/findings/", body, content_type="application/json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"extra.0.note", "non_field_errors"}


def test_api_multipart_field_with_a_control_character_is_400(client, liaison_a, world):  # noqa: F811
    response = _api(client, liaison_a).post(
        f"/api/v1/findings/{world.f_released.reference}/respond/",
        {"disposition": "disputed", "company_response": "We\x1bwill fix it."},
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["company_response"]


@pytest.mark.parametrize("body", ["[" * 10_000, "[" * 33 + "]" * 33], ids=["10,000 open brackets", "33 levels"])
def test_deeply_nested_json_is_a_clear_400(client, evaluator, case, body):
    response = _api(client, evaluator).post("/api/v1/findings/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "The JSON body is nested more than 32 levels deep.",
        "code": "parse_error",
        "errors": {},
    }


def test_json_nested_within_the_limit_is_read(client, evaluator, case):
    body = {**_finding_body(case), "extra": [[[["deep enough"]]]]}
    response = _api(client, evaluator).post("/api/v1/findings/", body, content_type="application/json")
    assert response.status_code == 201


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_a_six_megabyte_api_body_is_413_in_the_error_shape(client, evaluator, case, content_type, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
    big = "y" * (6 * 1024 * 1024)
    if content_type == "application/json":
        payload = json.dumps(_finding_body(case, summary=big))
    else:
        payload = urlencode(_finding_body(case, summary=big))
    response = _api(client, evaluator).post("/api/v1/findings/", payload, content_type=content_type)
    assert response.status_code == 413
    assert response.json() == {
        "detail": "The request body is larger than the 5 MB allowed (files count separately).",
        "code": "too_large",
        "errors": {},
    }


def test_a_six_megabyte_form_post_is_the_portal_400_page(client_for, liaison_a, world):  # noqa: F811
    response = client_for(liaison_a).post(
        f"/findings/{world.f_released.reference}/comments/",
        urlencode({"body": "y" * (6 * 1024 * 1024)}),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert "larger than the portal accepts" in response.content.decode()


def test_version_numbers_beyond_any_column_are_a_400_naming_them(client_for, lead, agreement_a):
    response = client_for(lead).get(
        f"/api/v1/agreements/{agreement_a.reference}/versions/compare/",
        {"from": "-735", "to": "271959011252833659607249321984"},
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"from": ["A version number (1, 2, …)."], "to": ["A version number (1, 2, …)."]}
