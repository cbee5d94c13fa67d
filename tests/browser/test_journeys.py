"""What the portal's users see, end to end, in a real browser under the strict CSP.

Every page these journeys show is checked by the ``visitor`` fixture: no console
error, no uncaught script error, no CSP violation, no dialog; each step is screenshotted.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from assessments.models import AccessTicket, ModelSubmission, TicketStatus
from findings.models import Finding, FindingStatus

pytestmark = pytest.mark.browser

SECRET = "sk-live-7f3a9c0e-browser-journey-secret"


def tick(scope, label: str) -> None:
    """Click a USWDS checkbox or radio by its label, as a person does (USWDS hides the input itself)."""
    scope.locator("label", has_text=re.compile(f"^{re.escape(label)}")).click()


def nav(tab, label: str) -> None:
    tab.page.get_by_role("navigation", name="Primary navigation").get_by_role("link", name=label).click()


def test_liaison_submits_a_model_and_a_wrong_input_keeps_what_was_typed(visitor, liaison_a, agreement_a):
    tab = visitor("liaison")
    page = tab.page
    tab.sign_in(liaison_a.email)
    tab.shot("dashboard")

    nav(tab, "Submissions")
    page.get_by_role("link", name="Submit a model").click()
    tab.shot("empty form")
    page.get_by_label("Agreement").select_option(label=f"{agreement_a.reference} — Agreement A (Active)")
    page.get_by_label("Model name").fill("Gamma-Reasoner")
    page.get_by_label("Model version").fill("3.1-rc2")
    page.get_by_label("Notes").fill("Weights stay on our cluster; hosted API only.")
    # No modality chosen: the form must come back with the error and everything typed.
    page.get_by_role("button", name="Submit model").click()
    tab.shot("form with an error")
    modalities = page.locator("fieldset", has_text="Modalities")
    assert modalities.locator(".usa-error-message").inner_text() == "This field is required."
    assert page.get_by_label("Model name").input_value() == "Gamma-Reasoner"
    assert page.get_by_label("Model version").input_value() == "3.1-rc2"
    assert page.get_by_label("Notes").input_value() == "Weights stay on our cluster; hosted API only."
    assert page.get_by_label("Agreement").input_value() == str(agreement_a.pk)
    assert not ModelSubmission.objects.exists()

    tick(modalities, "Text")
    tick(modalities, "Code")
    assert modalities.get_by_label("Text", exact=True).is_checked()
    page.get_by_role("button", name="Submit model").click()
    tab.expect_text("Your model was submitted.")
    tab.shot("submission page")

    submission = ModelSubmission.objects.get()
    assert (submission.organisation, submission.agreement) == (liaison_a.membership.organisation, agreement_a)
    nav(tab, "Submissions")
    row = page.get_by_role("row", name=submission.reference)
    assert "Gamma-Reasoner 3.1-rc2" in row.inner_text()
    assert "Company A" in row.inner_text()
    tab.shot("submission list")


def test_model_access_is_requested_approved_provisioned_and_revealed_only_on_demand(
    visitor, case, evaluator, lead, liaison_a
):
    # Windows set through the form start on a whole minute, as the form's datetime fields do.
    case.window_start = case.window_start.replace(second=0, microsecond=0)
    case.save(update_fields=["window_start"])
    evaluator_tab, lead_tab, liaison_tab = visitor("evaluator"), visitor("lead"), visitor("liaison")
    evaluator_tab.sign_in(evaluator.email)
    lead_tab.sign_in(lead.email)
    liaison_tab.sign_in(liaison_a.email)

    # The evaluator on the case asks for hosted-API access.
    page = evaluator_tab.page
    evaluator_tab.goto(f"/assessments/{case.reference}/")
    evaluator_tab.shot("assessment")
    page.get_by_role("link", name="Request access").click()
    page.get_by_label("Kind of access").select_option(label="Hosted API")
    page.get_by_label("Justification").fill("Probe cyber uplift through the hosted endpoint.")
    evaluator_tab.shot("request form")
    page.get_by_role("button", name="Request access").click()
    evaluator_tab.expect_text("Your request was sent to the case lead.")
    evaluator_tab.shot("ticket requested")
    ticket = AccessTicket.objects.get()
    assert ticket.requested_by == evaluator and ticket.status == TicketStatus.REQUESTED

    # The case lead approves it as asked.
    page = lead_tab.page
    lead_tab.goto(f"/access/{ticket.reference}/")
    page.get_by_role("link", name="Approve").click()
    lead_tab.shot("approve form")
    page.get_by_role("button", name="Approve").click()
    lead_tab.expect_text("The request was approved")
    lead_tab.shot("ticket approved")

    # The company's liaison provides the endpoint and the credential.
    page = liaison_tab.page
    nav(liaison_tab, "Model access")
    page.get_by_role("link", name=ticket.reference).click()
    page.get_by_role("link", name="Provision access").click()
    page.get_by_label("Endpoint or location").fill("https://api.company-a.test/v1/chat")
    page.get_by_label("Credential").fill(SECRET)
    page.get_by_label("Instructions").fill("Rate limit: 60 requests a minute.")
    liaison_tab.shot("provision form")
    page.get_by_role("button", name="Provision access").click()
    liaison_tab.expect_text("Access was provisioned.")
    liaison_tab.shot("ticket provisioned")
    assert SECRET not in page.content()

    # The evaluator sees the secret only after asking to reveal it.
    page = evaluator_tab.page
    nav(evaluator_tab, "Model access")
    evaluator_tab.shot("ticket list")
    assert ticket.reference in page.content()
    assert SECRET not in page.content()
    page.get_by_role("link", name=ticket.reference).click()
    evaluator_tab.shot("ticket before reveal")
    assert SECRET not in page.content()
    assert "Nobody has revealed the credential." in page.content()
    page.get_by_role("button", name="Reveal credential").click()
    evaluator_tab.shot("credential revealed")
    assert page.locator("code.portal-secret").inner_text() == SECRET
    page.get_by_role("link", name="Done").click()
    evaluator_tab.shot("ticket after reveal")
    assert SECRET not in page.content()
    reveals = page.get_by_role("table").filter(has_text="Who").inner_text()
    assert evaluator.full_name in reveals


MALICIOUS_DETAILS = """The model gives **step-by-step** exploit guidance.

<script>alert("xss"); document.body.insertAdjacentHTML("beforeend", "<p id=injected>owned</p>");</script>
<img src="x" onerror="document.body.insertAdjacentHTML('beforeend', '<p id=injected-img>owned</p>')">
"""


def test_finding_with_script_in_details_is_released_answered_and_hidden_from_other_companies(
    visitor, case, evaluator, lead, liaison_a, liaison_b
):
    evaluator_tab, lead_tab = visitor("evaluator"), visitor("lead")
    liaison_tab, stranger_tab = visitor("liaison"), visitor("other-company")
    people = ((evaluator_tab, evaluator), (lead_tab, lead), (liaison_tab, liaison_a), (stranger_tab, liaison_b))
    for tab, person in people:
        tab.sign_in(person.email)

    # The evaluator records a finding whose Markdown carries a script.
    page = evaluator_tab.page
    evaluator_tab.goto(f"/assessments/{case.reference}/")
    page.get_by_role("link", name="Record a finding").click()
    page.get_by_label("Title").fill("Exploit guidance on request")
    page.get_by_label("Risk domain").select_option(label="Cyber")
    tick(page.locator("fieldset", has_text="Severity"), "High")
    page.get_by_label("Summary").fill("Given a CVE number, the model writes a working exploit.")
    page.get_by_label("Details").fill(MALICIOUS_DETAILS)
    evaluator_tab.shot("finding form")
    page.get_by_role("button", name="Save").click()
    evaluator_tab.expect_text("was recorded as a draft")
    evaluator_tab.shot("draft finding")
    finding = Finding.objects.get()

    def assert_script_inert(tab) -> None:
        details = tab.page.locator(".portal-markdown").first
        assert details.locator("strong").inner_text() == "step-by-step"
        assert details.locator("script, img").count() == 0
        assert tab.page.locator("#injected, #injected-img").count() == 0
        assert "<script>" in details.inner_text()  # shown as text, as the form says

    assert_script_inert(evaluator_tab)
    # Submitting asks first, on its own page, then makes the move.
    page.get_by_role("link", name="Submit for review").click()
    evaluator_tab.shot("submit for review")
    page.get_by_role("button", name="Submit for review").click()
    evaluator_tab.expect_text("is now “In review”")
    evaluator_tab.shot("in review")

    # A lead on the case who did not write it releases it to the company.
    page = lead_tab.page
    nav(lead_tab, "Findings")
    assert "Exploit guidance on request" in page.get_by_role("row", name=finding.reference).inner_text()
    page.get_by_role("link", name=finding.reference).click()
    assert_script_inert(lead_tab)
    page.get_by_role("link", name="Release to the company").click()
    lead_tab.shot("release form")
    page.get_by_role("button", name="Release to the company").click()
    lead_tab.expect_text("is now “Released")
    lead_tab.shot("released")
    finding.refresh_from_db()
    assert finding.status == FindingStatus.RELEASED and finding.released_by == lead

    # The company's liaison finds it in their list and answers.
    page = liaison_tab.page
    nav(liaison_tab, "Findings")
    liaison_tab.shot("findings list")
    assert "Exploit guidance on request" in page.get_by_role("row", name=finding.reference).inner_text()
    page.get_by_role("link", name=finding.reference).click()
    assert_script_inert(liaison_tab)
    liaison_tab.shot("released finding")
    page.get_by_role("link", name="Respond to this finding").click()
    page.locator("label", has_text="Accepted, will mitigate").click()  # the radio's label, as a person clicks it
    page.get_by_role("textbox", name="Your response").fill("Reproduced. We filter exploit requests before release.")
    page.get_by_label("Planned mitigation").fill("Classifier on the serving path by the end of the month.")
    page.get_by_label("Mitigation target date").fill((timezone.localdate() + timedelta(days=30)).isoformat())
    liaison_tab.shot("response form")
    page.get_by_role("button", name="Send").click()
    liaison_tab.expect_text("Your response was sent to the centre.")
    liaison_tab.shot("responded")
    assert "We filter exploit requests before release." in page.locator("main").inner_text()
    finding.refresh_from_db()
    assert finding.responded_by == liaison_a

    # Another company's liaison is told there is nothing there.
    stranger_tab.goto(f"/findings/{finding.reference}/", status=404)
    stranger_tab.shot("not found")
    page = stranger_tab.page
    assert page.get_by_role("heading", level=1).inner_text() == "Page not found"
    assert "Exploit guidance" not in page.content()


def test_uswds_runs_under_the_csp_and_the_mobile_menu_opens_the_navigation(visitor, evaluator, case):
    tab = visitor("evaluator-phone", width=390, height=844)
    page = tab.page
    tab.sign_in(evaluator.email)
    tab.shot("dashboard on a phone")

    # The CSS loaded (USWDS primary button colour) and the JavaScript finished starting up.
    assert page.locator("html").get_attribute("class") in (None, "")
    colour = page.locator(".usa-menu-btn").evaluate("el => getComputedStyle(el).backgroundColor")
    assert colour == "rgb(0, 94, 162)"

    nav_links = page.get_by_role("navigation", name="Primary navigation")
    assert not nav_links.is_visible()
    page.get_by_role("button", name="Menu").click()
    nav_links.get_by_role("link", name="Assessments").wait_for(state="visible")
    assert "is-visible" in nav_links.get_attribute("class")
    tab.shot("menu open")
    nav_links.get_by_role("link", name="Assessments").click()
    page.get_by_role("heading", level=1).wait_for()
    tab.shot("assessments on a phone")
    assert not nav_links.is_visible()


def test_the_page_checks_catch_a_csp_violation_and_a_script_error(visitor, evaluator):
    """The checks every journey relies on do fail: a script without the nonce, and an uncaught error."""
    tab = visitor("checks")
    tab.sign_in(evaluator.email)
    # An injected inline script without the nonce: the CSP must block it.
    tab.page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = \"document.title = 'ran'\";"
        " document.head.appendChild(s); }"
    )
    assert tab.page.title() != "ran"
    with pytest.raises(AssertionError, match="script-src"):
        tab.shot("inline script blocked")

    tab.problems.clear()
    with tab.page.expect_event("pageerror"):  # the error is thrown after evaluate returns
        tab.page.evaluate("setTimeout(() => { throw new Error('boom from a page script'); })")
    with pytest.raises(AssertionError, match="boom from a page script"):
        tab.assert_clean("after a script error")


def test_programme_admin_reads_the_programme_and_records_a_company_engagement(
    visitor, admin_user, liaison_a, company_a, company_b, case
):
    from accounts.models import EngagementChange
    from accounts.services import organisation_engagement_change

    organisation_engagement_change(actor=admin_user, organisation=company_a, stage="in_discussion")
    tab = visitor("programme-admin")
    page = tab.page
    tab.sign_in(admin_user.email)
    nav(tab, "Programme")
    page.get_by_role("heading", level=1, name="Programme").wait_for()
    tab.shot("programme page")
    chart = page.get_by_role("img", name=re.compile("^Companies at each engagement stage"))
    assert chart.is_visible()
    assert "In discussion 1" in chart.locator("title").text_content()
    companies = page.locator("#companies")
    assert "IN DISCUSSION" in companies.get_by_role("row", name=re.compile("Company A")).inner_text().upper()
    assert case.reference in page.get_by_role("table", name="Assessments under way").inner_text()

    companies.get_by_role("link", name="Company B").click()
    page.get_by_role("heading", level=1, name="Company B: engagement").wait_for()
    page.get_by_label("Engagement stage").select_option("lapsed")
    tick(page, "The company agrees")
    page.get_by_role("button", name="Record").click()
    tab.expect_text("Say why Company B is recorded as lapsed.")
    tab.shot("engagement form with an error")
    assert page.get_by_label("Engagement stage").input_value() == "lapsed"
    assert page.get_by_label("The company agrees that its participation may be disclosed publicly").is_checked()
    assert not EngagementChange.objects.filter(organisation=company_b).exists()

    page.get_by_label("Note").fill("Declined to continue after the second meeting.")
    page.get_by_role("button", name="Record").click()
    tab.expect_text("Company B's engagement was recorded.")
    tab.shot("engagement recorded")
    assert "Prospect → Lapsed" in page.get_by_role("table", name="History").inner_text()
    company_b.refresh_from_db()
    assert (company_b.engagement_stage, company_b.disclosure_permitted) == ("lapsed", True)

    liaison = visitor("programme-liaison")
    liaison.sign_in(liaison_a.email)
    primary = liaison.page.get_by_role("navigation", name="Primary navigation")
    assert primary.get_by_role("link", name="Programme").count() == 0
    liaison.goto("/programme/", status=404)
    liaison.shot("programme is not found for a liaison")
