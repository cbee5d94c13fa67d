"""Demo agreements with a lived-in negotiation record, built through the same services as the pages.

* Alpha AI — the agreement in force (active, 30-day window) after three versions, a meeting,
  resolved open points, a signed PDF and both signatures; plus an expired pilot from last year.
* Beta AI — the agreement in force (active, 14-day window), and an addendum awaiting signature.
* Gamma AI — still negotiating: proposals both ways, a meeting, one open point resolved, two open
  (one overdue), and a draft document.

Idempotent: an agreement whose title already exists for the company is left as it is.
"""

from __future__ import annotations

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from agreements import services
from agreements.deadlines import open_point_deadline_specs
from agreements.models import (
    Agreement,
    AgreementDocument,
    AgreementStatus,
    AgreementVersion,
    DocumentKind,
    EntryKind,
    Meeting,
    NegotiationEntry,
    OpenPoint,
    Signature,
)
from reminders.services import deadline_sync

ALPHA_TITLE = "Voluntary pre-release assessment agreement — Alpha AI"
ALPHA_PILOT_TITLE = "Pilot evaluation arrangement 2025 — Alpha AI"
BETA_TITLE = "Voluntary pre-release assessment agreement — Beta AI"
BETA_ADDENDUM_TITLE = "Addendum 1: agentic-capability evaluations — Beta AI"
GAMMA_TITLE = "Voluntary pre-release assessment agreement — Gamma AI"

TRADE_SECRETS = (
    "Model weights, system prompts and training-data descriptions are confidential business information. "
    "Evaluators access them only inside the company's secure enclave or through the hosted API; nothing is "
    "copied off company infrastructure. Evaluation results that quote model outputs are marked CBI and shared "
    "outside the centre only with the company's written consent."
)


def _ago(days: int, hour: int = 15) -> datetime.datetime:
    moment = timezone.now() - datetime.timedelta(days=days)
    return moment.replace(hour=hour, minute=0, second=0, microsecond=0)


def _date(days_from_today: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days_from_today)


def _terms(**overrides) -> dict:
    terms = {
        "max_window_days": 14,
        "risk_domains": ["cyber", "biological", "chemical"],
        "access_modalities": ["hosted_api", "documentation"],
        "trade_secret_terms": TRADE_SECRETS,
        "release_notice_days": 14,
        "risk_consequence": "consultation",
        "effective_date": None,
        "expiry_date": None,
    }
    return terms | overrides


def demo_pdf(title: str, lines: list[str]) -> bytes:
    """A small, valid one-page PDF with ``title`` and ``lines`` of text (Helvetica)."""

    def escape(text: str) -> str:
        return (
            text.encode("latin-1", "replace")
            .decode("latin-1")
            .replace("\\", "\\\\")
            .replace("(", "\\(")
            .replace(")", "\\)")
        )

    text_ops = ["BT", "/F1 16 Tf", "72 760 Td", f"({escape(title)}) Tj", "/F1 11 Tf", "0 -28 Td"]
    for line in lines:
        text_ops += [f"({escape(line)}) Tj", "0 -16 Td"]
    text_ops.append("ET")
    stream = "\n".join(text_ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _upload(actor, agreement: Agreement, name: str, kind: str, description: str, lines: list[str], when) -> None:
    content = demo_pdf(agreement.title, [agreement.reference, *lines])
    document = services.document_upload(
        actor=actor,
        agreement=agreement,
        uploaded=SimpleUploadedFile(name, content, content_type="application/pdf"),
        kind=kind,
        description=description,
    )
    AgreementDocument.objects.filter(pk=document.pk).update(uploaded_at=when)


def _entry(actor, agreement, kind, clause, text, when, responds_to=None) -> NegotiationEntry:
    entry = services.negotiation_entry_add(
        actor=actor, agreement=agreement, kind=kind, clause=clause, text=text, responds_to=responds_to
    )
    NegotiationEntry.objects.filter(pk=entry.pk).update(created_at=when)
    return entry


def _point(actor, agreement, title, owner, due, created, description="", resolved=None) -> OpenPoint:
    """An open point raised on ``created`` and due on ``due``.

    A point raised in the past was due on a day that has passed: it is raised through the service
    with today's date (a new point cannot be due in the past), then given its own date.
    """
    point = services.open_point_add(
        actor=actor,
        agreement=agreement,
        title=title,
        owner=owner,
        due_date=max(due, timezone.localdate()),
        description=description,
    )
    if point.due_date != due:
        OpenPoint.objects.filter(pk=point.pk).update(due_date=due)
        point.refresh_from_db()
        deadline_sync(owner=point, specs=open_point_deadline_specs(point))
    if resolved is not None:
        resolver, resolution, when = resolved
        services.open_point_resolve(actor=resolver, point=point, resolution=resolution)
        OpenPoint.objects.filter(pk=point.pk).update(resolved_at=when)
    OpenPoint.objects.filter(pk=point.pk).update(created_at=created)
    return point


def _meeting(actor, agreement, when, attendees: list[str], minutes: str) -> None:
    meeting = services.meeting_record(
        actor=actor, agreement=agreement, held_at=when, attendees="\n".join(attendees), minutes=minutes
    )
    Meeting.objects.filter(pk=meeting.pk).update(created_at=when)


def _version_at(agreement: Agreement, number: int, when) -> None:
    AgreementVersion.objects.filter(agreement=agreement, number=number).update(created_at=when)


def _negotiation(actor, company, title: str, terms: dict, created) -> Agreement:
    """A draft with its first version dated ``created``, sent straight into negotiation."""
    agreement = services.agreement_create(actor=actor, organisation=company, title=title, terms=terms)
    _version_at(agreement, 1, created)
    services.agreement_open_negotiation(actor=actor, agreement=agreement)
    return agreement


def _new_version(actor, agreement: Agreement, number: int, when, note: str, **terms) -> None:
    """Version ``number`` of the terms (``_terms`` with ``terms`` changed), dated ``when``."""
    services.agreement_update_terms(actor=actor, agreement=agreement, terms=_terms(**terms), note=note)
    _version_at(agreement, number, when)


def _sign_both(agreement, company_signer, company_capacity, centre_signer, centre_capacity, when) -> None:
    for actor, capacity, offset in ((company_signer, company_capacity, 0), (centre_signer, centre_capacity, 1)):
        signature = services.agreement_sign(
            actor=actor, agreement=agreement, signer_name=actor.full_name, capacity=capacity
        )
        Signature.objects.filter(pk=signature.pk).update(signed_at=when + datetime.timedelta(days=offset))


def _exists(company, title: str) -> bool:
    return Agreement.objects.filter(organisation=company, title=title).exists()


def _backdate(agreement: Agreement, created, status_changed=None, signature_due=None) -> None:
    fields = {"created_at": created}
    if status_changed is not None:
        fields["status_changed_at"] = status_changed
    if signature_due is not None:
        fields["signature_due"] = signature_due
    Agreement.objects.filter(pk=agreement.pk).update(**fields)


def seed(world) -> None:
    lead, lead2, admin = world.users["lead"], world.users["lead2"], world.users["admin"]
    alpha, beta, gamma = world.companies["alpha"], world.companies["beta"], world.companies["gamma"]
    liaison_alpha, liaison_beta, liaison_gamma = (
        world.users["liaison_alpha"],
        world.users["liaison_beta"],
        world.users["liaison_gamma"],
    )
    made = []
    if not _exists(alpha, ALPHA_PILOT_TITLE):
        made.append(_alpha_pilot(admin, lead, liaison_alpha, alpha))
    if not _exists(alpha, ALPHA_TITLE):
        made.append(_alpha(admin, lead, liaison_alpha, alpha))
    if not _exists(beta, BETA_TITLE):
        made.append(_beta(admin, lead2, liaison_beta, beta))
    if not _exists(beta, BETA_ADDENDUM_TITLE):
        made.append(_beta_addendum(lead2, liaison_beta, beta))
    if not _exists(gamma, GAMMA_TITLE):
        made.append(_gamma(admin, lead, liaison_gamma, gamma))
    for agreement in made:
        agreement.refresh_from_db()
        world.log.append(f"Agreement {agreement.reference} ({agreement.organisation.name}): {agreement.status}")


def _alpha_pilot(admin, lead, liaison, company) -> Agreement:
    agreement = _negotiation(
        admin,
        company,
        ALPHA_PILOT_TITLE,
        _terms(
            max_window_days=10,
            risk_domains=["cyber", "biological"],
            access_modalities=["hosted_api"],
            effective_date=_date(-420),
            expiry_date=_date(-60),
        ),
        _ago(450),
    )
    _entry(liaison, agreement, EntryKind.COMMENT, "general", "We accept the pilot terms as drafted.", _ago(440))
    services.agreement_submit_for_signature(actor=admin, agreement=agreement, signature_due=timezone.localdate())
    _sign_both(agreement, liaison, "Head of Policy", admin, "Programme Director", _ago(425))
    services.agreement_expire(actor=admin, agreement=agreement)
    _backdate(agreement, _ago(450), status_changed=_ago(60), signature_due=_date(-430))
    return agreement


def _alpha(admin, lead, liaison, company) -> Agreement:
    agreement = _negotiation(
        lead,
        company,
        ALPHA_TITLE,
        _terms(max_window_days=14, risk_domains=["cyber", "biological", "chemical"]),
        _ago(95),
    )
    p1 = _entry(
        lead,
        agreement,
        EntryKind.PROPOSAL,
        "max_window_days",
        "30 days per covered model — the most the framework allows. Frontier models with agentic tool use "
        "need the full window for autonomy evaluations.",
        _ago(92, 10),
    )
    _entry(
        liaison,
        agreement,
        EntryKind.COUNTER_PROPOSAL,
        "max_window_days",
        "21 days, extendable once by mutual agreement where agentic evaluations are in scope.",
        _ago(88, 16),
        responds_to=p1,
    )
    p2 = _entry(
        liaison,
        agreement,
        EntryKind.PROPOSAL,
        "risk_consequence",
        "Consultation only: the company decides on mitigations after a joint review of any finding.",
        _ago(85, 11),
    )
    _entry(
        lead,
        agreement,
        EntryKind.COUNTER_PROPOSAL,
        "risk_consequence",
        "Access restriction for critical and high findings in the biological, chemical and "
        "radiological/nuclear domains; consultation for everything else.",
        _ago(84, 14),
        responds_to=p2,
    )
    _entry(
        liaison,
        agreement,
        EntryKind.PROPOSAL,
        "risk_domains",
        "Add autonomy to the domains in scope, to match our own frontier safety framework.",
        _ago(80, 9),
    )
    _meeting(
        lead,
        agreement,
        _ago(75, 14),
        [
            "Lena Lead (the centre)",
            "Avery Admin (the centre)",
            "Alex Alpha (Alpha AI)",
            "Alpha AI deputy general counsel",
        ],
        "Window: Alpha agrees to 30 days provided weights access happens only in its secure enclave.\n"
        "Consequence: agreed access restriction for critical/high findings in CBRN domains.\n"
        "Actions: Alpha to describe the enclave set-up; the centre to name incident contacts.",
    )
    _point(
        lead,
        agreement,
        "Describe the secure enclave for weights access",
        liaison,
        _date(-60),
        _ago(75, 15),
        description="Network isolation, logging, who at Alpha can see evaluator activity.",
        resolved=(liaison, "Enclave description sent as annex B; logging limited to access times.", _ago(66, 12)),
    )
    _point(
        lead,
        agreement,
        "Name incident contacts on both sides",
        lead,
        _date(-62),
        _ago(75, 15),
        resolved=(lead, "Contacts exchanged and recorded in annex C.", _ago(64, 17)),
    )
    agreed = {
        "max_window_days": 30,
        "risk_domains": ["cyber", "biological", "chemical", "radiological_nuclear", "autonomy"],
        "access_modalities": ["hosted_api", "weights_download", "documentation"],
    }
    _new_version(
        lead,
        agreement,
        2,
        _ago(73),
        "As agreed at the negotiation meeting: 30-day window with enclave-only weights access; autonomy in scope.",
        **agreed,
    )
    _new_version(
        lead,
        agreement,
        3,
        _ago(62),
        "Agreed consequence of a found risk and 21 days' release notice.",
        **agreed,
        release_notice_days=21,
        risk_consequence="access_restriction",
        effective_date=_date(-45),
        expiry_date=_date(320),
    )
    _upload(
        lead,
        agreement,
        "alpha-agreement-draft-v3.pdf",
        DocumentKind.DRAFT,
        "Clean draft of version 3 for legal review.",
        ["Draft for legal review - version 3 of the terms.", "Maximum assessment window: 30 days."],
        _ago(61),
    )
    services.agreement_submit_for_signature(actor=lead, agreement=agreement, signature_due=timezone.localdate())
    _sign_both(agreement, liaison, "General Counsel, Alpha AI", lead, "Lead Evaluator for the centre", _ago(48))
    _upload(
        liaison,
        agreement,
        "alpha-agreement-signed.pdf",
        DocumentKind.SIGNED,
        "Countersigned copy.",
        [
            "Signed for Alpha AI: Alex Alpha, General Counsel.",
            "Signed for the centre: Lena Lead, Lead Evaluator.",
            "Maximum assessment window: 30 days. Release notice: 21 days.",
        ],
        _ago(47),
    )
    _backdate(agreement, _ago(95), status_changed=_ago(47), signature_due=_date(-45))
    return agreement


def _beta(admin, lead, liaison, company) -> Agreement:
    agreement = _negotiation(
        lead, company, BETA_TITLE, _terms(max_window_days=10, access_modalities=["hosted_api"]), _ago(70)
    )
    p1 = _entry(
        lead,
        agreement,
        EntryKind.PROPOSAL,
        "max_window_days",
        "21 days, so biological uplift studies can run with a human-subjects baseline.",
        _ago(68),
    )
    _entry(
        liaison,
        agreement,
        EntryKind.COUNTER_PROPOSAL,
        "max_window_days",
        "14 days: our release cadence cannot absorb more, but we add the fine-tuning API to compensate.",
        _ago(66),
        responds_to=p1,
    )
    _entry(
        lead, agreement, EntryKind.COMMENT, "max_window_days", "Accepted: 14 days with fine-tuning access.", _ago(65)
    )
    _point(
        lead,
        agreement,
        "Confirm fine-tuning quota for evaluators",
        liaison,
        _date(-58),
        _ago(65),
        resolved=(liaison, "Quota of 50 fine-tuning jobs per assessment confirmed.", _ago(60)),
    )
    _new_version(
        lead,
        agreement,
        2,
        _ago(58),
        "14-day window with fine-tuning access, as agreed in the negotiation log.",
        max_window_days=14,
        access_modalities=["hosted_api", "fine_tuning", "documentation"],
        effective_date=_date(-35),
        expiry_date=_date(330),
    )
    services.agreement_submit_for_signature(actor=lead, agreement=agreement, signature_due=timezone.localdate())
    _sign_both(agreement, liaison, "VP Trust & Safety, Beta AI", admin, "Programme Director", _ago(37))
    _upload(
        admin,
        agreement,
        "beta-agreement-signed.pdf",
        DocumentKind.SIGNED,
        "Signed agreement.",
        ["Signed by both sides.", "Maximum assessment window: 14 days."],
        _ago(36),
    )
    _backdate(agreement, _ago(70), status_changed=_ago(36), signature_due=_date(-38))
    return agreement


def _beta_addendum(lead, liaison, company) -> Agreement:
    agreement = _negotiation(
        lead,
        company,
        BETA_ADDENDUM_TITLE,
        _terms(
            max_window_days=14,
            risk_domains=["autonomy", "cyber"],
            access_modalities=["hosted_api", "safeguards_off"],
            effective_date=_date(14),
            expiry_date=_date(330),
        ),
        _ago(20),
    )
    _entry(
        liaison,
        agreement,
        EntryKind.COMMENT,
        "access_modalities",
        "The safeguards-off variant is offered for the autonomy track only.",
        _ago(15),
    )
    services.agreement_submit_for_signature(actor=lead, agreement=agreement, signature_due=_date(6))
    _upload(
        lead,
        agreement,
        "beta-addendum-1-for-signature.pdf",
        DocumentKind.DRAFT,
        "Final text for signature.",
        ["Addendum 1: agentic-capability evaluations.", "For signature by both sides."],
        _ago(5),
    )
    _backdate(agreement, _ago(20), status_changed=_ago(5))
    return agreement


def _gamma(admin, lead, liaison, company) -> Agreement:
    agreement = _negotiation(
        lead,
        company,
        GAMMA_TITLE,
        _terms(max_window_days=21, risk_domains=["cyber", "biological", "chemical", "radiological_nuclear"]),
        _ago(30),
    )
    p1 = _entry(
        liaison,
        agreement,
        EntryKind.PROPOSAL,
        "release_notice_days",
        "7 days' notice before broad release; our launches are announced at short notice.",
        _ago(27),
    )
    _entry(
        lead,
        agreement,
        EntryKind.COUNTER_PROPOSAL,
        "release_notice_days",
        "14 days, with a 7-day fast track when no critical or high finding is open.",
        _ago(25),
        responds_to=p1,
    )
    _entry(
        liaison,
        agreement,
        EntryKind.PROPOSAL,
        "trade_secret_terms",
        "Evaluation transcripts stay on Gamma infrastructure; the centre keeps summaries only.",
        _ago(20),
    )
    _meeting(
        lead,
        agreement,
        _ago(18, 16),
        ["Lena Lead (the centre)", "Gale Gamma (Gamma AI)", "Gamma AI head of security"],
        "Release notice: both sides to consider the fast-track wording.\n"
        "Transcripts: the centre needs verbatim excerpts for findings; Gamma to propose redaction rules.",
    )
    _point(
        lead,
        agreement,
        "Agree wording of the fast-track release notice",
        lead,
        _date(-10),
        _ago(18),
        resolved=(lead, "Wording agreed by email; goes into the next version.", _ago(12)),
    )
    _point(
        lead,
        agreement,
        "Propose redaction rules for evaluation transcripts",
        liaison,
        _date(5),
        _ago(18),
        description="Which parts of a transcript may be quoted verbatim in a finding.",
    )
    _point(
        liaison,
        agreement,
        "Confirm who at the centre may receive weights-access logs",
        lead,
        _date(-2),
        _ago(16),
    )
    _new_version(
        lead,
        agreement,
        2,
        _ago(11),
        "Fast-track wording agreed; release hold for critical findings proposed by the centre.",
        max_window_days=21,
        risk_domains=["cyber", "biological", "chemical", "radiological_nuclear"],
        access_modalities=["hosted_api", "documentation"],
        release_notice_days=14,
        risk_consequence="release_hold",
    )
    _upload(
        liaison,
        agreement,
        "gamma-redline-v2.pdf",
        DocumentKind.DRAFT,
        "Gamma AI's redline of version 2.",
        ["Redline of version 2 by Gamma AI.", "Open: transcript redaction rules."],
        _ago(9),
    )
    _backdate(agreement, _ago(30), status_changed=_ago(29))
    return agreement


def active_agreement_for(company) -> Agreement | None:
    """The agreement in force for ``company`` (used by other apps' demo data)."""
    return Agreement.objects.filter(organisation=company, status=AgreementStatus.ACTIVE).first()
