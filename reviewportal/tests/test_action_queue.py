"""Needs your action: each role's queue holds exactly what that person can do now.

With the demo world, each demo login's queue is checked item by item; each item is checked
against the button its page offers (``*_actions_for``), and every object whose button is on is
checked to be in the queue. A case with many items shows the first 20 and counts the rest; an
item leaves the queue (and the badge) once acted on; a liaison never sees another company's work.
"""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.permissions import can, scope
from agreements import services as agreement_services
from agreements.actions import agreement_actions_for, open_point_actions_for
from agreements.models import Agreement, AgreementStatus, EntryKind, OpenPoint
from agreements.tests.factories import AgreementFactory, NegotiationEntryFactory, OpenPointFactory
from assessments import services as case_services
from assessments.actions import assessment_actions_for, ticket_actions_for
from assessments.models import AccessTicket, Assessment
from assessments.tests.factories import AccessTicketFactory, AssessmentFactory
from core.freshness import records_changed
from findings import services as finding_services
from findings.actions import finding_actions_for
from findings.models import Finding, FindingStatus
from findings.tests.factories import FindingFactory, released_finding
from reminders.models import DeliveryStatus, Digest, Handoff
from reviewportal.dashboard.queue import QUEUE_LIMIT, action_queue_counts, action_queue_for

pytestmark = pytest.mark.django_db


def _queue(user, limit: int = 100):
    return action_queue_for(user, limit=limit)


def _lines(user) -> list[tuple[str, str]]:
    """(kind, title) of every item, in the queue's order."""
    return [(row.item.kind, row.item.title) for row in _queue(user).rows]


def _badge(client, user, path: str = "") -> int:
    """The number beside Dashboard in the menu of a page (0 when there is none)."""
    client.force_login(user)
    body = client.get(path or reverse("findings:list")).content.decode()
    match = re.search(r'<span class="usa-tag portal-queue-count">(\d+)<span class="usa-sr-only">', body)
    return int(match.group(1)) if match else 0


# --- The demo world: each login's queue, item by item ------------------------------------------


@pytest.fixture
def demo(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    return {user.email: user for user in User.objects.all()}


RELEASED_ALPHA = "Safeguards bypassed through a multi-turn translation"
ANSWERED_ALPHA = "Protocol troubleshooting gives meaningful wet-lab"
IN_REVIEW_ALPHA = "Agent attempts to disable its own monitoring"
DRAFT_ALPHA = "System prompt leaks through a formatting request"
NOT_ANSWERED_ALPHA = "Precursor questions answered when framed as code comments"
BETA_ADDENDUM = "Addendum 1: agentic-capability evaluations — Beta AI"


def test_demo_liaison_of_alpha_has_a_ticket_to_provision_then_a_finding_to_answer(demo):
    lines = _lines(demo["liaison@alpha-ai.example"])
    # The finding whose due date passed unanswered comes first: the company may still answer it.
    # Then the recommendations in the company's stages, soonest due first.
    assert [kind for kind, _ in lines] == [
        "tickets.provision",
        "findings.respond",
        "findings.respond",
        "findings.recommendation_answer",
        "findings.recommendation_answer",
    ]
    assert lines[1][1].startswith(NOT_ANSWERED_ALPHA) and lines[2][1].startswith(RELEASED_ALPHA)


def test_demo_liaison_of_beta_also_has_the_addendum_to_sign(demo):
    kinds = [kind for kind, _ in _lines(demo["liaison@beta-ai.example"])]
    assert kinds == [
        "tickets.provision",
        "findings.respond",
        "agreements.sign",
        "findings.recommendation_answer",
        "findings.recommendation_answer",
    ]
    assert _lines(demo["liaison@beta-ai.example"])[2][1] == BETA_ADDENDUM


def test_demo_liaison_of_gamma_has_an_open_point_and_the_centre_s_counter_proposal(demo):
    assert _lines(demo["liaison@gamma-ai.example"]) == [
        ("agreements.open_point", "Propose redaction rules for evaluation transcripts"),
        ("agreements.proposal", "Release-notice period: Voluntary pre-release assessment agreement — Gamma AI"),
    ]


def test_demo_lead_has_a_request_a_point_a_signature_a_release_and_an_answer_overdue_first(demo):
    queue = _queue(demo["lead@caisi.example"])
    assert [row.item.kind for row in queue.rows] == [
        "tickets.approve",
        "findings.not_answered",
        "agreements.open_point",
        "agreements.sign",
        "findings.recommendation_verify",
        "findings.release",
        "findings.resolve",
    ]
    assert [row.is_overdue for row in queue.rows] == [True, True, True, False, False, False, False]
    titles = [row.item.title for row in queue.rows]
    assert titles[1].startswith(NOT_ANSWERED_ALPHA)
    assert titles[2] == "Confirm who at the centre may receive weights-access logs"
    assert titles[3] == BETA_ADDENDUM
    assert titles[5].startswith(IN_REVIEW_ALPHA) and titles[6].startswith(ANSWERED_ALPHA)
    # Undated work comes after everything with a date.
    assert [row.days_left is None for row in queue.rows] == [False, False, False, False, False, True, True]


def test_demo_evaluator_has_their_draft_and_the_company_s_answer(demo):
    lines = _lines(demo["evaluator@caisi.example"])
    assert [kind for kind, _ in lines] == [
        "findings.not_answered",
        "findings.recommendation_verify",
        "findings.submit",
        "findings.resolve",
    ]
    assert lines[0][1].startswith(NOT_ANSWERED_ALPHA)
    assert lines[2][1].startswith(DRAFT_ALPHA) and lines[3][1].startswith(ANSWERED_ALPHA)


def test_demo_admin_follows_up_the_programme_s_overdue_deadline(demo):
    rows = _queue(demo["admin@caisi.example"]).rows
    assert [row.item.kind for row in rows] == ["reminders.overdue", "reminders.overdue"]
    assert rows[0].item.title.endswith(f": {NOT_ANSWERED_ALPHA}")
    assert rows[1].item.title.endswith(": Confirm who at the centre may receive weights-access logs")
    assert rows[1].is_overdue and rows[1].item.reference == "Open point due"


# What each kind of work is, as the button of its page: (model, the *_actions_for key).
BUTTONS = {
    "findings.respond": "can_respond",
    "findings.release": "can_release",
    "findings.resolve": "can_resolve",
    "findings.submit": "can_submit",
    "tickets.provision": "can_provision",
    "tickets.extension": "can_consent",
    "tickets.approve": "can_decide",
    "tickets.ready": "can_reveal",
    "assessments.complete": "can_complete",
    "agreements.sign": "can_sign",
    "agreements.open_point": "can_resolve",
    "findings.window": None,  # the case page's "Record a finding": the policy's finding.create
}


def _button(user, kind: str, record) -> bool:
    key = BUTTONS[kind]
    if isinstance(record, Finding):
        return finding_actions_for(user=user, finding=record)[key]
    if isinstance(record, AccessTicket):
        return ticket_actions_for(user=user, ticket=record)[key]
    if isinstance(record, Assessment):
        if key is None:
            return not record.is_closed and can(user, "finding.create", record)
        return assessment_actions_for(user=user, assessment=record)[key]
    if isinstance(record, Agreement):
        signed = set(record.signatures.values_list("side", flat=True))
        return agreement_actions_for(user=user, agreement=record, signed_sides=signed)[key]
    if isinstance(record, OpenPoint):
        return open_point_actions_for(user=user, point=record)[key]
    raise AssertionError(f"no button for {kind}")


def test_every_demo_item_is_a_button_its_page_offers_and_every_offered_button_is_queued(demo):
    for user in demo.values():
        queue = _queue(user)
        assert queue.total == len(queue.rows), user.email  # all of it listed at this size
        queued = {(row.item.kind, row.item.record.pk) for row in queue.rows}
        for row in queue.rows:
            if row.item.kind in BUTTONS:
                assert _button(user, row.item.kind, row.item.record), (user.email, row.item)
        # The other way: every visible record whose button is on is in the queue, for the kinds
        # this person's queue holds (a lead's is not an admin's list of everything they may do).
        kinds = set(action_queue_counts(user))
        for finding in scope(Finding.objects.all(), user):
            for kind, status in (
                ("findings.respond", FindingStatus.RELEASED),
                ("findings.release", FindingStatus.IN_REVIEW),
                ("findings.resolve", FindingStatus.COMPANY_RESPONDED),
            ):
                if kind in kinds and finding.status == status and _button(user, kind, finding):
                    assert (kind, finding.pk) in queued, (user.email, kind, finding.reference)
            if (
                "findings.submit" in kinds
                and finding.author_id == user.pk
                and _button(user, "findings.submit", finding)
            ):
                assert ("findings.submit", finding.pk) in queued, (user.email, finding.reference)
        for ticket in scope(AccessTicket.objects.all(), user):
            for kind in ("tickets.provision", "tickets.extension", "tickets.approve"):
                if kind in kinds and _button(user, kind, ticket):
                    assert (kind, ticket.pk) in queued, (user.email, kind, ticket.reference)
        for agreement in scope(Agreement.objects.all(), user):
            if "agreements.sign" in kinds and _button(user, "agreements.sign", agreement):
                assert ("agreements.sign", agreement.pk) in queued, (user.email, agreement.reference)
        for point in scope(OpenPoint.objects.filter(owner=user), user):
            if "agreements.open_point" in kinds and _button(user, "agreements.open_point", point):
                assert ("agreements.open_point", point.pk) in queued, (user.email, point.title)


def test_every_demo_login_s_badge_matches_its_list(demo, client):
    for email in ("admin@caisi.example", "lead@caisi.example", "evaluator@caisi.example", "liaison@alpha-ai.example"):
        user = demo[email]
        queue = _queue(user)
        assert queue.total > 0, email
        assert _badge(client, user) == queue.total == len(queue.rows), email


# --- A case with many items ------------------------------------------------------------------


@pytest.fixture
def busy_company(case, lead, evaluator):
    """Company A with 23 findings to answer (three overdue) and two approved tickets to provision."""
    now = timezone.now()
    for i in range(20):
        released_finding(
            assessment=case,
            author=evaluator,
            released_by=lead,
            title=f"Open {i:02}",
            response_due_at=now + timedelta(days=3 + i),
        )
    for i in range(3):
        released_finding(
            assessment=case,
            author=evaluator,
            released_by=lead,
            title=f"Late {i}",
            response_due_at=now - timedelta(days=5 - i),
        )
    for i in range(2):
        AccessTicketFactory(
            assessment=case,
            status="approved",
            starts_at=now + timedelta(days=1 + i),
            ends_at=case.window_end,
        )
    return case


def test_many_items_show_the_first_twenty_overdue_first_and_count_the_rest(busy_company, liaison_a):
    queue = action_queue_for(liaison_a)
    assert queue.total == 25
    assert len(queue.rows) == QUEUE_LIMIT
    assert [row.item.title for row in queue.rows[:3]] == ["Late 0", "Late 1", "Late 2"]
    assert all(row.is_overdue for row in queue.rows[:3]) and not any(row.is_overdue for row in queue.rows[3:])
    assert [row.item.kind for row in queue.rows[3:5]] == ["tickets.provision", "tickets.provision"]
    dates = [row.item.due_at for row in queue.rows]
    assert dates == sorted(dates)
    assert queue.more == [("Findings to answer", 5, reverse("findings:list") + "?status=released")]


def test_the_dashboard_lists_the_twenty_and_links_the_rest(busy_company, liaison_a, client):
    client.force_login(liaison_a)
    body = client.get(reverse("dashboard")).content.decode()
    assert body.count('data-label="What to do"><a href="/findings/') == 18
    assert body.count("Provision the access") == 2
    assert body.count('<span class="usa-tag bg-secondary-dark">Overdue</span>') == 3
    assert body.count("Response due") == 18
    assert 'And 5 more: <a href="/findings/?status=released">findings to answer (5)</a>.' in body
    assert '<span class="usa-tag portal-queue-count">25<span class="usa-sr-only"> items need your action' in body
    # Needs your action comes before the cards.
    assert body.index("Needs your action") < body.index("usa-card-group")


def test_the_queue_costs_the_same_queries_with_more_items(case, lead, evaluator, liaison_a):
    def measure():
        cache.clear()  # the counts are cached: measure the visit that counts them
        with CaptureQueriesContext(connection) as counted:
            action_queue_counts(liaison_a)
        with CaptureQueriesContext(connection) as listed:
            action_queue_for(liaison_a)
        with CaptureQueriesContext(connection) as listed_again:
            action_queue_for(liaison_a)
        return len(counted), len(listed), len(listed_again)

    released_finding(assessment=case, author=evaluator, released_by=lead)
    AccessTicketFactory(assessment=case, status="approved", starts_at=case.window_start, ends_at=case.window_end)
    small = measure()
    for _ in range(30):
        released_finding(assessment=case, author=evaluator, released_by=lead)
        AccessTicketFactory(assessment=case, status="approved", starts_at=case.window_start, ends_at=case.window_end)
    assert measure() == small
    # One query counts every kind; the list adds one query per kind that has items; the next visit
    # reads the counts from the cache.
    assert small == (1, 3, 2)


# --- Acting takes the item off the queue -----------------------------------------------------


def test_answering_a_finding_takes_it_off_the_liaison_s_queue_and_badge(case, lead, evaluator, liaison_a, client):
    finding = released_finding(assessment=case, author=evaluator, released_by=lead)
    assert [row.item.record for row in _queue(liaison_a).rows] == [finding]
    assert _badge(client, liaison_a) == 1
    finding_services.finding_respond(
        actor=liaison_a, finding=finding, disposition="risk_accepted", response="We have added a filter."
    )
    assert _queue(liaison_a).total == 0
    assert _badge(client, liaison_a) == 0
    # The answer is now the case team's to review.
    assert [row.item.kind for row in _queue(evaluator).rows] == ["findings.resolve"]


def test_releasing_a_finding_moves_it_from_the_lead_to_the_company(case, lead, evaluator, liaison_a):
    finding = FindingFactory(assessment=case, author=evaluator)
    assert [row.item.kind for row in _queue(evaluator).rows] == ["findings.submit"]
    finding_services.finding_submit_for_review(actor=evaluator, finding=finding)
    assert _queue(evaluator).total == 0
    assert [row.item.kind for row in _queue(lead).rows] == ["findings.release"]
    finding_services.finding_release(actor=lead, finding=finding)
    assert _queue(lead).total == 0
    assert [row.item.kind for row in _queue(liaison_a).rows] == ["findings.respond"]


def test_a_lead_never_has_their_own_finding_or_request_to_release_or_approve(case, lead):
    finding = FindingFactory(assessment=case, author=lead, status=FindingStatus.IN_REVIEW)
    AccessTicketFactory(assessment=case, requested_by=lead)
    assert finding.author_id == lead.pk
    assert _queue(lead).total == 0


def test_ticket_work_moves_from_lead_to_company_to_team(case, lead, evaluator, liaison_a):
    ticket = AccessTicketFactory(assessment=case, requested_by=evaluator)
    assert [row.item.kind for row in _queue(lead).rows] == ["tickets.approve"]
    assert _queue(liaison_a).total == 0  # the company never sees a request
    case_services.ticket_approve(actor=lead, ticket=ticket)
    assert _queue(lead).total == 0
    assert [row.item.kind for row in _queue(liaison_a).rows] == ["tickets.provision"]
    case_services.ticket_provision(
        actor=liaison_a, ticket=ticket, endpoint="https://api.a.test/v1", credential="secret-key", instructions=""
    )
    assert _queue(liaison_a).total == 0
    assert [row.item.kind for row in _queue(evaluator).rows] == ["tickets.ready"]
    case_services.ticket_reveal(actor=evaluator, ticket=ticket)
    assert _queue(evaluator).total == 0


def test_an_extension_waits_for_the_company_until_it_decides(case, lead, evaluator, liaison_a):
    ticket = AccessTicketFactory(
        assessment=case,
        requested_by=evaluator,
        status="active",
        starts_at=case.window_start,
        ends_at=case.window_end - timedelta(days=3),
    )
    case_services.ticket_request_extension(
        actor=evaluator, ticket=ticket, until=case.window_end - timedelta(days=1), reason="Two more suites."
    )
    rows = _queue(liaison_a).rows
    assert [row.item.kind for row in rows] == ["tickets.extension"]
    assert rows[0].item.url == reverse("assessments:ticket_extension", kwargs={"reference": ticket.reference})
    case_services.ticket_decide_extension(actor=liaison_a, ticket=ticket, consent=True)
    assert _queue(liaison_a).total == 0


def test_signing_takes_the_agreement_off_each_side_s_queue(company_a, lead, liaison_a, admin_user):
    agreement = AgreementFactory(
        organisation=company_a, status=AgreementStatus.AWAITING_SIGNATURE, signature_due=timezone.localdate()
    )
    assert [row.item.record for row in _queue(liaison_a).rows] == [agreement]
    assert [row.item.record for row in _queue(lead).rows] == [agreement]
    agreement_services.agreement_sign(actor=liaison_a, agreement=agreement, signer_name="Liaison A", capacity="CLO")
    assert _queue(liaison_a).total == 0
    assert [row.item.kind for row in _queue(lead).rows] == ["agreements.sign"]
    agreement_services.agreement_sign(actor=lead, agreement=agreement, signer_name="Lead", capacity="Director")
    assert _queue(lead).total == 0


def test_a_proposal_waits_for_the_other_side_until_it_replies(company_a, lead, liaison_a):
    agreement = AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING)
    proposal = NegotiationEntryFactory(agreement=agreement, author=lead, author_side="centre", clause="max_window_days")
    assert [row.item.record for row in _queue(liaison_a).rows] == [proposal]
    agreement_services.negotiation_entry_add(
        actor=liaison_a,
        agreement=agreement,
        kind=EntryKind.COUNTER_PROPOSAL,
        clause="max_window_days",
        text="14 days",
        responds_to=proposal,
    )
    assert _queue(liaison_a).total == 0


def test_an_open_point_leaves_its_owner_s_queue_when_resolved(company_a, lead, liaison_a):
    point = OpenPointFactory(
        owner=liaison_a,
        created_by=lead,
        agreement=AgreementFactory(organisation=company_a, status=AgreementStatus.NEGOTIATING),
    )
    assert [row.item.record for row in _queue(liaison_a).rows] == [point]
    agreement_services.open_point_resolve(actor=liaison_a, point=point, resolution="Agreed by email.")
    assert _queue(liaison_a).total == 0


def test_the_evaluator_is_told_of_a_window_closing_this_week(lead, evaluator, agreement_a):
    soon = AssessmentFactory(
        submission__agreement=agreement_a,
        lead=lead,
        team=[evaluator],
        window_start=timezone.now() - timedelta(days=10),
        window_end=timezone.now() + timedelta(days=2),
    )
    AssessmentFactory(submission__agreement=agreement_a, lead=lead, team=[evaluator])  # ends in 12 days
    rows = _queue(evaluator).rows
    assert [(row.item.kind, row.item.record) for row in rows] == [("findings.window", soon)]
    assert rows[0].days_left == 2


def test_a_lead_completes_a_case_in_reporting(case, lead, admin_user):
    Assessment.objects.filter(pk=case.pk).update(status="reporting")
    assert [row.item.kind for row in _queue(lead).rows] == ["assessments.complete"]
    case.refresh_from_db()
    case_services.assessment_close(actor=lead, assessment=case, outcome="no_concerns", rationale="Nothing found.")
    assert _queue(lead).total == 0


def test_the_admin_sees_failed_deliveries_and_agreements_about_to_expire(admin_user, company_a, lead):
    expiring = AgreementFactory(organisation=company_a, expiry_date=timezone.localdate() + timedelta(days=10))
    AgreementFactory(organisation=company_a)  # runs almost a year more
    digest = Digest.objects.create(
        recipient=lead, kind=Digest.Kind.REMINDERS, day=timezone.localdate(), status=DeliveryStatus.FAILED
    )
    rows = _queue(admin_user).rows
    assert [(row.item.kind, row.item.record) for row in rows] == [
        ("agreements.expiring", expiring),
        ("reminders.failed_digest", digest),
    ]
    assert rows[1].item.url == reverse("admin:reminders_digest_change", args=[digest.pk])
    Digest.objects.filter(pk=digest.pk).update(status=DeliveryStatus.PENDING)  # queued again
    records_changed()  # as every committed change does: the counts are taken again
    assert [row.item.record for row in _queue(admin_user).rows] == [expiring]
    handoff = Handoff.objects.create(
        event_key="test:failed",
        recipient=lead,
        title="A finding was released",
        url="/findings/",
        status=DeliveryStatus.FAILED,
    )
    records_changed()
    assert [row.item.record for row in _queue(admin_user).rows] == [expiring, handoff]
    assert _queue(lead).total == 0  # only programme admins queue deliveries again


# --- Another company's work ------------------------------------------------------------------


def test_a_liaison_never_sees_another_company_s_work(
    case, case_b, lead, lead2, evaluator, evaluator_other, liaison_a, liaison_b, company_a, client
):
    released_finding(assessment=case, author=evaluator, released_by=lead)
    AccessTicketFactory(assessment=case, status="approved", starts_at=case.window_start, ends_at=case.window_end)
    AgreementFactory(organisation=company_a, status=AgreementStatus.AWAITING_SIGNATURE)
    OpenPointFactory(owner=liaison_a, agreement=AgreementFactory(organisation=company_a, status="negotiating"))
    NegotiationEntryFactory(agreement=AgreementFactory(organisation=company_a, status="negotiating"))
    assert _queue(liaison_a).total == 5
    assert _queue(liaison_b).total == 0
    assert _badge(client, liaison_b) == 0

    mine = released_finding(assessment=case_b, author=evaluator_other, released_by=lead2)
    cache.clear()  # the factory writes around the services, so nothing told the cached badge
    queue = _queue(liaison_b)
    assert [row.item.record for row in queue.rows] == [mine]
    assert _badge(client, liaison_b) == queue.total == 1
    assert _badge(client, liaison_a) == 5


# --- How fresh the dashboard's queue is --------------------------------------------------------


def test_the_dashboard_shows_a_change_at_once_and_anything_else_within_the_minute(
    case, lead, evaluator, client, django_capture_on_commit_callbacks
):
    client.force_login(lead)
    draft = FindingFactory(assessment=case, author=evaluator, title="Jailbreak in the tool-use harness")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert "Jailbreak in the tool-use harness" not in client.get(reverse("dashboard")).text
        # Submitted through the service: the change commits and the next visit reads the queue anew.
        with django_capture_on_commit_callbacks(execute=True):
            finding_services.finding_submit_for_review(actor=evaluator, finding=draft)
        page = client.get(reverse("dashboard")).text
        assert "Jailbreak in the tool-use harness" in page and "Review and release to the company" in page
        # A change made around the services waits for the minute the page states.
        Finding.objects.filter(pk=draft.pk).update(title="Renamed out of band")
        assert "Renamed out of band" not in client.get(reverse("dashboard")).text
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        assert "Renamed out of band" in client.get(reverse("dashboard")).text
