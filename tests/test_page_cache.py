"""Kept pages (core/page_cache.py): the same bytes again only while nothing they were read from changed.

Each test asserts what a person sees on their next visit; ``X-Page-Cache`` says whether the answer
was a kept page, so a test that expects a fresh page cannot pass by accident of a miss.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from core import page_cache
from findings.models import Finding
from findings.services import finding_update
from findings.tests.factories import FindingFactory, released_finding

pytestmark = pytest.mark.django_db

NONCE = re.compile(r'nonce="([^"]+)"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _page_cache_on(settings):
    settings.PAGE_CACHE = True
    settings.PAGE_CACHE_MAX_AGE = 60
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex}
    }
    cache.clear()
    page_cache._down_until = 0.0
    yield
    cache.clear()
    page_cache._down_until = 0.0


@pytest.fixture
def finding(case, evaluator):
    return FindingFactory(assessment=case, author=evaluator, title="Jailbreak through role-play")


def _visit(client, url, **extra):
    response = client.get(url, **extra)
    assert response.status_code == 200
    return response


def test_the_second_visit_is_the_kept_page_and_runs_no_query_of_the_page(
    client_for, lead, finding, django_assert_max_num_queries
):
    client = client_for(lead)
    url = reverse("findings:list")
    first = _visit(client, url)
    assert first["X-Page-Cache"] == "miss"
    with django_assert_max_num_queries(3):  # the session and the person, as for every request
        second = _visit(client, url)
    assert second["X-Page-Cache"] == "hit"
    assert "Jailbreak through role-play" in second.content.decode()
    same = NONCE.sub("", CSRF.sub("", first.content.decode()))
    assert NONCE.sub("", CSRF.sub("", second.content.decode())) == same


def test_a_change_through_the_services_shows_on_the_next_visit(client_for, lead, evaluator, finding):
    client = client_for(lead)
    url = reverse("findings:list")
    _visit(client, url)
    finding_update(actor=evaluator, finding=finding, data={"title": "Jailbreak through translation"})
    page = _visit(client, url)
    assert page["X-Page-Cache"] == "miss"
    assert "Jailbreak through translation" in page.content.decode()
    assert "Jailbreak through role-play" not in page.content.decode()


def test_a_change_made_around_the_services_shows_on_the_next_visit(client_for, lead, finding):
    client = client_for(lead)
    url = reverse("findings:detail", args=[finding.reference])
    _visit(client, url)
    assert _visit(client, url)["X-Page-Cache"] == "hit"
    Finding.objects.filter(pk=finding.pk).update(title="Renamed by a bulk update")
    page = _visit(client, url)
    assert "Renamed by a bulk update" in page.content.decode()


def test_a_new_record_shows_on_the_next_visit(client_for, lead, case, evaluator, finding):
    client = client_for(lead)
    url = reverse("findings:list")
    _visit(client, url)
    FindingFactory(assessment=case, author=evaluator, title="Uplift in synthesis planning")
    assert "Uplift in synthesis planning" in _visit(client, url).content.decode()


def test_each_person_gets_only_their_own_page(client_for, lead, liaison_b, finding):
    url = reverse("findings:list")
    theirs_first = client_for(lead)
    _visit(theirs_first, url)
    assert _visit(theirs_first, url)["X-Page-Cache"] == "hit"
    theirs = _visit(client_for(liaison_b), url)
    assert theirs["X-Page-Cache"] == "miss"
    assert "Jailbreak through role-play" not in theirs.content.decode()


def test_a_liaison_moved_to_another_company_no_longer_sees_the_first_ones_pages(
    client_for, lead, evaluator, liaison_a, company_b, case
):
    from accounts.models import Membership

    released_finding(assessment=case, author=evaluator, released_by=lead, title="Company A's released finding")
    client = client_for(liaison_a)
    url = reverse("findings:list")
    _visit(client, url)
    assert "Company A&#x27;s released finding" in _visit(client, url).content.decode()
    # Read with the person before any view runs (accounts/backends.py), so never seen by the recording.
    Membership.objects.filter(user=liaison_a).update(organisation=company_b)
    page = _visit(client, url)
    assert page["X-Page-Cache"] == "miss"
    assert "released finding" not in page.content.decode()


def test_the_same_address_asked_for_as_json_is_kept_apart(client_for, lead, finding):
    client = client_for(lead)
    _visit(client, "/api/v1/findings/", HTTP_ACCEPT="application/json")
    as_json = _visit(client, "/api/v1/findings/", HTTP_ACCEPT="application/json")
    assert as_json["X-Page-Cache"] == "hit"
    assert as_json.json()["results"][0]["title"] == "Jailbreak through role-play"
    browsable = client.get("/api/v1/findings/", HTTP_ACCEPT="text/html")
    assert browsable["Content-Type"].startswith("text/html")
    assert "X-Page-Cache" not in browsable  # the browsable API is never kept


def _token_client(user) -> Client:
    from accounts.services import api_token_create

    _, raw = api_token_create(actor=user, user=user, name="script", days=30)
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_ACCEPT="application/json")


def test_a_call_with_a_bearer_token_is_answered_from_its_own_kept_page(lead, liaison_b, evaluator, finding):
    script = _token_client(lead)
    assert script.get("/api/v1/findings/")["X-Page-Cache"] == "miss"
    kept = script.get("/api/v1/findings/")
    assert kept["X-Page-Cache"] == "hit"
    assert [row["title"] for row in kept.json()["results"]] == ["Jailbreak through role-play"]
    finding_update(actor=evaluator, finding=finding, data={"title": "Jailbreak through translation"})
    assert script.get("/api/v1/findings/").json()["results"][0]["title"] == "Jailbreak through translation"
    other = _token_client(liaison_b).get("/api/v1/findings/")
    assert other.json()["results"] == []


def test_a_revoked_token_is_refused_even_with_a_kept_page(lead, finding):
    from accounts.models import ApiToken

    script = _token_client(lead)
    script.get("/api/v1/findings/")
    assert script.get("/api/v1/findings/")["X-Page-Cache"] == "hit"
    ApiToken.objects.filter(user=lead).update(revoked_at=dt.datetime.now(dt.UTC))
    refused = script.get("/api/v1/findings/")
    assert refused.status_code == 401
    assert "X-Page-Cache" not in refused


def test_a_bad_token_is_refused_and_never_answered_from_a_kept_page(client_for, lead, finding):
    client = client_for(lead)
    _visit(client, "/api/v1/findings/", HTTP_ACCEPT="application/json")
    refused = client.get("/api/v1/findings/", HTTP_AUTHORIZATION="Bearer not-a-real-token")
    assert refused.status_code == 401
    assert "X-Page-Cache" not in refused


def test_every_answer_has_its_own_nonce_matching_its_header(client_for, lead, finding):
    client = client_for(lead)
    url = reverse("findings:list")
    nonces = []
    for _ in range(3):
        page = _visit(client, url)
        found = set(NONCE.findall(page.content.decode()))
        assert len(found) == 1
        nonce = found.pop()
        assert f"'nonce-{nonce}'" in page["Content-Security-Policy"]
        nonces.append(nonce)
    assert page["X-Page-Cache"] == "hit"
    assert len(set(nonces)) == 3


def test_the_csrf_token_of_a_kept_page_is_fresh_and_accepted(lead, finding):
    client = Client(enforce_csrf_checks=True)
    client.force_login(lead)
    url = reverse("findings:list")
    first = _visit(client, url)
    kept = _visit(client, url)
    assert kept["X-Page-Cache"] == "hit"
    token = CSRF.search(kept.content.decode()).group(1)
    assert token != CSRF.search(first.content.decode()).group(1)
    signed_out = client.post(reverse("logout"), {"csrfmiddlewaretoken": token})
    assert signed_out.status_code == 302


def test_a_kept_report_still_puts_each_days_first_reading_on_record(settings, client_for, lead, case, evaluator):
    released_finding(assessment=case, author=evaluator, released_by=lead)
    url = reverse("findings:report", args=[case.reference])
    lead.time_zone = "UTC"
    lead.save(update_fields=["time_zone"])

    def readings():
        return AuditEvent.objects.filter(action="export", case_ref=case.reference).count()

    before = readings()
    # Twenty seconds before midnight (the person's day), then twenty after: the kept page is 40 s old.
    start = dt.datetime.now(dt.UTC).replace(hour=23, minute=59, second=40, microsecond=0)
    with time_machine.travel(start, tick=False):
        client = client_for(lead)
        assert "X-Page-Cache" not in _visit(client, url)  # the day's first reading writes: not kept
        assert _visit(client, url)["X-Page-Cache"] == "miss"
        assert _visit(client, url)["X-Page-Cache"] == "hit"
    assert readings() == before + 1  # once a day
    with time_machine.travel(start + dt.timedelta(seconds=40), tick=False):
        assert _visit(client, url)["X-Page-Cache"] == "hit"
    assert readings() == before + 2  # the new day's first reading is on record, though the page was kept


def test_a_kept_report_is_refused_to_whoever_may_no_longer_read_it(client_for, lead, case, evaluator, liaison_a):
    released_finding(assessment=case, author=evaluator, released_by=lead)
    client = client_for(liaison_a)
    url = reverse("findings:report_company", args=[case.reference])
    for _ in range(3):
        page = _visit(client, url)
    assert page["X-Page-Cache"] == "hit"
    # The full report is not the liaison's to read; the kept released-findings page is no way round that.
    assert client.get(reverse("findings:report", args=[case.reference])).status_code == 403


def test_a_message_to_show_is_never_hidden_by_a_kept_page(client_for, lead):
    client = client_for(lead)
    url = reverse("reminders:preferences")
    _visit(client, url)
    assert _visit(client, url)["X-Page-Cache"] == "hit"
    saved = client.post(url, {"email": "digest"})
    assert saved.status_code == 302
    page = _visit(client, url)
    assert "Your reminder settings were saved." in page.content.decode()
    assert "X-Page-Cache" not in page  # neither looked up nor kept while a message waits
    again = _visit(client, url)
    assert again["X-Page-Cache"] == "miss"
    assert "Your reminder settings were saved." not in again.content.decode()


def test_a_kept_page_is_rendered_again_when_it_reaches_its_age(client_for, lead, finding):
    client = client_for(lead)
    url = reverse("findings:list")
    start = dt.datetime.now(dt.UTC)
    with time_machine.travel(start, tick=False):
        _visit(client, url)
    with time_machine.travel(start + dt.timedelta(seconds=30), tick=False):
        assert _visit(client, url)["X-Page-Cache"] == "hit"
    with time_machine.travel(start + dt.timedelta(seconds=61), tick=False):
        assert _visit(client, url)["X-Page-Cache"] == "miss"


def test_the_admin_is_never_kept(client_for, admin_user, finding):
    client = client_for(admin_user)
    url = reverse("admin:findings_finding_changelist")
    for _ in range(2):
        assert "X-Page-Cache" not in _visit(client, url)


def test_off_means_nothing_is_kept(settings, client_for, lead, finding):
    settings.PAGE_CACHE = False
    client = client_for(lead)
    url = reverse("findings:list")
    for _ in range(2):
        assert "X-Page-Cache" not in _visit(client, url)


def _version(table):
    return cache.get(page_cache.VERSION_PREFIX + table)


@pytest.mark.django_db(transaction=True)
def test_a_write_renews_its_tables_version_at_once_and_again_at_commit(finding):
    before = _version("findings_finding")
    with transaction.atomic():
        Finding.objects.filter(pk=finding.pk).update(title="Renamed")
        during = _version("findings_finding")
    after = _version("findings_finding")
    assert None not in (before, during, after)
    assert len({before, during, after}) == 3


@pytest.mark.django_db(transaction=True)
def test_a_write_after_a_rolled_back_savepoint_is_still_renewed_at_commit(finding):
    with transaction.atomic():
        try:
            with transaction.atomic():
                Finding.objects.filter(pk=finding.pk).update(title="Renamed")
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        Finding.objects.filter(pk=finding.pk).update(title="Renamed again")
        before_commit = _version("findings_finding")
    assert _version("findings_finding") != before_commit


def test_reads_change_no_version(finding):
    before = _version("findings_finding")
    list(Finding.objects.all())
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM findings_finding")
    assert before is not None
    assert _version("findings_finding") == before


@pytest.mark.parametrize(
    ("sql", "write"),
    [
        ('SELECT "findings_finding"."id" FROM "findings_finding"', False),
        ("  select 1", False),
        ('INSERT INTO "findings_finding" ("title") VALUES (%s)', True),
        ("update findings_finding set title = 'x'", True),
        ('DELETE FROM "findings_finding"', True),
        ("WITH moved AS (DELETE FROM findings_finding RETURNING id) SELECT count(*) FROM moved", True),
        ("WITH recent AS (SELECT id FROM findings_finding) SELECT count(*) FROM recent", False),
        ("TRUNCATE findings_finding", True),
        ("SAVEPOINT s1", False),
    ],
)
def test_which_statements_are_writes(sql, write):
    assert page_cache.is_write(sql) is write


def test_a_statement_names_its_tables_quoted_or_not():
    sql = 'UPDATE "findings_finding" SET x = 1 WHERE assessment_id IN (SELECT id FROM assessments_assessment)'
    assert page_cache.tables_in(sql) == {"findings_finding", "assessments_assessment"}


def test_a_composed_statement_is_read_by_its_text(finding):
    class Composed:  # as psycopg's sql.Composed: not a str, but its text names the table
        def __str__(self):
            return "Composed([SQL('UPDATE '), Identifier('findings_finding'), SQL(' SET title = x')])"

    before = _version("findings_finding")
    page_cache.track_statement(lambda *args: None, Composed(), None, False, {"connection": connection})
    assert _version("findings_finding") not in (None, before)


def test_a_write_naming_no_known_table_renews_every_table(finding):
    before = _version("findings_finding")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    assert _version("findings_finding") not in (None, before)
    assert _version("assessments_assessment") is not None


def test_a_cached_total_on_a_page_ties_it_to_the_records_generation(client_for, lead, case):
    client = client_for(lead)
    url = reverse("dashboard")
    _visit(client, url)
    assert _visit(client, url)["X-Page-Cache"] == "hit"
    from core.freshness import records_changed

    records_changed()
    assert _visit(client, url)["X-Page-Cache"] == "miss"


def test_with_redis_a_kept_page_is_shared_and_a_write_from_anywhere_makes_it_stale(
    settings, redis_url, client_for, lead, finding
):
    import redis

    prefix = f"page-cache-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": prefix,
        }
    }
    server = redis.Redis.from_url(redis_url)
    try:
        client = client_for(lead)
        url = reverse("findings:detail", args=[finding.reference])
        _visit(client, url)
        assert _visit(client, url)["X-Page-Cache"] == "hit"
        # Another process (its own connection to Redis) renews the table's version, as a worker's write does.
        from django.core.cache.backends.redis import RedisCache

        RedisCache(redis_url, {"KEY_PREFIX": prefix}).set(
            page_cache.VERSION_PREFIX + "findings_finding", "another-process", timeout=None
        )
        assert _visit(client, url)["X-Page-Cache"] == "miss"
        assert server.ttl(f"{prefix}:1:{page_cache.VERSION_PREFIX}findings_finding") == -1  # versions never expire
    finally:
        keys = server.keys(f"{prefix}:*")
        if keys:
            server.delete(*keys)


def test_a_cache_that_does_not_answer_costs_nothing_but_the_keeping(settings, client_for, lead, evaluator, finding):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"}
    }
    client = client_for(lead)
    url = reverse("findings:list")
    first = _visit(client, url)
    assert "X-Page-Cache" not in first
    assert page_cache._cache_down()  # the first failure makes the process leave the cache alone a while
    finding_update(actor=evaluator, finding=finding, data={"title": "Jailbreak through translation"})
    page = _visit(client, url)
    assert "Jailbreak through translation" in page.content.decode()
    assert "X-Page-Cache" not in page
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}  # for the teardown
