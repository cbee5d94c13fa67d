"""The demo world: the centre, four developer companies and one login per role.

``python manage.py seed_demo`` builds it (idempotently), records each company's
engagement with the programme (``seed_engagement``), and then asks each app's
``demo.seed(world)`` to add its records, in dependency order.

Engagement: Alpha AI signed (and may be named publicly), Beta AI signed, Gamma AI
negotiating, and Delta AI only in discussion, with no agreement at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import EngagementChange, Membership, Organisation, Role, User
from accounts.services import organisation_engagement_change
from accounts.states import EngagementStage

CENTRE = ("Center for AI Standards and Innovation", ["caisi.example"])
COMPANIES = {
    "alpha": ("Alpha AI", ["alpha-ai.example"]),
    "beta": ("Beta AI", ["beta-ai.example"]),
    "gamma": ("Gamma AI", ["gamma-ai.example"]),
    # In discussion only: no agreement, no liaison yet (its people have no portal accounts).
    "delta": ("Delta AI", ["delta-ai.example"]),
}

# key → the engagement changes that brought the company to where it is: (days ago, stage or None,
# disclosure or None, note). Recorded by the programme admin through the service, then dated.
ENGAGEMENT = {
    "alpha": [
        (130, EngagementStage.IN_DISCUSSION, None, "Introductory call with Alpha AI's policy team."),
        (95, EngagementStage.NEGOTIATING, None, "Draft agreement sent."),
        (30, EngagementStage.SIGNED, None, "Agreement signed by both sides."),
        (25, None, True, "Alpha AI agreed in writing that its participation may be announced."),
    ],
    "beta": [
        (100, EngagementStage.IN_DISCUSSION, None, "Met at the frontier-safety workshop."),
        (70, EngagementStage.NEGOTIATING, None, "Terms under negotiation."),
        (40, EngagementStage.SIGNED, None, "Agreement signed."),
    ],
    "gamma": [
        (60, EngagementStage.IN_DISCUSSION, None, "Gamma AI asked about the programme."),
        (35, EngagementStage.NEGOTIATING, None, "Negotiation opened on the centre's standard terms."),
    ],
    "delta": [
        (12, EngagementStage.IN_DISCUSSION, None, "First meeting held; Delta AI is considering a framework agreement."),
    ],
}

# key → (email, full name, organisation key, role). The order is the order printed.
DEMO_USERS = {
    "admin": ("admin@caisi.example", "Avery Admin", "centre", Role.PROGRAMME_ADMIN),
    "lead": ("lead@caisi.example", "Lena Lead", "centre", Role.LEAD_EVALUATOR),
    "lead2": ("lead2@caisi.example", "Leo Lead", "centre", Role.LEAD_EVALUATOR),
    "evaluator": ("evaluator@caisi.example", "Eva Evaluator", "centre", Role.EVALUATOR),
    "evaluator2": ("evaluator2@caisi.example", "Ezra Evaluator", "centre", Role.EVALUATOR),
    "liaison_alpha": ("liaison@alpha-ai.example", "Alex Alpha", "alpha", Role.LIAISON),
    "liaison_beta": ("liaison@beta-ai.example", "Blair Beta", "beta", Role.LIAISON),
    "liaison_gamma": ("liaison@gamma-ai.example", "Gale Gamma", "gamma", Role.LIAISON),
}


@dataclass
class DemoWorld:
    centre: Organisation
    companies: dict[str, Organisation]
    users: dict[str, User]
    password: str
    log: list[str] = field(default_factory=list)


@transaction.atomic
def seed_people(*, password: str) -> DemoWorld:
    centre, _ = Organisation.objects.get_or_create(
        name=CENTRE[0], defaults={"kind": Organisation.Kind.AGENCY, "email_domains": CENTRE[1]}
    )
    companies = {}
    for key, (name, domains) in COMPANIES.items():
        companies[key], _ = Organisation.objects.get_or_create(
            name=name, defaults={"kind": Organisation.Kind.DEVELOPER, "email_domains": domains}
        )
    orgs = {"centre": centre, **companies}
    users = {}
    for key, (email, full_name, org_key, role) in DEMO_USERS.items():
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email=email, password=password, full_name=full_name, is_staff=role == Role.PROGRAMME_ADMIN
            )
        Membership.objects.update_or_create(user=user, defaults={"organisation": orgs[org_key], "role": role})
        users[key] = user
    return DemoWorld(centre=centre, companies=companies, users=users, password=password)


@transaction.atomic
def seed_engagement(world: DemoWorld) -> None:
    """Each demo company's engagement, recorded through the service (a company with any history is left as it is)."""
    admin = world.users["admin"]
    now = timezone.now()
    for key, steps in ENGAGEMENT.items():
        company = world.companies[key]
        if EngagementChange.objects.filter(organisation=company).exists():
            continue
        for days_ago, stage, disclosure, note in steps:
            change = organisation_engagement_change(
                actor=admin, organisation=company, stage=stage, disclosure_permitted=disclosure, note=note
            )
            # Dated as it happened, so the history reads as lived.
            when = now - timedelta(days=days_ago)
            EngagementChange.objects.filter(pk=change.pk).update(changed_at=when)
            if stage is not None:
                Organisation.objects.filter(pk=company.pk).update(engagement_changed_at=when)
        company.refresh_from_db()
        world.log.append(f"Engagement of {company.name}: {company.get_engagement_stage_display()}")
