"""axe-core in the browser tests: check one page, or crawl what a signed-in person can reach.

axe-core comes from npm (package.json, a development dependency installed by ``make assets``),
straight from its makers, and is evaluated into each page by Playwright, which is not subject
to the page's Content-Security-Policy: the portal keeps its strict CSP while it is checked.

Only WCAG 2.1 A and AA rules run, and only "serious" and "critical" results count: those are
what stop someone from using a page (text too faint to read, a control with no name, a part of
the page a keyboard cannot reach).
"""

from __future__ import annotations

import re
import time
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

from django.urls import Resolver404, resolve

from tests.browser.conftest import AXE_PATH

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = ("serious", "critical")

# Every node axe finds with the rule, help text and impact; the page filters to serious/critical.
RUN_AXE = """async (tags) => {
  const results = await axe.run(document, {
    runOnly: {type: "tag", values: tags}, resultTypes: ["violations"], preload: false,
  });
  return results.violations.flatMap((rule) => rule.nodes.map((node) => ({
    rule: rule.id, help: rule.help, impact: node.impact || rule.impact, target: node.target.join(" "),
  })));
}"""

# Parts of a URL that name one record: the crawl checks one record per kind of page.
RECORD_KWARGS = re.compile(r"(reference|public_id|_id|token)$")
RECORD_PATTERN = re.compile(r"<[^>]*(reference|public_id|_id|token)>")

# Never followed: they end the session, mark something read, or answer with a file, not a page.
SKIPPED_NAMES = re.compile(r"logout|download|export|csv|pdf|calendar_feed|notification_read|reveal")
FILE_NAME = re.compile(r"\.[a-z]{2,4}$")
# The admin pages an administrator works in: lists, change forms and add forms.
ADMIN_PAGES = re.compile(r"^admin:(index|\w+_changelist|\w+_change|\w+_add)$")
# Pages that look the same whoever opens them: forms (a step on a record, a new record) and one's
# own settings. Checked once for all roles; dashboards, lists and records are checked per role.
SAME_FOR_EVERYONE = re.compile(r">/.+|(^|/)new/$|^(profile|accounts|deadlines/settings|deadlines/notifications)/")


@dataclass(frozen=True)
class Violation:
    page: str
    rule: str
    impact: str
    target: str
    help: str

    def __str__(self) -> str:
        return f"{self.page}  [{self.impact}] {self.rule}: {self.target}  ({self.help})"


def axe_violations(page, *, label: str | None = None) -> list[Violation]:
    """The serious and critical WCAG 2.1 A/AA violations axe finds on the page now shown."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_PATH.read_text(encoding="utf-8"))
    where = label or urlsplit(page.url).path
    found = page.evaluate(RUN_AXE, WCAG_TAGS)
    return [
        Violation(page=where, rule=v["rule"], impact=v["impact"], target=v["target"], help=v["help"])
        for v in found
        if v["impact"] in BLOCKING_IMPACTS
    ]


def report(violations: list[Violation], problems: list[str] = ()) -> str:
    """A list to read in the CI log: one line per page, rule, impact and element."""
    lines = [f"{len(violations)} serious or critical accessibility violation(s):"] if violations else []
    lines += [f"  {v}" for v in sorted(set(violations), key=lambda v: (v.page, v.rule, v.target))]
    if problems:
        lines += [f"{len(problems)} other problem(s):", *(f"  {p}" for p in problems)]
    return "\n".join(lines)


def url_pattern(path: str) -> tuple[str, str] | None:
    """(URL name, pattern) of a portal path: one record stands for all records of its kind."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    kinds = ",".join(f"{k}={v}" for k, v in sorted(match.kwargs.items()) if not RECORD_KWARGS.search(k))
    return match.view_name, f"{match.route}?{kinds}" if kinds else match.route


class _Links(HTMLParser):
    """The href of every <a> in an HTML page, for the look-ahead that needs no browser."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


@dataclass
class Crawl:
    """Breadth first from the start page over same-origin links, one page checked per URL pattern.

    ``follow`` decides from the URL name whether a link is a page of this crawl; links that are not
    are never requested. Records of one kind differ in the links they offer (a ticket awaiting
    approval links to the approval form, a provisioned one to the extension form), so up to
    ``look_ahead`` more records of a kind already checked are fetched without the browser, only for
    their links. At most ``cap`` pages are checked, so CI time stays bounded whatever the data holds.
    ``shared`` holds the patterns of pages that look the same for everyone, checked by earlier crawls.
    """

    tab: object  # conftest.Visitor
    follow: object  # callable(view_name, route, path) -> bool
    cap: int = 40
    look_ahead: int = 4
    shared: set[str] = field(default_factory=set)
    visited: list[str] = field(default_factory=list)
    with_tables: list[str] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def run(self, start: str) -> Crawl:
        began = time.monotonic()
        checked: set[str] = set()
        fetched: dict[str, int] = {}
        queue: deque[str] = deque([start])
        queued: set[str] = {start}
        while queue and len(self.visited) < self.cap:
            path = queue.popleft()
            known = url_pattern(urlsplit(path).path)
            if known is None or not self.follow(*known, path):
                continue
            pattern = known[1]
            if pattern not in checked and pattern not in self.shared:
                checked.add(pattern)
                if SAME_FOR_EVERYONE.search(pattern):
                    self.shared.add(pattern)
                links = self.check(path)
            elif fetched.get(pattern, 0) < self.look_ahead and RECORD_PATTERN.search(pattern):
                fetched[pattern] = fetched.get(pattern, 0) + 1
                links = self._links_without_browser(path)
            else:
                continue
            for link in links:
                if link not in queued:
                    queued.add(link)
                    queue.append(link)
        self.seconds = time.monotonic() - began
        return self

    def check(self, path: str) -> list[str]:
        """Open ``path``, run axe, note what else went wrong; answer the same-origin links it shows."""
        from playwright.sync_api import Error as PlaywrightError

        page, tab = self.tab.page, self.tab
        mark = len(tab.problems)
        try:
            response = page.goto(tab.base_url + path)
        except PlaywrightError as exc:  # a file after all: the link is kept out of the crawl
            if "Download is starting" not in str(exc):
                raise
            self.skipped.append(path)
            return []
        status = response.status if response else None
        content_type = (response.headers.get("content-type", "") if response else "") or ""
        if status != 200 or not content_type.startswith("text/html"):
            self.problems.append(f"{path}: a link leads to HTTP {status} {content_type}".rstrip())
            return []
        self.visited.append(path)
        if page.locator("table").count():
            self.with_tables.append(path)
        self.problems += [f"{path}: CSP {v}" for v in page.evaluate("window.__cspViolations || []")]
        self.problems += tab.problems[mark:]
        mark = len(tab.problems)
        self.violations += axe_violations(page, label=path)
        del tab.problems[mark:]  # axe's own probing of style sheets, refused by the CSP, is not the page's
        hrefs = page.eval_on_selector_all("a[href]", "links => links.map((a) => a.href)")
        return self._same_origin(page.url, hrefs)

    def _links_without_browser(self, path: str) -> list[str]:
        response = self.tab.page.request.get(self.tab.base_url + path, max_redirects=0)
        if response.status != 200 or not response.headers.get("content-type", "").startswith("text/html"):
            return []
        parser = _Links()
        parser.feed(response.text())
        return self._same_origin(self.tab.base_url + path, parser.hrefs)

    def _same_origin(self, here: str, hrefs: list[str]) -> list[str]:
        links = []
        for href in hrefs:
            url, _fragment = urldefrag(urljoin(here, href))
            parts = urlsplit(url)
            if f"{parts.scheme}://{parts.netloc}" == self.tab.base_url:
                links.append(parts.path + (f"?{parts.query}" if parts.query else ""))
        return links


def portal_page(view_name: str, route: str, path: str) -> bool:
    """A page of the portal itself (not the admin, the API or a file), safe to open with GET."""
    if view_name.startswith(("admin:", "api")) or route.startswith("api/") or FILE_NAME.search(urlsplit(path).path):
        return False
    return not SKIPPED_NAMES.search(view_name)


def admin_page(view_name: str, route: str, path: str) -> bool:
    return bool(ADMIN_PAGES.match(view_name)) and not SKIPPED_NAMES.search(view_name)
