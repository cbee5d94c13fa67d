"""The agreements of each demo company, one builder each, telling the story in ``agreements.demo``."""

from __future__ import annotations

from django.utils import timezone

from agreements import services
from agreements.demo.documents import upload_document
from agreements.demo.record import (
    add_entry,
    add_meeting,
    add_open_point,
    add_version,
    ago,
    backdate,
    in_days,
    open_negotiation,
    sign_both,
    terms_with,
)
from agreements.models import Agreement, AgreementKind, DocumentKind, EntryKind

ALPHA_TITLE = "Voluntary pre-release assessment agreement — Alpha AI"
ALPHA_PILOT_TITLE = "Pilot evaluation arrangement 2025 — Alpha AI"
BETA_TITLE = "Voluntary pre-release assessment agreement — Beta AI"
BETA_ADDENDUM_TITLE = "Addendum 1: agentic-capability evaluations — Beta AI"
GAMMA_TITLE = "Voluntary pre-release assessment agreement — Gamma AI"


def alpha_pilot(admin, lead, liaison, company) -> Agreement:
    agreement = open_negotiation(
        admin,
        company,
        ALPHA_PILOT_TITLE,
        terms_with(
            max_window_days=10,
            risk_domains=["cyber", "biological"],
            access_modalities=["hosted_api"],
            effective_date=in_days(-420),
            expiry_date=in_days(-60),
        ),
        ago(450),
    )
    add_entry(liaison, agreement, EntryKind.COMMENT, "general", "We accept the pilot terms as drafted.", ago(440))
    services.agreement_submit_for_signature(actor=admin, agreement=agreement, signature_due=timezone.localdate())
    sign_both(agreement, liaison, "Head of Policy", admin, "Programme Director", ago(425))
    services.agreement_expire(actor=admin, agreement=agreement)
    backdate(agreement, ago(450), status_changed=ago(60), signature_due=in_days(-430))
    return agreement


def alpha(admin, lead, liaison, company) -> Agreement:
    agreement = open_negotiation(
        lead,
        company,
        ALPHA_TITLE,
        terms_with(max_window_days=14, risk_domains=["cyber", "biological", "chemical"]),
        ago(95),
    )
    p1 = add_entry(
        lead,
        agreement,
        EntryKind.PROPOSAL,
        "max_window_days",
        "30 days per covered model — the most the framework allows. Frontier models with agentic tool use "
        "need the full window for autonomy evaluations.",
        ago(92, 10),
    )
    add_entry(
        liaison,
        agreement,
        EntryKind.COUNTER_PROPOSAL,
        "max_window_days",
        "21 days, extendable once by mutual agreement where agentic evaluations are in scope.",
        ago(88, 16),
        responds_to=p1,
    )
    p2 = add_entry(
        liaison,
        agreement,
        EntryKind.PROPOSAL,
        "risk_consequence",
        "Consultation only: the company decides on mitigations after a joint review of any finding.",
        ago(85, 11),
    )
    add_entry(
        lead,
        agreement,
        EntryKind.COUNTER_PROPOSAL,
        "risk_consequence",
        "Access restriction for critical and high findings in the biological, chemical and "
        "radiological/nuclear domains; consultation for everything else.",
        ago(84, 14),
        responds_to=p2,
    )
    add_entry(
        liaison,
        agreement,
        EntryKind.PROPOSAL,
        "risk_domains",
        "Add autonomy to the domains in scope, to match our own frontier safety framework.",
        ago(80, 9),
    )
    add_meeting(
        lead,
        agreement,
        ago(75, 14),
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
    add_open_point(
        lead,
        agreement,
        "Describe the secure enclave for weights access",
        liaison,
        in_days(-60),
        ago(75, 15),
        description="Network isolation, logging, who at Alpha can see evaluator activity.",
        resolved=(liaison, "Enclave description sent as annex B; logging limited to access times.", ago(66, 12)),
    )
    add_open_point(
        lead,
        agreement,
        "Name incident contacts on both sides",
        lead,
        in_days(-62),
        ago(75, 15),
        resolved=(lead, "Contacts exchanged and recorded in annex C.", ago(64, 17)),
    )
    agreed = {
        "max_window_days": 30,
        "risk_domains": ["cyber", "biological", "chemical", "radiological_nuclear", "autonomy", "other"],
        "access_modalities": ["hosted_api", "weights_download", "documentation"],
    }
    add_version(
        lead,
        agreement,
        2,
        ago(73),
        "As agreed at the negotiation meeting: 30-day window with enclave-only weights access; autonomy in scope.",
        **agreed,
    )
    add_version(
        lead,
        agreement,
        3,
        ago(62),
        "Agreed consequence of a found risk and 21 days' release notice.",
        **agreed,
        release_notice_days=21,
        risk_consequence="access_restriction",
        effective_date=in_days(-45),
        expiry_date=in_days(320),
    )
    upload_document(
        lead,
        agreement,
        "alpha-agreement-draft-v3.pdf",
        DocumentKind.DRAFT,
        "Clean draft of version 3 for legal review.",
        ["Draft for legal review - version 3 of the terms.", "Maximum assessment window: 30 days."],
        ago(61),
    )
    services.agreement_submit_for_signature(actor=lead, agreement=agreement, signature_due=timezone.localdate())
    sign_both(agreement, liaison, "General Counsel, Alpha AI", lead, "Lead Evaluator for the centre", ago(48))
    upload_document(
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
        ago(47),
    )
    backdate(agreement, ago(95), status_changed=ago(47), signature_due=in_days(-45))
    return agreement


def beta(admin, lead, liaison, company) -> Agreement:
    # A framework: Beta's future general-purpose releases come under it, each with 14 days' notice.
    agreement = open_negotiation(
        lead,
        company,
        BETA_TITLE,
        terms_with(
            max_window_days=10,
            access_modalities=["hosted_api"],
            covered_releases="Every general-purpose Beta release trained above the covered-compute threshold, "
            "including major point releases.",
            covered_model_family="Beta-Reasoner, Beta-Vision",
        ),
        ago(70),
        kind=AgreementKind.FRAMEWORK,
    )
    p1 = add_entry(
        lead,
        agreement,
        EntryKind.PROPOSAL,
        "max_window_days",
        "21 days, so biological uplift studies can run with a human-subjects baseline.",
        ago(68),
    )
    add_entry(
        liaison,
        agreement,
        EntryKind.COUNTER_PROPOSAL,
        "max_window_days",
        "14 days: our release cadence cannot absorb more, but we add the fine-tuning API to compensate.",
        ago(66),
        responds_to=p1,
    )
    add_entry(
        lead, agreement, EntryKind.COMMENT, "max_window_days", "Accepted: 14 days with fine-tuning access.", ago(65)
    )
    add_open_point(
        lead,
        agreement,
        "Confirm fine-tuning quota for evaluators",
        liaison,
        in_days(-58),
        ago(65),
        resolved=(liaison, "Quota of 50 fine-tuning jobs per assessment confirmed.", ago(60)),
    )
    add_version(
        lead,
        agreement,
        2,
        ago(58),
        "14-day window with fine-tuning access, as agreed in the negotiation log.",
        max_window_days=14,
        access_modalities=["hosted_api", "fine_tuning", "documentation"],
        effective_date=in_days(-35),
        expiry_date=in_days(330),
    )
    services.agreement_submit_for_signature(actor=lead, agreement=agreement, signature_due=timezone.localdate())
    sign_both(agreement, liaison, "VP Trust & Safety, Beta AI", admin, "Programme Director", ago(37))
    upload_document(
        admin,
        agreement,
        "beta-agreement-signed.pdf",
        DocumentKind.SIGNED,
        "Signed agreement.",
        ["Signed by both sides.", "Maximum assessment window: 14 days."],
        ago(36),
    )
    backdate(agreement, ago(70), status_changed=ago(36), signature_due=in_days(-38))
    return agreement


def beta_addendum(lead, liaison, company, framework: Agreement) -> Agreement:
    # A per-model addendum to the framework: agentic evaluations, with the autonomy domain and the
    # safeguards-off variant for the models submitted under it; the framework's other terms stand.
    agreement = open_negotiation(
        lead,
        company,
        BETA_ADDENDUM_TITLE,
        terms_with(
            max_window_days=14,
            risk_domains=["autonomy", "cyber"],
            access_modalities=["hosted_api", "safeguards_off"],
            effective_date=in_days(14),
            expiry_date=in_days(330),
        ),
        ago(20),
        kind=AgreementKind.ADDENDUM,
        parent=framework,
        amended_clauses=["risk_domains", "access_modalities"],
    )
    add_entry(
        liaison,
        agreement,
        EntryKind.COMMENT,
        "access_modalities",
        "The safeguards-off variant is offered for the autonomy track only.",
        ago(15),
    )
    services.agreement_submit_for_signature(actor=lead, agreement=agreement, signature_due=in_days(6))
    upload_document(
        lead,
        agreement,
        "beta-addendum-1-for-signature.pdf",
        DocumentKind.DRAFT,
        "Final text for signature.",
        ["Addendum 1: agentic-capability evaluations.", "For signature by both sides."],
        ago(5),
    )
    backdate(agreement, ago(20), status_changed=ago(5))
    return agreement


def gamma(admin, lead, liaison, company) -> Agreement:
    agreement = open_negotiation(
        lead,
        company,
        GAMMA_TITLE,
        terms_with(max_window_days=21, risk_domains=["cyber", "biological", "chemical", "radiological_nuclear"]),
        ago(30),
    )
    p1 = add_entry(
        liaison,
        agreement,
        EntryKind.PROPOSAL,
        "release_notice_days",
        "7 days' notice before broad release; our launches are announced at short notice.",
        ago(27),
    )
    add_entry(
        lead,
        agreement,
        EntryKind.COUNTER_PROPOSAL,
        "release_notice_days",
        "14 days, with a 7-day fast track when no critical or high finding is open.",
        ago(25),
        responds_to=p1,
    )
    add_entry(
        liaison,
        agreement,
        EntryKind.PROPOSAL,
        "trade_secret_terms",
        "Evaluation transcripts stay on Gamma infrastructure; the centre keeps summaries only.",
        ago(20),
    )
    add_meeting(
        lead,
        agreement,
        ago(18, 16),
        ["Lena Lead (the centre)", "Gale Gamma (Gamma AI)", "Gamma AI head of security"],
        "Release notice: both sides to consider the fast-track wording.\n"
        "Transcripts: the centre needs verbatim excerpts for findings; Gamma to propose redaction rules.",
    )
    add_open_point(
        lead,
        agreement,
        "Agree wording of the fast-track release notice",
        lead,
        in_days(-10),
        ago(18),
        resolved=(lead, "Wording agreed by email; goes into the next version.", ago(12)),
    )
    add_open_point(
        lead,
        agreement,
        "Propose redaction rules for evaluation transcripts",
        liaison,
        in_days(5),
        ago(18),
        description="Which parts of a transcript may be quoted verbatim in a finding.",
    )
    add_open_point(
        liaison,
        agreement,
        "Confirm who at the centre may receive weights-access logs",
        lead,
        in_days(-2),
        ago(16),
    )
    add_version(
        lead,
        agreement,
        2,
        ago(11),
        "Fast-track wording agreed; release hold for critical findings proposed by the centre.",
        max_window_days=21,
        risk_domains=["cyber", "biological", "chemical", "radiological_nuclear"],
        access_modalities=["hosted_api", "documentation"],
        release_notice_days=14,
        risk_consequence="release_hold",
    )
    upload_document(
        liaison,
        agreement,
        "gamma-redline-v2.pdf",
        DocumentKind.DRAFT,
        "Gamma AI's redline of version 2.",
        ["Redline of version 2 by Gamma AI.", "Open: transcript redaction rules."],
        ago(9),
    )
    backdate(agreement, ago(30), status_changed=ago(29))
    return agreement
