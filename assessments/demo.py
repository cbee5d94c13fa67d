"""Demo records: submissions, cases in several states, and access tickets in every state.

Idempotent: each submission is the key of its block, and a block whose
submission already exists is left alone. Live records go through the
services (so audit events and deadlines exist); the history of closed
cases, whose dates lie in the past, is written as it would have ended.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from agreements.models import Agreement, AgreementStatus
from assessments import services
from assessments.models import AccessTicket, Assessment, AssessmentStatus, ModelSubmission, TicketStatus
from core.choices import AccessKind
from core.references import save_with_reference


def _agreement(world, key: str, *, max_days: int) -> Agreement:
    """The company's active agreement (seeded by the agreements demo; made here if it is not there yet)."""
    company = world.companies[key]
    agreement = Agreement.objects.filter(organisation=company, status=AgreementStatus.ACTIVE).first()
    if agreement is None:
        agreement = save_with_reference(
            Agreement(
                organisation=company,
                title=f"Voluntary pre-release testing agreement with {company.name}",
                status=AgreementStatus.ACTIVE,
                max_window_days=max_days,
                risk_domains=["cyber", "biological", "chemical", "radiological_nuclear", "autonomy", "other"],
                access_modalities=[k.value for k in AccessKind],
                effective_date=date.today() - timedelta(days=120),
                expiry_date=date.today() + timedelta(days=245),
            ),
            "AGR",
        )
    return agreement


def _kind(agreement: Agreement, *preferred: str) -> str:
    offered = agreement.access_modalities or [k.value for k in AccessKind]
    for kind in preferred:
        if kind in offered:
            return kind
    return offered[0]


def _submit(world, liaison_key: str, agreement: Agreement, name: str, version: str, **fields) -> ModelSubmission | None:
    if ModelSubmission.objects.filter(
        organisation=agreement.organisation, model_name=name, model_version=version
    ).exists():
        return None
    release = fields.pop("intended_release_date", None)
    # A model already released was submitted while its date lay ahead: it goes through the
    # service without a date (a new submission cannot plan a release in the past), then gets its own.
    planned = release if release is None or release >= timezone.localdate() else None
    submission = services.submission_create(
        actor=world.users[liaison_key],
        agreement=agreement,
        model_name=name,
        model_version=version,
        intended_release_date=planned,
        **fields,
    )
    if release != planned:
        ModelSubmission.objects.filter(pk=submission.pk).update(intended_release_date=release)
        submission.refresh_from_db()
    return submission


def _open(world, lead_key: str, submission, team: list[str], domains: list[str], start, days: int, notes: str):
    return services.assessment_create(
        actor=world.users[lead_key],
        submission=submission,
        team=[world.users[k] for k in team],
        risk_domains=domains,
        window_start=start,
        window_end=start + timedelta(days=days),
        internal_notes=notes,
    )


def _request(world, who: str, case: Assessment, kind: str, why: str, start=None, end=None) -> AccessTicket:
    return services.ticket_request(
        actor=world.users[who],
        assessment=case,
        kind=kind,
        justification=why,
        wanted_from=start or case.window_start,
        wanted_to=end or case.window_end,
    )


def _history_ticket(case: Assessment, requester, decider, ender, *, kind: str, status: str, reason: str, days=(1, 12)):
    """A ticket of a closed case, written as it ended (its dates are in the past)."""
    start = case.window_start + timedelta(days=days[0])
    end = case.window_start + timedelta(days=days[1])
    ended = end if status == TicketStatus.EXPIRED else start + timedelta(days=3)
    return save_with_reference(
        AccessTicket(
            assessment=case,
            kind=kind,
            justification="Baseline capability sweep across the cyber and bio suites.",
            status=status,
            requested_by=requester,
            wanted_from=start,
            wanted_to=end,
            starts_at=start,
            ends_at=end,
            decided_by=decider,
            decided_at=start - timedelta(days=1),
            endpoint="https://eval-gateway.alpha-ai.example/v1",
            instructions="Rate limit 600 requests/minute. Logs retained 30 days by Alpha AI.",
            provisioned_by=ender if status == TicketStatus.REVOKED else None,
            provisioned_at=start,
            activated_at=start,
            ended_at=ended,
            ended_by=ender if status == TicketStatus.REVOKED else None,
            end_reason=reason,
        ),
        "TKT",
    )


def seed(world) -> None:
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    users = world.users
    alpha = _agreement(world, "alpha", max_days=30)
    beta = _agreement(world, "beta", max_days=14)

    # Alpha AI's flagship, mid-assessment: tickets in the live states.
    frontier = _submit(
        world,
        "liaison_alpha",
        alpha,
        "Alpha-Frontier",
        "2.0",
        modalities=["text", "code", "agentic"],
        intended_release_date=(now + timedelta(days=34)).date(),
        notes="General-purpose model with tool use. Safeguards-off checkpoint available on request.",
    )
    if frontier is not None:
        case = _open(
            world,
            "lead",
            frontier,
            ["evaluator", "evaluator2"],
            ["cyber", "biological", "autonomy"],
            now - timedelta(days=6),
            25,
            "Compare against 1.5 results; watch for evaluation awareness in agentic tasks.",
        )
        for step in (AssessmentStatus.ACCESS_PENDING, AssessmentStatus.IN_PROGRESS):
            case = services.assessment_advance(actor=users["lead"], assessment=case, to_status=step)
        # active: provisioned and already used
        active = _request(world, "evaluator", case, _kind(alpha, "hosted_api"), "Cyber range tasks via the API.")
        services.ticket_approve(actor=users["lead"], ticket=active)
        services.ticket_provision(
            actor=users["liaison_alpha"],
            ticket=active,
            endpoint="https://eval-gateway.alpha-ai.example/v1",
            credential="demo-alpha-key-7f3c9a",
            instructions="Send the key as 'Authorization: Bearer <key>'. 600 requests/minute.",
        )
        services.ticket_reveal(actor=users["evaluator"], ticket=active)
        # provisioned: access begins in two days
        later = _request(
            world,
            "evaluator2",
            case,
            _kind(alpha, "documentation", "hosted_api"),
            "System card and red-team reports from the developer.",
            start=now + timedelta(days=2),
            end=now + timedelta(days=15),
        )
        services.ticket_approve(actor=users["lead"], ticket=later)
        services.ticket_provision(
            actor=users["liaison_alpha"],
            ticket=later,
            endpoint="https://docs.alpha-ai.example/eval-pack",
            credential="demo-alpha-docs-token-22b1",
            instructions="Shared folder; the token expires with the ticket.",
        )
        # approved: waiting for the company to provision
        approved = _request(
            world, "evaluator", case, _kind(alpha, "fine_tuning", "hosted_api"), "Fine-tuning uplift study."
        )
        services.ticket_approve(
            actor=users["lead"], ticket=approved, ends_at=case.window_end - timedelta(days=5), note="Five days less."
        )
        # requested: waiting for the lead
        _request(world, "evaluator2", case, _kind(alpha, "safeguards_off", "hosted_api"), "Refusal-ablated baseline.")

    # Alpha AI's previous model: completed, with an expired and a revoked ticket in its history.
    older = _submit(
        world,
        "liaison_alpha",
        alpha,
        "Alpha-Frontier",
        "1.5",
        modalities=["text", "code"],
        intended_release_date=(now - timedelta(days=20)).date(),
        notes="Released after the assessment.",
    )
    if older is not None:
        case = _open(
            world,
            "lead",
            older,
            ["evaluator"],
            # Every domain of the findings later shared with the company (a finding lies within its case's).
            ["cyber", "biological", "chemical", "radiological_nuclear", "autonomy", "other"],
            now - timedelta(days=70),
            28,
            "Closed; findings shared with the company.",
        )
        for step in (AssessmentStatus.ACCESS_PENDING, AssessmentStatus.IN_PROGRESS, AssessmentStatus.REPORTING):
            case = services.assessment_advance(actor=users["lead"], assessment=case, to_status=step)
        _history_ticket(
            case,
            users["evaluator"],
            users["lead"],
            None,
            kind=_kind(alpha, "hosted_api"),
            status=TicketStatus.EXPIRED,
            reason="Access ended with the approved period.",
        )
        _history_ticket(
            case,
            users["evaluator"],
            users["lead"],
            users["liaison_alpha"],
            kind=_kind(alpha, "weights_download", "documentation"),
            status=TicketStatus.REVOKED,
            reason="Key leaked into a shared notebook; revoked and not reissued.",
            days=(2, 20),
        )
        services.assessment_close(
            actor=users["lead"],
            assessment=case,
            outcome="mitigations_recommended",
            rationale="Moderate cyber uplift on exploit development; recommended stronger refusal training "
            "and rate limits for agentic use, which the company adopted before release.",
            company_summary="Mitigations recommended: stronger refusal training for exploit development and rate "
            "limits for agentic use before broad release.",
        )
        # The company read the outcome and acknowledged it, with a comment.
        services.assessment_outcome_acknowledge(
            actor=users["liaison_alpha"],
            assessment=case,
            comment="Received. Both mitigations shipped with the public release.",
        )

    # Alpha AI's small model: withdrawn by the centre.
    mini = _submit(world, "liaison_alpha", alpha, "Alpha-Mini", "1.0", modalities=["text"], intended_release_date=None)
    if mini is not None:
        case = _open(world, "lead", mini, [], ["cyber"], now + timedelta(days=10), 10, "Low priority.")
        services.assessment_withdraw(
            actor=users["lead"], assessment=case, reason="Below the compute threshold: not a covered model."
        )

    # Beta AI (14-day cap): a scheduled case with a rejected and an approved request; a model not yet scheduled.
    reasoner = _submit(
        world,
        "liaison_beta",
        beta,
        "Beta-Reasoner",
        "1.0",
        modalities=["text", "code"],
        intended_release_date=(now + timedelta(days=40)).date(),
        notes="Long-context reasoning model.",
    )
    if reasoner is not None:
        domains = ["cyber", "biological", "chemical"]
        case = _open(world, "lead2", reasoner, ["evaluator2"], domains, now + timedelta(days=3), 14, "")
        rejected = _request(world, "evaluator2", case, _kind(beta, "weights_download", "hosted_api"), "Local probing.")
        services.ticket_reject(
            actor=users["lead2"], ticket=rejected, reason="The agreement's hosted access is enough for this scope."
        )
        ok = _request(world, "evaluator2", case, _kind(beta, "hosted_api"), "Bio protocol uplift tasks.")
        services.ticket_approve(actor=users["lead2"], ticket=ok)
        # revoked while live, by the centre
        pulled = _request(world, "evaluator2", case, _kind(beta, "documentation", "hosted_api"), "Model card.")
        services.ticket_approve(actor=users["lead2"], ticket=pulled)
        services.ticket_revoke(actor=users["lead2"], ticket=pulled, reason="Duplicate of the hosted-API ticket.")
    _submit(
        world,
        "liaison_beta",
        beta,
        "Beta-Vision",
        "0.8",
        modalities=["image", "text"],
        intended_release_date=(now + timedelta(days=90)).date(),
        notes="Not yet scheduled.",
    )
    # Beta AI's small model: offered, scheduled, then taken back by the company before work started.
    lite = _submit(
        world,
        "liaison_beta",
        beta,
        "Beta-Lite",
        "0.3",
        modalities=["text"],
        intended_release_date=(now + timedelta(days=60)).date(),
        notes="Distilled model for on-device use.",
    )
    if lite is not None:
        _open(world, "lead2", lite, [], ["cyber"], now + timedelta(days=20), 7, "")
        services.submission_withdraw(
            actor=users["liaison_beta"],
            submission=lite,
            reason="On-device launch cancelled; the model will not be released, so there is nothing to assess.",
        )
    world.log.append(
        f"Assessments: {ModelSubmission.objects.count()} submissions, {Assessment.objects.count()} cases, "
        f"{AccessTicket.objects.count()} access tickets."
    )
