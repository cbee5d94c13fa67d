"""The demo world: the centre, three developer companies and one login per role.

``python manage.py seed_demo`` builds it (idempotently) and then asks each
app's ``demo.seed(world)`` to add its records, in dependency order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from accounts.models import Membership, Organisation, Role, User

CENTRE = ("Center for AI Standards and Innovation", ["caisi.example"])
COMPANIES = {
    "alpha": ("Alpha AI", ["alpha-ai.example"]),
    "beta": ("Beta AI", ["beta-ai.example"]),
    "gamma": ("Gamma AI", ["gamma-ai.example"]),
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
