"""Who may reach each page and endpoint of the assessments app (see tests/authz.py)."""

from __future__ import annotations

from datetime import timedelta

from tests.authz import (
    ANY_MEMBER,
    API_ANONYMOUS,
    CASE_OBJECT,
    LOGIN_REDIRECT,
    Row,
    admin_action_row,
    admin_change_row,
    expect,
)

A = LOGIN_REDIRECT


def build(w):
    from assessments import services
    from assessments.tests.factories import AccessTicketFactory

    case = w.case
    end = case.window_end - timedelta(days=3)

    def _approved():
        ticket = AccessTicketFactory(assessment=case, requested_by=w.evaluator)
        return services.ticket_approve(actor=w.lead, ticket=ticket, ends_at=end)

    w.ticket_requested = AccessTicketFactory(assessment=case, requested_by=w.evaluator)
    w.ticket_approved = _approved()
    w.ticket_live = services.ticket_provision(
        actor=w.liaison_a, ticket=_approved(), endpoint="https://api.a.test", credential="secret-a", instructions=""
    )
    w.ticket_extension = services.ticket_request_extension(
        actor=w.evaluator, ticket=_approved(), until=end + timedelta(days=1), reason="More time."
    )
    w.extend_until = (end + timedelta(days=1)).isoformat()


def ref(attr):
    return lambda w: {"reference": getattr(w, attr).reference}


case_ref = lambda w: {"reference": w.case.reference}  # noqa: E731
submission_ref = lambda w: {"reference": w.case.submission.reference}  # noqa: E731

# Pages: the case lead and programme admins run the case; the company and the other team never see it.
CASE_LEAD_ONLY = expect(403, anonymous=A, liaison_b=404, evaluator_other=404, lead=200, admin_user=200)
TEAM_ONLY = expect(403, anonymous=A, liaison_b=404, evaluator_other=404, lead=200, evaluator=200)
COMPANY_ONLY = expect(403, anonymous=A, liaison_b=404, evaluator_other=404, liaison_a=200)
DECIDER = expect(403, anonymous=A, liaison_a=404, liaison_b=404, evaluator_other=404, lead=200, admin_user=200)
REVOKER = expect(200, anonymous=A, liaison_b=404, evaluator_other=404)

# The same people through the API (anonymous gets 401/403 instead of a login redirect).
API_MEMBER = expect(200, anonymous=API_ANONYMOUS)
API_CASE = expect(200, anonymous=API_ANONYMOUS, liaison_b=404, evaluator_other=404)


def api(table, ok=200):
    return {
        actor: (API_ANONYMOUS if actor == "anonymous" else (ok if code == 200 else code))
        for actor, code in table.items()
    }


ROWS = [
    # --- Pages ---
    Row("assessments:submission_list", expect=ANY_MEMBER),
    Row("assessments:submission_export", expect=ANY_MEMBER, note="what the list shows, as CSV"),
    Row("assessments:submission_create", expect=expect(403, anonymous=A, liaison_a=200, liaison_b=200)),
    Row("assessments:submission_detail", kwargs=submission_ref, expect=CASE_OBJECT),
    Row("assessments:submission_withdraw", kwargs=submission_ref, expect=COMPANY_ONLY),
    Row(
        "assessments:submission_withdraw",
        kwargs=submission_ref,
        method="post",
        data={"reason": "Release cancelled."},
        expect=COMPANY_ONLY,
        note="the case is in progress: the form shows the refusal to the company",
    ),
    Row("assessments:list", expect=ANY_MEMBER),
    Row("assessments:export", expect=ANY_MEMBER, note="what the list shows, as CSV"),
    Row("assessments:create", expect=expect(403, anonymous=A, lead=200, admin_user=200)),
    Row("assessments:detail", kwargs=case_ref, expect=CASE_OBJECT),
    Row("assessments:edit", kwargs=case_ref, expect=CASE_LEAD_ONLY),
    Row("assessments:advance", kwargs=case_ref, expect=CASE_LEAD_ONLY, note="the confirmation page"),
    Row(
        "assessments:advance",
        method="post",
        kwargs=case_ref,
        data={"to_status": "reporting", "confirmed": "yes"},
        expect={**CASE_LEAD_ONLY, "lead": 302, "admin_user": 302},
    ),
    Row("assessments:close", kwargs=case_ref, expect=CASE_LEAD_ONLY),
    Row("assessments:withdraw", kwargs=case_ref, expect=CASE_LEAD_ONLY),
    Row(
        "assessments:acknowledge_outcome",
        kwargs=case_ref,
        expect=COMPANY_ONLY,
        note="the company the case assessed; the page of a case not yet completed",
    ),
    Row("assessments:ticket_request", kwargs=case_ref, expect=TEAM_ONLY),
    Row("assessments:ticket_list", expect=ANY_MEMBER),
    Row("assessments:ticket_export", expect=ANY_MEMBER, note="what the list shows, as CSV"),
    Row("assessments:ticket_detail", kwargs=ref("ticket_live"), expect=CASE_OBJECT),
    Row(
        "assessments:ticket_detail",
        kwargs=ref("ticket_requested"),
        expect=expect(200, anonymous=A, liaison_a=404, liaison_b=404, evaluator_other=404),
        note="the company does not see requests",
    ),
    Row("assessments:ticket_approve", kwargs=ref("ticket_requested"), expect=DECIDER),
    Row("assessments:ticket_reject", kwargs=ref("ticket_requested"), expect=DECIDER),
    Row("assessments:ticket_provision", kwargs=ref("ticket_approved"), expect=COMPANY_ONLY),
    Row(
        "assessments:ticket_reveal",
        method="post",
        kwargs=ref("ticket_live"),
        expect=TEAM_ONLY,
        note="only the team sees the secret",
    ),
    Row("assessments:ticket_revoke", kwargs=ref("ticket_live"), expect=REVOKER),
    Row("assessments:ticket_extend", kwargs=ref("ticket_live"), expect=TEAM_ONLY),
    Row("assessments:ticket_extension", kwargs=ref("ticket_extension"), expect=COMPANY_ONLY),
    # --- API ---
    Row("submission-list", expect=API_MEMBER),
    Row(
        "submission-list",
        method="post",
        data=lambda w: {
            "agreement": w.agreement_a.reference,
            "model_name": "Alpha-Matrix",
            "model_version": "1",
            "modalities": ["text"],
        },
        expect=expect(403, anonymous=API_ANONYMOUS, liaison_a=201, liaison_b=400),
        note="liaison B cannot name company A's agreement",
    ),
    Row("submission-detail", kwargs=submission_ref, expect=API_CASE),
    Row(
        "submission-withdraw",
        kwargs=submission_ref,
        method="post",
        data={"reason": "Release cancelled."},
        expect=expect(403, anonymous=API_ANONYMOUS, liaison_a=409, liaison_b=404, evaluator_other=404),
        note="only the company; refused once the case has started",
    ),
    Row("assessment-list", expect=API_MEMBER),
    Row(
        "assessment-list",
        method="post",
        data=lambda w: {
            "submission": w.case.submission.reference,
            "risk_domains": ["cyber"],
            "window_start": w.case.window_start.isoformat(),
            "window_end": (w.case.window_start + timedelta(days=7)).isoformat(),
        },
        expect=expect(403, anonymous=API_ANONYMOUS, lead=201, admin_user=400),
        note="an admin must name a lead",
    ),
    Row("assessment-detail", kwargs=case_ref, expect=API_CASE),
    Row(
        "assessment-advance",
        method="post",
        kwargs=case_ref,
        data={"to_status": "reporting"},
        expect=api(CASE_LEAD_ONLY),
    ),
    Row(
        "assessment-close",
        method="post",
        kwargs=case_ref,
        data={"outcome": "no_concerns", "rationale": "Nothing found."},
        expect=api(CASE_LEAD_ONLY, ok=409),
        note="an in-progress case cannot be completed",
    ),
    Row(
        "assessment-withdraw", method="post", kwargs=case_ref, data={"reason": "Postponed."}, expect=api(CASE_LEAD_ONLY)
    ),
    Row(
        "assessment-acknowledge-outcome",
        method="post",
        kwargs=case_ref,
        data={"comment": "Received."},
        expect=api(COMPANY_ONLY, ok=409),
        note="a case in progress has no outcome to acknowledge yet",
    ),
    Row("access-ticket-list", expect=API_MEMBER),
    Row(
        "access-ticket-list",
        method="post",
        data=lambda w: {
            "assessment": w.case.reference,
            "kind": "hosted_api",
            "justification": "Cyber evals.",
            "wanted_from": w.case.window_start.isoformat(),
            "wanted_to": w.case.window_end.isoformat(),
        },
        expect=expect(403, anonymous=API_ANONYMOUS, lead=201, evaluator=201, evaluator_other=400),
        note="the other team cannot name the case",
    ),
    Row("access-ticket-detail", kwargs=ref("ticket_live"), expect=API_CASE),
    Row("access-ticket-approve", method="post", kwargs=ref("ticket_requested"), expect=api(DECIDER)),
    Row(
        "access-ticket-reject",
        method="post",
        kwargs=ref("ticket_requested"),
        data={"reason": "No."},
        expect=api(DECIDER),
    ),
    Row(
        "access-ticket-provision",
        method="post",
        kwargs=ref("ticket_approved"),
        data={"endpoint": "https://api.a.test", "credential": "k"},
        expect=api(COMPANY_ONLY),
    ),
    Row("access-ticket-reveal", method="post", kwargs=ref("ticket_live"), expect=api(TEAM_ONLY)),
    Row(
        "access-ticket-revoke", method="post", kwargs=ref("ticket_live"), data={"reason": "Done."}, expect=api(REVOKER)
    ),
    Row(
        "access-ticket-extend",
        method="post",
        kwargs=ref("ticket_live"),
        data=lambda w: {"until": w.extend_until, "reason": "More time."},
        expect=api(TEAM_ONLY),
    ),
    Row(
        "access-ticket-extension",
        method="post",
        kwargs=ref("ticket_extension"),
        data={"consent": "true"},
        expect=api(COMPANY_ONLY),
    ),
]


def _reveal(w):
    """A credential reveal of the live ticket (made on first use, for the admin rows)."""
    if not hasattr(w, "reveal_live"):
        from assessments.models import CredentialReveal
        from assessments.services import ticket_reveal

        ticket_reveal(actor=w.evaluator, ticket=w.ticket_live)
        w.reveal_live = CredentialReveal.objects.filter(ticket=w.ticket_live).latest("revealed_at")
    return w.reveal_live


# The Django admin (see tests/authz.py): every model's change page and every action.
ADMIN_ROWS = [
    admin_change_row("assessments.modelsubmission", lambda w: w.case.submission),
    admin_change_row("assessments.assessment", lambda w: w.case),
    admin_action_row("assessments.assessment", "advance_selected", lambda w: [w.case]),
    admin_action_row(
        "assessments.assessment",
        "complete_selected",
        lambda w: [w.case],
        {"outcome": "no_concerns", "note": "Matrix."},
    ),
    admin_action_row("assessments.assessment", "withdraw_selected", lambda w: [w.case], {"note": "Matrix."}),
    admin_change_row("assessments.accessticket", lambda w: w.ticket_live),
    admin_action_row("assessments.accessticket", "revoke_selected", lambda w: [w.ticket_live], {"note": "Matrix."}),
    admin_change_row("assessments.credentialreveal", _reveal),
]
