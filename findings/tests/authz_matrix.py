"""Who may reach each findings page and endpoint.

The world gets a draft, an in-review, a released, a not-answered and a responded finding on
company A's case (written by ``evaluator``, released by ``lead``), evidence on
the draft and on the released one.
"""

from tests.authz import (
    ANY_MEMBER,
    API_ANONYMOUS,
    CASE_INTERNAL,
    CASE_OBJECT,
    LOGIN_REDIRECT,
    Row,
    admin_action_row,
    admin_change_row,
    expect,
)

# The team's own pages: the company and outsiders see nothing, admins see but do not act.
TEAM_ACTION = expect(200, anonymous=LOGIN_REDIRECT, liaison_a=404, liaison_b=404, evaluator_other=404, admin_user=403)
# Actions on a finding the company can see: liaison A sees it but may not act.
TEAM_ACTION_RELEASED = {**TEAM_ACTION, "liaison_a": 403}
REPORT_FULL = expect(200, anonymous=LOGIN_REDIRECT, liaison_a=403, liaison_b=404, evaluator_other=404)
REPORT_COMPANY = expect(200, anonymous=LOGIN_REDIRECT, liaison_b=404, evaluator_other=404)

# The company's steps on a recommendation: its liaison; the centre sees it but may not act.
COMPANY_STEP = expect(403, anonymous=LOGIN_REDIRECT, liaison_a=200, liaison_b=404, evaluator_other=404)
VERIFY_STEP = expect(200, anonymous=LOGIN_REDIRECT, liaison_a=403, liaison_b=404, evaluator_other=404)
API_COMPANY_STEP = expect(403, anonymous=API_ANONYMOUS, liaison_a=200, liaison_b=404, evaluator_other=404)
API_VERIFY_STEP = expect(200, anonymous=API_ANONYMOUS, liaison_a=403, liaison_b=404, evaluator_other=404)

API_TEAM = expect(200, anonymous=API_ANONYMOUS, liaison_a=404, liaison_b=404, evaluator_other=404, admin_user=403)
API_TEAM_RELEASED = {**API_TEAM, "liaison_a": 403}

# The marking page of a finding, file or comment: company A sees the item but may not mark the centre's.
MARKING_PAGE = expect(200, anonymous=LOGIN_REDIRECT, liaison_a=403, liaison_b=404, evaluator_other=404)
# Lowering a marking: only the lead on the case and admins (back to the finding); everyone else seeing it is refused.
MARKING_LOWER = expect(403, anonymous=LOGIN_REDIRECT, lead=302, admin_user=302, liaison_b=404, evaluator_other=404)


def _ref(name):
    return lambda w: {"reference": getattr(w, name).reference}


def _rec(name):
    return lambda w: {"public_id": getattr(w, name).public_id}


def _case(w):
    return {"assessment_reference": w.case.reference}


def _run(w):
    return {"public_id": w.run.public_id}


def _log_upload(fmt: str):
    from findings.tests.inspect_logs import generated_logs, upload

    return upload(getattr(generated_logs(), fmt))


def _job(name):
    return lambda w: {"public_id": getattr(w, name).public_id}


ROWS = [
    Row("findings:list", expect=ANY_MEMBER),
    Row("findings:export", expect=ANY_MEMBER, note="what the list shows, as CSV"),
    Row("findings:create", kwargs=_case, expect={**TEAM_ACTION, "liaison_a": 403}),
    Row("findings:detail", kwargs=_ref("f_draft"), expect=CASE_INTERNAL, note="draft"),
    Row("findings:detail", kwargs=_ref("f_released"), expect=CASE_OBJECT, note="released"),
    Row("findings:edit", kwargs=_ref("f_draft"), expect=TEAM_ACTION),
    Row("findings:submit", kwargs=_ref("f_draft"), expect=TEAM_ACTION),
    Row(
        "findings:release",
        kwargs=_ref("f_in_review"),
        expect={**TEAM_ACTION, "evaluator": 403},
        note="two-person rule: only a lead who is not the author",
    ),
    Row("findings:resolve", kwargs=_ref("f_responded"), expect=TEAM_ACTION_RELEASED),
    Row("findings:reopen", kwargs=_ref("f_responded"), expect=TEAM_ACTION_RELEASED),
    Row(
        "findings:escalate",
        kwargs=_ref("f_not_answered"),
        expect={**TEAM_ACTION_RELEASED, "evaluator": 403, "admin_user": 200},
        note="a lead on the case or an admin",
    ),
    Row(
        "findings:withdraw",
        kwargs=_ref("f_draft"),
        expect={**TEAM_ACTION, "admin_user": 200},
        note="author, lead or admin",
    ),
    Row(
        "findings:respond",
        kwargs=_ref("f_released"),
        expect=expect(403, anonymous=LOGIN_REDIRECT, liaison_a=200, liaison_b=404, evaluator_other=404),
    ),
    Row(
        "findings:comment",
        method="post",
        kwargs=_ref("f_released"),
        data={"body": "Matrix comment", "internal": ""},
        expect=expect(302, liaison_b=404, evaluator_other=404, admin_user=403),
        note="redirects back to the thread",
    ),
    Row(
        "findings:evidence_download",
        kwargs=lambda w: {"public_id": w.evidence_released.public_id},
        expect=CASE_OBJECT,
        note="released finding",
    ),
    Row(
        "findings:evidence_download",
        kwargs=lambda w: {"public_id": w.evidence_draft.public_id},
        expect=CASE_INTERNAL,
        note="draft finding",
    ),
    Row("findings:report", kwargs=_case, expect=REPORT_FULL),
    Row("findings:report_pdf", kwargs=_case, expect=REPORT_FULL),
    Row("findings:report_company", kwargs=_case, expect=REPORT_COMPANY),
    Row("findings:report_company_pdf", kwargs=_case, expect=REPORT_COMPANY),
    Row(
        "findings:report_build",
        method="post",
        kwargs=_case,
        expect=expect(302, liaison_a=403, liaison_b=404, evaluator_other=404),
        note="asks for the PDF and redirects to its job",
    ),
    Row(
        "findings:report_company_build",
        method="post",
        kwargs=_case,
        expect=expect(302, liaison_b=404, evaluator_other=404),
        note="asks for the PDF and redirects to its job",
    ),
    Row("findings:report_job", kwargs=_job("job_full"), expect=CASE_INTERNAL, note="full report"),
    Row("findings:report_job", kwargs=_job("job_released"), expect=CASE_OBJECT, note="released findings"),
    Row("findings:report_job_download", kwargs=_job("job_full"), expect=CASE_INTERNAL, note="full report"),
    Row("findings:report_job_download", kwargs=_job("job_released"), expect=CASE_OBJECT, note="released findings"),
    # --- Recommendations: the centre adds them to its own drafts, the company takes its steps, the
    # case team (or an admin) verifies. Each step's page is checked against the policy alone.
    Row("findings:recommendation_add", kwargs=_ref("f_draft"), expect=TEAM_ACTION),
    *[
        Row(f"findings:recommendation_{step}", kwargs=_rec("rec_issued"), expect=COMPANY_STEP)
        for step in ("acknowledge", "accept", "decline", "implement")
    ],
    *[
        Row(f"findings:recommendation_{step}", kwargs=_rec("rec_implemented"), expect=VERIFY_STEP)
        for step in ("verify", "not_verify")
    ],
    # --- Evaluation runs (imported Inspect logs): the centre's; the company sees a cited run's summary only.
    Row("findings:run_list", kwargs=_case, expect=REPORT_FULL, note="the case's runs and the import form"),
    Row(
        "findings:run_list",
        method="post",
        kwargs=_case,
        data=lambda w: {"file": _log_upload("json"), "model_note": "Mock model.", "no_classified_information": "on"},
        expect=expect(302, anonymous=LOGIN_REDIRECT, liaison_a=403, liaison_b=404, evaluator_other=404, admin_user=403),
        note="import a log: the case team; redirects to its page",
    ),
    Row("findings:run_detail", kwargs=_run, expect=CASE_INTERNAL),
    Row("findings:run_download", kwargs=_run, expect=CASE_INTERNAL),
    Row("findings:run_marking", kwargs=_run, expect=CASE_INTERNAL, note="the run's marking page: the case team"),
    Row(
        "findings:run_marking",
        method="post",
        kwargs=_run,
        data={"marking": "CUI"},
        expect=expect(302, anonymous=LOGIN_REDIRECT, liaison_a=404, liaison_b=404, evaluator_other=404),
        note="raise: the case team and admins",
    ),
    Row(
        "findings:run_marking",
        method="post",
        kwargs=_run,
        data={"marking": "PUBLIC", "reason": "Agreed for publication."},
        expect=expect(
            403, anonymous=LOGIN_REDIRECT, lead=302, admin_user=302, liaison_a=404, liaison_b=404, evaluator_other=404
        ),
        note="lower: the lead on the case and admins",
    ),
    Row(
        "findings:samples",
        kwargs=_ref("f_cited"),
        expect=REPORT_FULL,
        note="cited samples of a released finding: the company sees the finding, not the samples",
    ),
    # --- API ---------------------------------------------------------------------------
    Row("finding-list", expect=expect(200, anonymous=API_ANONYMOUS)),
    Row(
        "finding-list",
        method="post",
        data=lambda w: {
            "assessment": w.case.reference,
            "title": "Matrix finding",
            "risk_domain": "cyber",
            "severity": "low",
            "summary": "Recorded by the matrix.",
        },
        expect=expect(403, anonymous=API_ANONYMOUS, evaluator=201, lead=201, evaluator_other=400),
        note="create: the team only; an assessment you cannot see is a field error",
    ),
    Row(
        "finding-detail",
        kwargs=_ref("f_draft"),
        expect=expect(200, anonymous=API_ANONYMOUS, liaison_a=404, liaison_b=404, evaluator_other=404),
    ),
    Row("finding-submit", method="post", kwargs=_ref("f_draft"), expect=API_TEAM),
    Row("finding-release", method="post", kwargs=_ref("f_in_review"), expect={**API_TEAM, "evaluator": 403}),
    Row("finding-resolve", method="post", kwargs=_ref("f_responded"), expect=API_TEAM_RELEASED),
    Row(
        "finding-reopen",
        method="post",
        kwargs=_ref("f_responded"),
        data={"note": "Please say when the fix ships."},
        expect=API_TEAM_RELEASED,
    ),
    Row(
        "finding-escalate",
        method="post",
        kwargs=_ref("f_not_answered"),
        data={"note": "No answer after two reminders."},
        expect={**API_TEAM_RELEASED, "evaluator": 403, "admin_user": 200},
    ),
    Row(
        "finding-withdraw",
        method="post",
        kwargs=_ref("f_draft"),
        data={"reason": "Duplicate."},
        expect={**API_TEAM, "admin_user": 200},
    ),
    Row(
        "finding-respond",
        method="post",
        kwargs=_ref("f_released"),
        data={"disposition": "disputed", "company_response": "We disagree."},
        expect=expect(403, anonymous=API_ANONYMOUS, liaison_a=200, liaison_b=404, evaluator_other=404),
    ),
    Row(
        "finding-comments",
        kwargs=_ref("f_released"),
        expect=expect(200, anonymous=API_ANONYMOUS, liaison_b=404, evaluator_other=404),
    ),
    Row(
        "finding-comments",
        method="post",
        kwargs=_ref("f_released"),
        data={"body": "Matrix comment"},
        expect=expect(201, anonymous=API_ANONYMOUS, liaison_b=404, evaluator_other=404, admin_user=403),
        note="add a comment",
    ),
    Row(
        "finding-evidence",
        method="post",
        kwargs=_ref("f_draft"),
        data=lambda w: {"no_classified_information": True, "files": [_text_file()]},
        expect=expect(201, anonymous=API_ANONYMOUS, liaison_a=404, liaison_b=404, evaluator_other=404, admin_user=403),
        note="multipart upload by the team",
    ),
    Row(
        "finding-recommendations",
        kwargs=_ref("f_released"),
        expect=expect(200, anonymous=API_ANONYMOUS, liaison_b=404, evaluator_other=404),
    ),
    Row(
        "finding-recommendations",
        method="post",
        kwargs=_ref("f_draft"),
        data={"kind": "safeguard", "text": "Add a refusal safeguard."},
        expect=expect(201, anonymous=API_ANONYMOUS, liaison_a=404, liaison_b=404, evaluator_other=404, admin_user=403),
        note="add a recommendation to a draft",
    ),
    Row("recommendation-list", expect=expect(200, anonymous=API_ANONYMOUS)),
    Row(
        "recommendation-detail",
        kwargs=_rec("rec_issued"),
        expect=expect(200, anonymous=API_ANONYMOUS, liaison_b=404, evaluator_other=404),
    ),
    Row(
        "recommendation-detail",
        kwargs=_rec("rec_proposed"),
        expect=expect(200, anonymous=API_ANONYMOUS, liaison_a=404, liaison_b=404, evaluator_other=404),
        note="proposed: the company never sees it",
    ),
    Row("recommendation-acknowledge", method="post", kwargs=_rec("rec_issued"), expect=API_COMPANY_STEP),
    Row("recommendation-accept", method="post", kwargs=_rec("rec_acknowledged"), expect=API_COMPANY_STEP),
    Row(
        "recommendation-decline",
        method="post",
        kwargs=_rec("rec_acknowledged"),
        data={"reason": "Monitoring suffices."},
        expect=API_COMPANY_STEP,
    ),
    Row(
        "recommendation-implement",
        method="post",
        kwargs=_rec("rec_accepted"),
        data={"note": "Shipped in 2.1."},
        expect=API_COMPANY_STEP,
    ),
    Row("recommendation-verify", method="post", kwargs=_rec("rec_implemented"), expect=API_VERIFY_STEP),
    Row(
        "recommendation-not-verify",
        method="post",
        kwargs=_rec("rec_implemented"),
        data={"note": "Still bypassed."},
        expect=API_VERIFY_STEP,
    ),
    Row(
        "finding-file",
        kwargs=lambda w: {"reference": w.f_released.reference, "file_id": w.evidence_released.public_id},
        expect=expect(200, anonymous=API_ANONYMOUS, liaison_b=404, evaluator_other=404),
        note="download, released finding",
    ),
    Row(
        "finding-file",
        kwargs=lambda w: {"reference": w.f_draft.reference, "file_id": w.evidence_draft.public_id},
        expect=expect(200, anonymous=API_ANONYMOUS, liaison_a=404, liaison_b=404, evaluator_other=404),
        note="download, draft finding",
    ),
    # --- Handling markings: raising is for the team, lowering for the lead on the case or an admin ---
    Row("findings:marking", kwargs=_ref("f_released"), expect=MARKING_PAGE),
    Row(
        "findings:marking",
        method="post",
        kwargs=_ref("f_released"),
        data={"marking": "PUBLIC", "reason": "Agreed for publication."},
        expect=MARKING_LOWER,
        note="lower: the evaluator is refused",
    ),
    Row(
        "findings:marking",
        method="post",
        kwargs=_ref("f_released"),
        data={"marking": "CUI"},
        expect=expect(302, anonymous=LOGIN_REDIRECT, liaison_a=403, liaison_b=404, evaluator_other=404),
        note="raise",
    ),
    Row("findings:evidence_marking", kwargs=_job("evidence_released"), expect=MARKING_PAGE),
    Row("findings:comment_marking", kwargs=_job("comment_shared"), expect=MARKING_PAGE),
    Row(
        "finding-marking",
        method="post",
        kwargs=_ref("f_released"),
        data={"marking": "CUI"},
        expect=expect(200, anonymous=API_ANONYMOUS, liaison_a=403, liaison_b=404, evaluator_other=404),
        note="raise",
    ),
    Row(
        "finding-file-marking",
        method="post",
        kwargs=lambda w: {"reference": w.f_released.reference, "file_id": w.evidence_released.public_id},
        data={"marking": "PUBLIC", "reason": "Agreed for publication."},
        expect=expect(403, anonymous=API_ANONYMOUS, lead=200, admin_user=200, liaison_b=404, evaluator_other=404),
        note="lower",
    ),
    Row(
        "finding-comment-marking",
        method="post",
        kwargs=lambda w: {"reference": w.f_released.reference, "comment_id": w.comment_shared.public_id},
        data={"marking": "CUI"},
        expect=expect(200, anonymous=API_ANONYMOUS, liaison_a=403, liaison_b=404, evaluator_other=404),
        note="raise: not the company, whose liaison did not write it",
    ),
    Row("evaluation-run-list", expect=expect(200, anonymous=API_ANONYMOUS), note="scoped: a company's list is empty"),
    Row(
        "evaluation-run-list",
        method="post",
        data=lambda w: {
            "assessment": w.case.reference,
            "file": _log_upload("json"),
            "model_note": "Mock model.",
            "no_classified_information": "true",
        },
        expect=expect(202, anonymous=API_ANONYMOUS, liaison_a=403, liaison_b=403, admin_user=403, evaluator_other=400),
        note="import a log (multipart): the case team; a case you cannot see is a field error",
    ),
    Row(
        "evaluation-run-detail",
        kwargs=_run,
        expect=expect(200, anonymous=API_ANONYMOUS, liaison_a=404, liaison_b=404, evaluator_other=404),
    ),
    Row(
        "evaluation-run-marking",
        method="post",
        kwargs=_run,
        data={"marking": "CUI"},
        expect=expect(200, anonymous=API_ANONYMOUS, liaison_a=404, liaison_b=404, evaluator_other=404),
        note="raise: the case team and admins",
    ),
    Row(
        "evaluation-run-marking",
        method="post",
        kwargs=_run,
        data={"marking": "PUBLIC", "reason": "Agreed for publication."},
        expect=expect(
            403, anonymous=API_ANONYMOUS, lead=200, admin_user=200, liaison_a=404, liaison_b=404, evaluator_other=404
        ),
        note="lower: the lead on the case and admins",
    ),
    Row(
        "evaluation-run-file",
        kwargs=_run,
        expect=expect(200, anonymous=API_ANONYMOUS, liaison_a=404, liaison_b=404, evaluator_other=404),
        note="download the log",
    ),
]


def _text_file():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("transcript.txt", b"user: hello\nmodel: hi\n", content_type="text/plain")


def build(w):
    from datetime import timedelta

    from django.utils import timezone

    from core.files import EVIDENCE_KINDS, validate_upload
    from findings.evaluation_models import RUBRIC_SEVERITIES
    from findings.models import EvidenceSide, FindingComment, FindingEvidence, FindingStatus, ReportKind
    from findings.services.rubrics import severity_rubric_revise
    from findings.tests.factories import FindingFactory, recommendation_in, released_finding, report_job_done
    from findings.tests.inspect_logs import stored_run

    w.f_draft = FindingFactory(assessment=w.case, author=w.evaluator, title="Draft finding")
    w.f_in_review = FindingFactory(
        assessment=w.case, author=w.evaluator, title="Finding in review", status=FindingStatus.IN_REVIEW
    )
    w.f_released = released_finding(assessment=w.case, author=w.evaluator, released_by=w.lead, title="Released")
    w.f_responded = released_finding(
        assessment=w.case,
        author=w.evaluator,
        released_by=w.lead,
        title="Answered",
        status=FindingStatus.COMPANY_RESPONDED,
        company_response="Fixed in 2.1.",
    )

    w.f_not_answered = released_finding(
        assessment=w.case,
        author=w.evaluator,
        released_by=w.lead,
        title="Not answered",
        disposition="not_answered",
        response_due_at=timezone.now() - timedelta(days=1),
        not_answered_at=timezone.now(),
    )

    w.rec_proposed = recommendation_in(w.f_draft)
    w.rec_issued = recommendation_in(w.f_released, "issued")
    w.rec_acknowledged = recommendation_in(w.f_released, "acknowledged")
    w.rec_accepted = recommendation_in(w.f_released, "accepted")
    w.rec_implemented = recommendation_in(w.f_released, "implemented")

    def evidence(finding):
        upload = _text_file()
        row = FindingEvidence(finding=finding, side=EvidenceSide.CENTRE)
        row.fill_from(upload, validate_upload(upload, allowed=EVIDENCE_KINDS), user=w.evaluator)
        row.save()
        return row

    w.evidence_draft = evidence(w.f_draft)
    w.evidence_released = evidence(w.f_released)
    w.comment_shared = FindingComment.objects.create(
        finding=w.f_released, author=w.lead, body="Please confirm receipt.", internal=False
    )
    w.run = stored_run(assessment=w.case, actor=w.evaluator)
    w.f_cited = released_finding(
        assessment=w.case,
        author=w.evaluator,
        released_by=w.lead,
        title="Cites a run",
        evaluation_run=w.run,
        cited_samples=["hazard-synthesis-01"],
    )
    w.rubric = severity_rubric_revise(
        actor=w.admin_user, risk_domain="cyber", texts={s: f"Matrix {s}." for s in RUBRIC_SEVERITIES}
    )
    w.job_full = report_job_done(w.case, ReportKind.FULL, requested_by=w.lead)
    w.job_released = report_job_done(w.case, ReportKind.RELEASED, requested_by=w.lead)


# The Django admin (see tests/authz.py): every model's change page and every action.
ADMIN_ROWS = [
    admin_change_row("findings.finding", lambda w: w.f_draft),
    admin_action_row("findings.finding", "withdraw_selected", lambda w: [w.f_draft], {"note": "Matrix."}),
    admin_action_row("findings.finding", "escalate_selected", lambda w: [w.f_not_answered], {"note": "Matrix."}),
    admin_change_row("findings.findingevidence", lambda w: w.evidence_draft),
    admin_action_row(
        "findings.finding", "set_marking_selected", lambda w: [w.f_draft], {"marking": "PUBLIC", "note": "Matrix."}
    ),
    admin_action_row(
        "findings.findingevidence", "set_marking_selected", lambda w: [w.evidence_draft], {"marking": "CUI"}
    ),
    admin_change_row("findings.findingcomment", lambda w: w.comment_shared),
    admin_action_row(
        "findings.findingcomment", "set_marking_selected", lambda w: [w.comment_shared], {"marking": "CUI"}
    ),
    admin_change_row("findings.recommendation", lambda w: w.rec_implemented),
    admin_action_row("findings.recommendation", "verify_selected", lambda w: [w.rec_implemented], {"note": "Checked."}),
    admin_action_row(
        "findings.recommendation", "not_verify_selected", lambda w: [w.rec_implemented], {"note": "Still bypassed."}
    ),
    admin_change_row("findings.evaluationrun", lambda w: w.run),
    admin_action_row("findings.evaluationrun", "set_marking_selected", lambda w: [w.run], {"marking": "CUI"}),
    admin_change_row("findings.severityrubric", lambda w: w.rubric),
]
