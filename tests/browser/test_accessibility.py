"""Every page a demo role can reach, and the admin pages, pass axe-core's WCAG 2.1 A/AA rules.

Each role signs in to the demo world (``seed_demo``) and crawls from its dashboard: same-origin
links, one page per URL pattern, at most ``PAGE_CAP`` pages. A failure lists every page, rule,
impact and element, so one run shows all there is to fix.
"""

from __future__ import annotations

import io
import time
from dataclasses import replace
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from accounts.demo import DEMO_USERS
from accounts.tests.factories import TEST_PASSWORD
from audit.models import AuditEvent
from audit.services import audit_record
from tests.browser.accessibility import Crawl, admin_page, axe_violations, portal_page, report, url_pattern

pytestmark = pytest.mark.browser

# One login per role; the demo world gives each something in every state it can see.
ROLES = ("admin", "lead", "evaluator", "liaison_alpha")
PAGE_CAP = 40
ADMIN_PAGE_CAP = 80
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def demo_world(settings):
    settings.DEMO_PASSWORD = TEST_PASSWORD
    call_command("seed_demo", "--force-demo-password", stdout=io.StringIO())


def _crawl(visitor, role: str, follow, start: str, *, cap=PAGE_CAP, look_ahead=3, shared=None) -> Crawl:
    tab = visitor(f"axe-{role}")
    tab.sign_in(DEMO_USERS[role][0])
    shared = set() if shared is None else shared
    crawl = Crawl(tab=tab, follow=follow, cap=cap, look_ahead=look_ahead, shared=shared).run(start)
    print(f"axe: {role} checked {len(crawl.visited)} pages in {crawl.seconds:.1f}s")
    return crawl


def test_every_page_each_demo_role_reaches_has_no_serious_accessibility_violation(visitor, demo_world):
    violations, problems, sizes, shared, on_phone = [], [], [], set(), set()
    began = time.monotonic()
    for role in ROLES:
        crawl = _crawl(visitor, role, portal_page, "/", shared=shared)
        assert len(crawl.visited) >= 8, f"{role}: the crawl saw too little: {crawl.visited}"
        # The programme page is reached from the menu by those who run the programme, and only by them.
        assert ("/programme/" in crawl.visited) == (role in ("admin", "lead")), f"{role}: {crawl.visited}"
        # On a phone, wide tables scroll sideways: the scrolling part must be reachable by keyboard.
        # Each kind of page with a table is checked again at phone width, by the first role to see it.
        tables = [path for path in crawl.with_tables if url_pattern(urlsplit(path).path)[1] not in on_phone]
        on_phone.update(url_pattern(urlsplit(path).path)[1] for path in tables)
        crawl.tab.page.set_viewport_size(PHONE)
        phone = Crawl(tab=crawl.tab, follow=portal_page)
        for path in tables:
            phone.check(path)
        violations += crawl.violations + [replace(v, page=f"{v.page} (phone)") for v in phone.violations]
        problems += [f"{role}: {problem}" for problem in crawl.problems + phone.problems]
        sizes.append(len(crawl.visited) + len(phone.visited))
    print(
        f"axe: {sum(sizes)} pages for {len(ROLES)} roles ({len(on_phone)} at phone width too)"
        f" in {time.monotonic() - began:.0f}s"
    )
    assert not violations and not problems, report(violations, problems)


def test_the_programme_pages_have_no_serious_accessibility_violation(visitor, demo_world):
    """The programme page (its charts, tables and links) and a company's engagement form, with and
    without an error, at desktop and phone widths."""
    from accounts.models import Organisation

    tab = visitor("axe-programme")
    tab.sign_in(DEMO_USERS["admin"][0])
    delta = Organisation.objects.get(name="Delta AI")
    engagement = f"/programme/companies/{delta.public_id}/engagement/"
    violations = []
    for width in (1280, PHONE["width"]):
        tab.page.set_viewport_size({"width": width, "height": 900})
        for path in ("/programme/", engagement):
            tab.goto(path)
            violations += axe_violations(tab.page, label=f"{path} at {width}px")
            if path == "/programme/":
                # On a phone each chart keeps a readable size and scrolls, in a region a keyboard reaches.
                scrolling = tab.page.locator(".portal-chart .portal-table-wrap[tabindex='0']").count()
                assert scrolling == (3 if width == PHONE["width"] else 0), f"{scrolling} charts scroll at {width}px"
        tab.page.get_by_label("Engagement stage").select_option("lapsed")
        tab.page.get_by_role("button", name="Record").click()
        tab.expect_text("Say why Delta AI is recorded as lapsed.")
        violations += axe_violations(tab.page, label=f"{engagement} with an error at {width}px")
    assert tab.page.locator("svg[role=img]").count() == 0  # the engagement page has no chart
    tab.goto("/programme/")
    assert tab.page.locator("figure svg[role=img]").count() == 3
    assert not violations, report(violations)


def test_the_admin_pages_have_no_serious_accessibility_violation(visitor, demo_world):
    # An event about no record (a sign-in) has no object type: its filter link must still have a name.
    audit_record(actor=None, action=AuditEvent.Action.LOGIN_FAILED, summary="Unknown address")
    began = time.monotonic()
    # Every object of a model offers the same admin links: no look-ahead.
    crawl = _crawl(visitor, "admin", admin_page, "/admin/", cap=ADMIN_PAGE_CAP, look_ahead=0)
    print(f"axe: {len(crawl.visited)} admin pages in {time.monotonic() - began:.0f}s")
    changelists = [path for path in crawl.visited if path.count("/") == 4]
    assert len(changelists) >= 5, f"the crawl saw too few admin lists: {crawl.visited}"
    assert any(path.endswith("/change/") for path in crawl.visited)
    assert any(path.endswith("/add/") for path in crawl.visited)
    assert not crawl.violations and not crawl.problems, report(crawl.violations, crawl.problems)


def test_the_check_reports_text_too_faint_to_read(visitor, evaluator):
    """The check itself fails where it should: white on the old green tag is 3.13:1, under 4.5:1."""
    tab = visitor("axe-self-check")
    tab.sign_in(evaluator.email)
    assert axe_violations(tab.page) == []
    tab.page.evaluate(
        """() => { const tag = document.createElement("span");
        tag.id = "faint"; tag.textContent = "Active"; tag.style.cssText = "color:#fff;background:#00a91c";
        document.querySelector("main").append(tag); }"""
    )
    found = axe_violations(tab.page)
    assert [(v.rule, v.impact, v.target) for v in found] == [("color-contrast", "serious", "#faint")]
    assert "#faint" in report(found) and "color-contrast" in report(found)
