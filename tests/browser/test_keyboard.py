"""Journeys done with the keyboard alone: Tab, Shift+Tab, Enter, Space, arrow keys and typing.

At every stop the focused element must show that it has focus (an outline or a box shadow that
the browser computed), and focus must land where a keyboard user needs it: on the main content
after the skip link, on the error summary after a form comes back with errors.
"""

from __future__ import annotations

import re

import pytest

from accounts.tests.factories import TEST_PASSWORD
from findings.models import Finding, FindingStatus
from findings.tests.factories import released_finding

pytestmark = pytest.mark.browser

MAX_TABS = 60

# What the focused element is, and whether it shows it. USWDS hides the real checkbox and radio
# inputs and draws the focus ring on the label's ::before, so for those the label is what shows it.
FOCUSED = """() => {
  const el = document.activeElement;
  const shows = (style) =>
    (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0) || (style.boxShadow || "none") !== "none";
  let visible = shows(getComputedStyle(el));
  const label = el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`);
  if (!visible && label && /__input/.test(el.className)) visible = shows(getComputedStyle(label, "::before"));
  const box = (label && /__input/.test(el.className) ? label : el).getBoundingClientRect();
  const name = (el.getAttribute("aria-label") || (label && label.innerText) || el.innerText || el.value || "").trim();
  return {
    tag: el.tagName.toLowerCase(), id: el.id, classes: el.className, name: name.replace(/\\s+/g, " "),
    visible, size: box.width * box.height,
  };
}"""


class Keyboard:
    """One person's tab, driven from the keyboard, that checks the focus ring at every stop."""

    def __init__(self, tab) -> None:
        self.tab = tab
        self.page = tab.page

    def focused(self) -> dict:
        return self.page.evaluate(FOCUSED)

    def press(self, key: str) -> dict:
        self.page.keyboard.press(key)
        here = self.focused()
        # The skip link's target is a landmark, not a control: USWDS focuses it without a ring on
        # purpose (as GOV.UK does); the next Tab shows a ring on the first control inside it.
        if here["tag"] not in ("body", "main"):
            where = f"{self.page.url}: {here['tag']}#{here['id']} “{here['name']}”"
            assert here["visible"], f"{where} has focus but shows no outline or shadow"
            assert here["size"] > 0, f"{where} has focus but is not on the screen"
        return here

    def tab_to(self, name: str | re.Pattern, *, tag: str | None = None, backwards: bool = False) -> dict:
        """Press Tab until the element named ``name`` (a ``tag`` if given) has focus, checking every stop."""
        # A required field's label ends with the form's " *" marker.
        wanted = name if isinstance(name, re.Pattern) else re.compile(rf"^{re.escape(name)}( \*)?$")
        stops = []
        for _ in range(MAX_TABS):
            here = self.press("Shift+Tab" if backwards else "Tab")
            stops.append(here["name"])
            if wanted.search(here["name"]) and tag in (None, here["tag"]):
                return here
        raise AssertionError(f"“{wanted.pattern}” never took focus on {self.page.url}; Tab went through {stops}")

    def skip_to_main(self) -> None:
        """The first Tab on a newly opened page reaches the skip link; Enter puts focus on the main content."""
        here = self.press("Tab")
        assert here["name"] == "Skip to main content", f"the first Tab on {self.page.url} reached {here}"
        self.press("Enter")
        assert self.focused()["id"] == "main-content", f"the skip link left focus on {self.focused()}"

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)

    def follow(self, name: str | re.Pattern) -> None:
        """Tab to a link and follow it with Enter; wait for the next page."""
        self.tab_to(name, tag="a")
        with self.page.expect_navigation():
            self.page.keyboard.press("Enter")

    def submit(self, button: str | re.Pattern) -> None:
        self.tab_to(button, tag="button")
        with self.page.expect_navigation():
            self.page.keyboard.press("Enter")

    def sign_in(self, email: str) -> None:
        self.tab.goto("/accounts/login/")
        here = self.focused()  # the sign-in page starts in its first field
        assert (here["tag"], here["id"]) == ("input", "id_username") and here["visible"], here
        self.type(email)
        assert self.press("Tab")["name"].startswith("Password")
        self.type(TEST_PASSWORD)
        with self.page.expect_navigation():
            self.page.keyboard.press("Enter")
        assert "/accounts/login/" not in self.page.url, f"{email} could not sign in"

    def expect_error_summary(self) -> None:
        here = self.focused()
        assert "portal-error-summary" in here["classes"], f"after the failed form focus is on {here}"
        assert here["visible"], "the error summary has focus but shows no outline"


def test_liaison_signs_in_and_answers_a_finding_with_the_keyboard_alone(visitor, case, evaluator, lead, liaison_a):
    finding = released_finding(assessment=case, author=evaluator, released_by=lead, title="Jailbreak by role play")
    keys = Keyboard(visitor("liaison-keyboard"))
    keys.sign_in(liaison_a.email)
    keys.tab.shot("dashboard")

    keys.skip_to_main()
    keys.tab_to("Findings", backwards=True)  # the primary navigation is just before the main content
    with keys.page.expect_navigation():
        keys.page.keyboard.press("Enter")
    keys.skip_to_main()
    keys.follow(re.compile(re.escape(finding.reference)))
    keys.skip_to_main()
    keys.follow("Respond to this finding")
    keys.tab.shot("response form")

    # Sent empty: the form comes back and focus is on the summary of what to correct.
    keys.submit(re.compile(r"^Send"))
    keys.expect_error_summary()
    keys.tab.shot("response form with errors")
    # The disposition is a radio group: Tab reaches its first choice, an arrow key moves to the next.
    keys.tab_to(re.compile(r"^Accepted, will mitigate"), tag="input")
    keys.press("ArrowDown")  # "Accepted, risk accepted": the response is the justification
    keys.tab_to("Your response", tag="textarea")
    keys.type("Reproduced. The role-play filter now covers this pattern.")
    keys.submit(re.compile(r"^Send"))
    keys.tab.expect_text("Your response was sent to the centre.")
    keys.tab.shot("responded")
    finding.refresh_from_db()
    assert finding.responded_by == liaison_a
    assert finding.company_response == "Reproduced. The role-play filter now covers this pattern."


def test_evaluator_records_a_finding_with_the_keyboard_alone(visitor, case, evaluator):
    keys = Keyboard(visitor("evaluator-keyboard"))
    keys.sign_in(evaluator.email)
    keys.skip_to_main()
    keys.tab_to("Assessments", backwards=True)
    with keys.page.expect_navigation():
        keys.page.keyboard.press("Enter")
    keys.skip_to_main()
    keys.follow(re.compile(re.escape(case.reference)))
    keys.skip_to_main()
    keys.follow("Record a finding")

    keys.tab_to("Title", tag="input")
    keys.type("Exploit guidance on request")
    keys.submit(re.compile(r"^Save"))
    keys.expect_error_summary()
    keys.tab.shot("finding form with errors")

    keys.tab_to("Title", tag="input")
    assert keys.page.get_by_label("Title").input_value() == "Exploit guidance on request"
    keys.press("Tab")
    assert keys.focused()["name"].startswith("Risk domain")
    keys.type("Cyber")  # a closed select picks the option typed
    keys.tab_to(re.compile("^Critical"), tag="input")  # the first severity; arrows move through the group
    keys.press("ArrowDown")
    assert keys.focused()["name"].startswith("High")
    keys.tab_to(re.compile("^Summary"), tag="textarea")
    keys.type("Given a CVE number, the model writes a working exploit.")
    keys.submit(re.compile(r"^Save"))
    keys.tab.expect_text("was recorded as a draft")
    keys.tab.shot("draft finding")

    finding = Finding.objects.get()
    assert (finding.title, finding.risk_domain, finding.severity) == ("Exploit guidance on request", "cyber", "high")
    assert finding.status == FindingStatus.DRAFT and finding.author == evaluator
