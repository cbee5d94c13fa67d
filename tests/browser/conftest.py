"""Browser journeys: headless Chromium (Debian's build) driven by Playwright against ``live_server``.

One browser serves the whole folder; each signed-in person gets their own browser
context (cookies), so a journey can switch between a liaison, an evaluator and a lead.
Every page visited is checked for console errors, uncaught exceptions and
Content-Security-Policy violations, and screenshotted (BROWSER_SCREENSHOTS=<dir> keeps
them somewhere chosen; otherwise they go to pytest's temporary folder).

Without Chromium, Playwright or the front-end assets the tests skip, except under
REQUIRE_SERVICES=1 (CI), where that is a failure.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings

from accounts.tests.factories import TEST_PASSWORD

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
USWDS_DIST = Path(settings.BASE_DIR) / "node_modules" / "@uswds" / "uswds" / "dist"
USWDS_FILES = ("js/uswds.min.js", "js/uswds-init.min.js", "css/uswds.min.css")
AXE_PATH = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
TIMEOUT_MS = 10_000

# Recorded in every page before its own scripts run: CSP violations the console might not show.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}`);
});
"""


def _unavailable(message: str) -> None:
    if os.environ.get("REQUIRE_SERVICES", "") == "1":
        pytest.fail(message + " (REQUIRE_SERVICES=1: the browser tests must run).")
    pytest.skip(message)


@pytest.fixture(scope="package")
def browser() -> Iterator:
    """One headless Chromium for every test of this folder.

    Package scope, not session scope: while Playwright's sync API is started, its event loop
    counts as running in this thread, and Django refuses ORM calls from a thread with a
    running loop. So the browser lives only while this folder's tests run, and only then is
    that check relaxed (the ORM calls here are plain synchronous test code).
    """
    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not os.access(chromium, os.X_OK):
        _unavailable(f"No Chromium at {chromium} (apt-get install chromium, or set CHROMIUM_PATH)")
    missing = [name for name in USWDS_FILES if not (USWDS_DIST / name).is_file()]
    if missing:
        _unavailable(f"The U.S. Web Design System assets are missing ({', '.join(missing)}): run `make assets`")
    if not AXE_PATH.is_file():
        _unavailable(f"axe-core, which checks accessibility, is missing ({AXE_PATH}): run `make assets`")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("The playwright package is not installed: run `make install`")

    playwright = sync_playwright().start()
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        instance = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package")
def screenshot_dir(tmp_path_factory) -> Path:
    chosen = os.environ.get("BROWSER_SCREENSHOTS")
    if chosen:
        path = Path(chosen)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("browser-screenshots")


@dataclass
class Visitor:
    """One person's browser tab, with what went wrong on the pages it showed."""

    name: str
    page: object
    base_url: str
    shots: Path
    problems: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    expected_failures: set[str] = field(default_factory=set)
    step: int = 0

    def url(self, path: str) -> str:
        return self.base_url + path

    def goto(self, path: str, *, status: int = 200):
        response = self.page.goto(self.url(path))
        assert response is not None and response.status == status, f"{path}: HTTP {response and response.status}"
        if status >= 400:
            self.expected_failures.add(self.url(path))
        return response

    def sign_in(self, email: str) -> None:
        self.goto("/accounts/login/")
        self.page.get_by_label("Email address").fill(email)
        self.page.get_by_label("Password").fill(TEST_PASSWORD)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_load_state()
        assert "/accounts/login/" not in self.page.url, f"{email} could not sign in"

    def expect_text(self, text: str) -> None:
        """Wait for ``text`` on the page; when it never comes, say what the page shows instead."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            self.page.get_by_text(text).first.wait_for()
        except PlaywrightTimeout:
            self.page.screenshot(path=str(self.shots / f"{self.name}-failed.png"), full_page=True)
            errors = self.page.locator(".usa-error-message, .usa-alert").all_inner_texts()
            raise AssertionError(f"{self.name}: “{text}” never appeared on {self.page.url}; page says {errors}")

    def shot(self, label: str) -> None:
        """Check the page in view is clean, and keep a picture of it."""
        self.step += 1
        page = self.page
        page.wait_for_load_state("load")
        slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
        page.screenshot(path=str(self.shots / f"{self.name}-{self.step:02d}-{slug}.png"), full_page=True)
        violations = page.evaluate("window.__cspViolations || []")
        self.problems += [f"{page.url}: CSP {v}" for v in violations]
        self.assert_clean(label)

    def assert_clean(self, where: str) -> None:
        problems = [p for p in self.problems if not any(p.startswith(f"{u}: ") for u in self.expected_failures)]
        assert not problems, f"{self.name} at {where}: " + "; ".join(problems)
        assert not self.dialogs, f"{self.name} at {where}: a dialog opened: {self.dialogs}"


@pytest.fixture
def visitor(browser, live_server, screenshot_dir, request):
    """``visitor("liaison")`` opens a fresh browser context (its own cookies) for one person."""
    contexts = []

    def open_tab(label: str, *, width: int = 1280, height: int = 900) -> Visitor:
        context = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB")
        context.set_default_timeout(TIMEOUT_MS)
        context.add_init_script(RECORD_CSP_VIOLATIONS)
        contexts.append(context)
        page = context.new_page()
        shots = screenshot_dir / request.node.name
        shots.mkdir(exist_ok=True)
        tab = Visitor(name=label, page=page, base_url=live_server.url, shots=shots)

        def on_console(message) -> None:
            if message.type == "error":
                source = (message.location or {}).get("url", "") or page.url
                tab.problems.append(f"{source}: console error: {message.text}")

        def on_dialog(dialog) -> None:
            tab.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("console", on_console)
        page.on("pageerror", lambda error: tab.problems.append(f"{page.url}: uncaught {error}"))
        page.on("dialog", on_dialog)

        def on_response(response) -> None:
            if "/static/" in response.url and response.status >= 400:
                tab.problems.append(f"{response.url}: static file answered HTTP {response.status}")

        page.on("response", on_response)
        return tab

    yield open_tab
    for context in contexts:
        context.close()
