"""Who may reach each agreements page and API endpoint (see tests/authz.py).

Objects: ``agreement_a`` (company A, active, behind ``case``), ``neg_a`` (company A,
negotiating, no case: evaluators never see it), ``await_a`` (company A, awaiting
signature), ``point_a`` (open point on neg_a owned by liaison A), ``doc_a``
(a document on agreement_a).
"""

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

# Company A's negotiation, which evaluators have no case under: the centre's negotiators and A's liaison see it.
NEGOTIATION = expect(200, anonymous=LOGIN_REDIRECT, liaison_b=404, evaluator=404, evaluator_other=404)
# The same, for pages only centre negotiators may open.
NEGOTIATORS_ONLY = expect(
    200, anonymous=LOGIN_REDIRECT, liaison_a=403, liaison_b=404, evaluator=404, evaluator_other=404
)
API_NEGOTIATION = expect(200, anonymous=API_ANONYMOUS, liaison_b=404, evaluator=404, evaluator_other=404)
# An object of company A's case through the API: company B and the evaluator off the case get 404.
API_CASE_OBJECT = expect(200, anonymous=API_ANONYMOUS, liaison_b=404, evaluator_other=404)


def _pdf_upload(w):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from agreements.tests.factories import pdf_bytes

    return {
        "no_classified_information": True,
        "file": SimpleUploadedFile("redline.pdf", pdf_bytes(), content_type="application/pdf"),
        "kind": "draft",
    }


def build(w):
    import datetime

    from agreements.models import AgreementStatus
    from agreements.services import terms_snapshot
    from agreements.tests.factories import (
        AgreementDocumentFactory,
        AgreementFactory,
        AgreementVersionFactory,
        OpenPointFactory,
    )

    w.neg_a = AgreementFactory(organisation=w.company_a, status=AgreementStatus.NEGOTIATING, title="Renewal A")
    AgreementVersionFactory(agreement=w.neg_a, number=1, terms=terms_snapshot(w.neg_a))
    AgreementVersionFactory(agreement=w.neg_a, number=2, terms={**terms_snapshot(w.neg_a), "max_window_days": 21})
    w.await_a = AgreementFactory(
        organisation=w.company_a,
        status=AgreementStatus.AWAITING_SIGNATURE,
        title="Annex A",
        signature_due=datetime.date.today() + datetime.timedelta(days=10),
    )
    w.point_a = OpenPointFactory(agreement=w.neg_a, owner=w.liaison_a, title="Red-team data retention")
    w.doc_a = AgreementDocumentFactory(agreement=w.agreement_a, uploaded_by=w.lead)
    from agreements.services.release_notices import release_notice_record

    w.notice_a = release_notice_record(
        actor=w.admin_user,
        agreement=w.agreement_a,
        model_name="Alpha-Frontier",
        model_version="3.0",
        planned_release_date=datetime.date.today() + datetime.timedelta(days=10),
        notice_given_on=datetime.date.today(),
    )


def _neg(w):
    return {"reference": w.neg_a.reference}


def _days_ahead(days: int) -> str:
    """A date ``days`` from today: due dates must lie within the range the services accept."""
    import datetime

    return (datetime.date.today() + datetime.timedelta(days=days)).isoformat()


ROWS = [
    # --- Pages ---------------------------------------------------------------------------
    Row("agreements:list", expect=ANY_MEMBER),
    Row("agreements:export", expect=ANY_MEMBER, note="what the list shows, as CSV"),
    Row("agreements:list", query="status=active&overdue=on", expect=ANY_MEMBER, note="filtered"),
    Row("agreements:create", expect=expect(403, anonymous=LOGIN_REDIRECT, lead=200, admin_user=200)),
    Row(
        "agreements:create",
        method="post",
        data={"title": ""},
        expect=expect(403, anonymous=LOGIN_REDIRECT, lead=200, admin_user=200),
        note="invalid form re-renders for negotiators",
    ),
    Row("agreements:detail", kwargs=lambda w: {"reference": w.agreement_a.reference}, expect=CASE_OBJECT),
    Row("agreements:detail", kwargs=_neg, expect=NEGOTIATION, note="negotiation without a case"),
    Row("agreements:edit_terms", kwargs=_neg, expect=NEGOTIATORS_ONLY),
    Row("agreements:compare", kwargs=_neg, expect=NEGOTIATION),
    Row("agreements:compare", kwargs=_neg, query="from=1&to=2", expect=NEGOTIATION, note="two versions"),
    Row(
        "agreements:transition",
        kwargs=lambda w: {"reference": w.neg_a.reference, "transition": "withdraw"},
        expect=NEGOTIATORS_ONLY,
    ),
    Row(
        "agreements:transition",
        kwargs=lambda w: {"reference": w.neg_a.reference, "transition": "withdraw"},
        method="post",
        data={"reason": "The company paused its programme.", "confirmed": "yes"},
        expect=expect(302, anonymous=LOGIN_REDIRECT, liaison_a=403, liaison_b=404, evaluator=404, evaluator_other=404),
        note="withdraw",
    ),
    Row(
        "agreements:transition",
        kwargs=lambda w: {"reference": w.agreement_a.reference, "transition": "terminate"},
        expect=expect(403, anonymous=LOGIN_REDIRECT, liaison_b=404, evaluator_other=404, admin_user=200),
        note="terminate is for programme admins",
    ),
    Row(
        "agreements:transition",
        kwargs=lambda w: {"reference": w.agreement_a.reference, "transition": "no_such_thing"},
        expect=expect(404, anonymous=LOGIN_REDIRECT),
        note="unknown transition",
    ),
    Row("agreements:entry_add", kwargs=_neg, expect=NEGOTIATION),
    Row(
        "agreements:entry_add",
        kwargs=_neg,
        method="post",
        data={"kind": "comment", "clause": "general", "text": "We agree in principle."},
        expect=expect(302, anonymous=LOGIN_REDIRECT, liaison_b=404, evaluator=404, evaluator_other=404),
    ),
    Row("agreements:meeting_add", kwargs=_neg, expect=NEGOTIATORS_ONLY),
    Row("agreements:open_point_add", kwargs=_neg, expect=NEGOTIATION),
    Row(
        "agreements:open_point_resolve",
        kwargs=lambda w: {"reference": w.neg_a.reference, "point_id": w.point_a.public_id},
        expect=NEGOTIATION,
        note="owner liaison may resolve",
    ),
    Row(
        "agreements:open_point_edit",
        kwargs=lambda w: {"reference": w.neg_a.reference, "point_id": w.point_a.public_id},
        expect=NEGOTIATION,
        note="owner liaison may move their own point",
    ),
    Row(
        "agreements:open_point_edit",
        kwargs=lambda w: {"reference": w.neg_a.reference, "point_id": w.point_a.public_id},
        method="post",
        data=lambda w: {"owner": str(w.lead.public_id), "due_date": _days_ahead(45)},
        expect=expect(302, anonymous=LOGIN_REDIRECT, liaison_b=404, evaluator=404, evaluator_other=404),
    ),
    Row("agreements:document_upload", kwargs=_neg, expect=NEGOTIATION),
    Row(
        "agreements:document_download",
        kwargs=lambda w: {"reference": w.agreement_a.reference, "document_id": w.doc_a.public_id},
        expect=CASE_OBJECT,
    ),
    Row(
        "agreements:document_download",
        kwargs=lambda w: {"reference": w.agreement_b.reference, "document_id": w.doc_a.public_id},
        expect=expect(404, anonymous=LOGIN_REDIRECT),
        note="document through another agreement's address",
    ),
    Row(
        "agreements:document_marking",
        kwargs=lambda w: {"reference": w.agreement_a.reference, "document_id": w.doc_a.public_id},
        expect={**CASE_OBJECT, "evaluator": 403},
        note="the company may raise its own documents' marking; evaluators may not",
    ),
    Row(
        "agreements:document_marking",
        method="post",
        kwargs=lambda w: {"reference": w.agreement_a.reference, "document_id": w.doc_a.public_id},
        data={"marking": "PUBLIC", "reason": "Published with the agreement."},
        expect=expect(403, anonymous=LOGIN_REDIRECT, lead=302, admin_user=302, liaison_b=404, evaluator_other=404),
        note="lower: leads and admins only",
    ),
    Row(
        "agreements:document_marking",
        kwargs=lambda w: {"reference": w.agreement_b.reference, "document_id": w.doc_a.public_id},
        expect=expect(404, anonymous=LOGIN_REDIRECT),
        note="document through another agreement's address",
    ),
    Row("agreements:sign", kwargs=lambda w: {"reference": w.await_a.reference}, expect=NEGOTIATION),
    Row(
        "agreements:sign",
        kwargs=lambda w: {"reference": w.await_a.reference},
        method="post",
        data={"signer_name": "Signer", "capacity": "General Counsel", "confirm": "on"},
        expect=expect(302, anonymous=LOGIN_REDIRECT, liaison_b=404, evaluator=404, evaluator_other=404),
    ),
    Row("agreements:signature_due", kwargs=lambda w: {"reference": w.await_a.reference}, expect=NEGOTIATORS_ONLY),
    Row(
        "agreements:signature_due",
        kwargs=lambda w: {"reference": w.await_a.reference},
        method="post",
        data=lambda w: {"signature_due": _days_ahead(60)},
        expect=expect(302, anonymous=LOGIN_REDIRECT, liaison_a=403, liaison_b=404, evaluator=404, evaluator_other=404),
        note="move the signature due date",
    ),
    # Release notices and notice to end (voluntary both ways).
    Row("agreements:release_notice", kwargs=lambda w: {"reference": w.notice_a.reference}, expect=CASE_OBJECT),
    Row(
        "agreements:release_notice_move",
        kwargs=lambda w: {"reference": w.notice_a.reference},
        expect=expect(200, anonymous=LOGIN_REDIRECT, liaison_b=404, evaluator=403, evaluator_other=404),
        note="the company or the centre's negotiators",
    ),
    Row(
        "agreements:release_notice_move",
        kwargs=lambda w: {"reference": w.notice_a.reference},
        method="post",
        data=lambda w: {"planned_release_date": _days_ahead(20), "reason": "Launch slipped."},
        expect=expect(302, anonymous=LOGIN_REDIRECT, liaison_b=404, evaluator=403, evaluator_other=404),
    ),
    Row(
        "agreements:release_notice_create",
        kwargs=lambda w: {"reference": w.agreement_a.reference},
        expect=expect(403, anonymous=LOGIN_REDIRECT, liaison_b=404, evaluator_other=404, lead=200, admin_user=200),
        note="centre negotiators record notices",
    ),
    Row(
        "agreements:release_notice_create",
        kwargs=lambda w: {"reference": w.agreement_a.reference},
        method="post",
        data=lambda w: {
            "model_name": "Alpha-Mini",
            "planned_release_date": _days_ahead(40),
            "notice_given_on": _days_ahead(0),
        },
        expect=expect(403, anonymous=LOGIN_REDIRECT, liaison_b=404, evaluator_other=404, lead=302, admin_user=302),
    ),
    Row(
        "agreements:give_notice",
        kwargs=lambda w: {"reference": w.agreement_a.reference},
        expect=expect(200, anonymous=LOGIN_REDIRECT, liaison_b=404, evaluator=403, evaluator_other=404),
        note="either side gives notice to end",
    ),
    Row(
        "agreements:give_notice",
        kwargs=lambda w: {"reference": w.agreement_a.reference},
        method="post",
        data={"reason": "The programme is paused."},
        expect=expect(302, anonymous=LOGIN_REDIRECT, liaison_b=404, evaluator=403, evaluator_other=404),
    ),
    # --- API -----------------------------------------------------------------------------
    Row("agreement-list", expect=expect(200, anonymous=API_ANONYMOUS)),
    Row(
        "agreement-give-notice",
        kwargs=lambda w: {"reference": w.agreement_a.reference},
        method="post",
        data={"reason": "The programme is paused."},
        expect=expect(200, anonymous=API_ANONYMOUS, liaison_b=404, evaluator=403, evaluator_other=404),
    ),
    Row("release-notice-list", expect=expect(200, anonymous=API_ANONYMOUS)),
    Row("release-notice-detail", kwargs=lambda w: {"reference": w.notice_a.reference}, expect=API_CASE_OBJECT),
    Row(
        "release-notice-list",
        method="post",
        data=lambda w: {
            "agreement": w.agreement_a.reference,
            "model_name": "Alpha-Mini",
            "planned_release_date": _days_ahead(40),
            "notice_given_on": _days_ahead(0),
        },
        expect=expect(403, anonymous=API_ANONYMOUS, lead=201, admin_user=201),
        note="centre negotiators record notices",
    ),
    Row(
        "release-notice-move-release-date",
        kwargs=lambda w: {"reference": w.notice_a.reference},
        method="post",
        data=lambda w: {"planned_release_date": _days_ahead(20), "reason": "Launch slipped."},
        expect=expect(200, anonymous=API_ANONYMOUS, liaison_b=404, evaluator=403, evaluator_other=404),
    ),
    Row(
        "agreement-list",
        method="post",
        data={"title": ""},
        expect=expect(403, anonymous=API_ANONYMOUS, lead=400, admin_user=400),
        note="create: negotiators get field errors",
    ),
    Row(
        "agreement-detail",
        kwargs=lambda w: {"reference": w.agreement_b.reference},
        expect=expect(200, anonymous=API_ANONYMOUS, liaison_a=404, evaluator=404),
    ),
    # PATCH (edit terms) is checked by role in agreements/tests/test_api.py: the matrix client sends form data.
    Row("agreement-versions", kwargs=_neg, expect=API_NEGOTIATION),
    Row("agreement-compare", kwargs=_neg, query="from=1&to=2", expect=API_NEGOTIATION),
    Row("agreement-entries", kwargs=_neg, expect=API_NEGOTIATION),
    Row(
        "agreement-entries",
        kwargs=_neg,
        method="post",
        data={"kind": "proposal", "clause": "release_notice_days", "text": "21 days"},
        expect=expect(201, anonymous=API_ANONYMOUS, liaison_b=404, evaluator=404, evaluator_other=404),
        note="add a proposal",
    ),
    Row("agreement-open-points", kwargs=_neg, expect=API_NEGOTIATION),
    Row(
        "agreement-open-points",
        kwargs=_neg,
        method="post",
        data=lambda w: {"title": "Logging", "owner": str(w.lead.public_id), "due_date": _days_ahead(30)},
        expect=expect(201, anonymous=API_ANONYMOUS, liaison_b=404, evaluator=404, evaluator_other=404),
        note="raise an open point",
    ),
    Row(
        "agreement-resolve-open-point",
        kwargs=lambda w: {"reference": w.neg_a.reference, "point_id": str(w.point_a.public_id)},
        method="post",
        data={"resolution": "Settled: 90 days."},
        expect=API_NEGOTIATION,
    ),
    Row(
        "agreement-transition",
        kwargs=_neg,
        method="post",
        data={"transition": "withdraw", "reason": "Paused."},
        expect=expect(
            403, anonymous=API_ANONYMOUS, liaison_b=404, evaluator=404, evaluator_other=404, lead=200, admin_user=200
        ),
    ),
    Row("agreement-meetings", kwargs=_neg, expect=API_NEGOTIATION),
    Row(
        "agreement-meetings",
        kwargs=_neg,
        method="post",
        data={"held_at": "2025-11-03T10:00:00Z", "attendees": ["Lena Lead (centre)"], "minutes": "Window agreed."},
        expect=expect(
            403, anonymous=API_ANONYMOUS, liaison_b=404, evaluator=404, evaluator_other=404, lead=201, admin_user=201
        ),
        note="record a meeting",
    ),
    Row("agreement-documents", kwargs=_neg, expect=API_NEGOTIATION),
    Row(
        "agreement-documents",
        kwargs=_neg,
        method="post",
        data=_pdf_upload,
        expect=expect(201, anonymous=API_ANONYMOUS, liaison_b=404, evaluator=404, evaluator_other=404),
        note="multipart upload by either side",
    ),
    Row(
        "agreement-document",
        kwargs=lambda w: {"reference": w.agreement_a.reference, "document_id": str(w.doc_a.public_id)},
        expect=API_CASE_OBJECT,
    ),
    Row(
        "agreement-document",
        kwargs=lambda w: {"reference": w.agreement_b.reference, "document_id": str(w.doc_a.public_id)},
        expect=expect(404, anonymous=API_ANONYMOUS),
        note="document through another agreement's address",
    ),
    Row(
        "agreement-document-marking",
        kwargs=lambda w: {"reference": w.agreement_a.reference, "document_id": str(w.doc_a.public_id)},
        method="post",
        data={"marking": "CUI"},
        expect=expect(200, anonymous=API_ANONYMOUS, evaluator=403, liaison_b=404, evaluator_other=404),
        note="raise",
    ),
    Row(
        "agreement-document-marking",
        kwargs=lambda w: {"reference": w.agreement_a.reference, "document_id": str(w.doc_a.public_id)},
        method="post",
        data={"marking": "PUBLIC", "reason": "Published with the agreement."},
        expect=expect(403, anonymous=API_ANONYMOUS, lead=200, admin_user=200, liaison_b=404, evaluator_other=404),
        note="lower",
    ),
    Row(
        "agreement-signature-due",
        kwargs=lambda w: {"reference": w.await_a.reference},
        method="post",
        data=lambda w: {"signature_due": _days_ahead(60)},
        expect=expect(
            403, anonymous=API_ANONYMOUS, liaison_b=404, evaluator=404, evaluator_other=404, lead=200, admin_user=200
        ),
    ),
    Row(
        "agreement-sign",
        kwargs=lambda w: {"reference": w.await_a.reference},
        method="post",
        data={"signer_name": "Signer", "capacity": "General Counsel"},
        expect=API_NEGOTIATION,
    ),
]


def _signed_side_letter(w):
    """An agreement with the centre's signature (made on first use, for the admin rows)."""
    if not hasattr(w, "side_letter_signature"):
        from django.utils import timezone

        from agreements.models import AgreementStatus, Signature
        from agreements.tests.factories import AgreementFactory

        letter = AgreementFactory(organisation=w.company_a, status=AgreementStatus.AWAITING_SIGNATURE, title="Side")
        w.side_letter_signature = Signature.objects.create(
            agreement=letter,
            side="centre",
            signer=w.lead,
            signer_name="Lead",
            capacity="Director",
            signed_at=timezone.now(),
        )
    return w.side_letter_signature


def _entry(w):
    if not hasattr(w, "entry_a"):
        from agreements.tests.factories import NegotiationEntryFactory

        w.entry_a = NegotiationEntryFactory(agreement=w.neg_a, author=w.lead)
    return w.entry_a


# The Django admin (see tests/authz.py): every model's change page and every action.
ADMIN_ROWS = [
    admin_change_row("agreements.agreement", lambda w: w.agreement_a),
    admin_action_row("agreements.agreement", "open_negotiation_selected", lambda w: [w.neg_a]),
    admin_action_row("agreements.agreement", "withdraw_selected", lambda w: [w.neg_a], {"note": "Matrix."}),
    admin_action_row("agreements.agreement", "expire_selected", lambda w: [w.agreement_a]),
    admin_action_row("agreements.agreement", "terminate_selected", lambda w: [w.agreement_a], {"note": "Matrix."}),
    admin_action_row("agreements.agreement", "give_notice_selected", lambda w: [w.agreement_a], {"note": "Matrix."}),
    admin_change_row("agreements.releasenotice", lambda w: w.notice_a),
    admin_change_row("agreements.agreementversion", lambda w: w.neg_a.versions.first()),
    admin_change_row("agreements.negotiationentry", _entry),
    admin_change_row("agreements.openpoint", lambda w: w.point_a),
    admin_change_row("agreements.agreementdocument", lambda w: w.doc_a),
    admin_action_row(
        "agreements.agreementdocument", "set_marking_selected", lambda w: [w.doc_a], {"marking": "PUBLIC", "note": "M."}
    ),
    admin_change_row("agreements.signature", _signed_side_letter),
]
