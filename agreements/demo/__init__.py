"""Demo agreements with a lived-in negotiation record, built through the same services as the pages.

* Alpha AI — the agreement in force (active, 30-day window) after three versions, a meeting,
  resolved open points, a signed PDF and both signatures; plus an expired pilot from last year.
* Beta AI — a framework agreement in force (active, 14-day window) covering its future releases, a
  per-model addendum to it awaiting signature, and a release notice given too late.
* Gamma AI — still negotiating: proposals both ways, a meeting, one open point resolved, two open
  (one overdue), and a draft document.

Idempotent: an agreement whose title already exists for the company is left as it is.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from agreements.demo import companies
from agreements.demo.documents import demo_pdf
from agreements.models import Agreement, AgreementKind, AgreementStatus, ReleaseNotice
from agreements.services.release_notices import release_notice_record

__all__ = ["active_agreement_for", "demo_pdf", "seed"]


def _exists(company, title: str) -> bool:
    return Agreement.objects.filter(organisation=company, title=title).exists()


def seed(world) -> None:
    lead, lead2, admin = world.users["lead"], world.users["lead2"], world.users["admin"]
    alpha, beta, gamma = world.companies["alpha"], world.companies["beta"], world.companies["gamma"]
    liaison_alpha, liaison_beta, liaison_gamma = (
        world.users["liaison_alpha"],
        world.users["liaison_beta"],
        world.users["liaison_gamma"],
    )
    made = []
    if not _exists(alpha, companies.ALPHA_PILOT_TITLE):
        made.append(companies.alpha_pilot(admin, lead, liaison_alpha, alpha))
    if not _exists(alpha, companies.ALPHA_TITLE):
        made.append(companies.alpha(admin, lead, liaison_alpha, alpha))
    if not _exists(beta, companies.BETA_TITLE):
        made.append(companies.beta(admin, lead2, liaison_beta, beta))
    if not _exists(beta, companies.BETA_ADDENDUM_TITLE):
        framework = Agreement.objects.get(organisation=beta, title=companies.BETA_TITLE)
        made.append(companies.beta_addendum(lead2, liaison_beta, beta, framework))
    if not _exists(gamma, companies.GAMMA_TITLE):
        made.append(companies.gamma(admin, lead, liaison_gamma, gamma))
    for agreement in made:
        agreement.refresh_from_db()
        world.log.append(f"Agreement {agreement.reference} ({agreement.organisation.name}): {agreement.status}")
    _release_notices(world)


# (company key, recording user, lead, model, version, days until the planned release, days since notice)
_NOTICES = (
    # Given in good time under Alpha's agreement.
    ("alpha", "admin", "lead", "Alpha-Frontier", "3.0", 75, 5),
    # Given eleven days before the release under Beta's framework, which asks for fourteen: late.
    ("beta", "admin", "lead2", "Beta-Reasoner", "2.0", 9, 2),
)


def _release_notices(world) -> None:
    """Covered releases the centre was told of before the companies submitted them."""
    today = timezone.localdate()
    for key, recorder, lead, model, version, ahead, since in _NOTICES:
        company = world.companies[key]
        agreement = active_agreement_for(company)
        if agreement is None or ReleaseNotice.objects.filter(organisation=company, model_name=model).exists():
            continue
        notice = release_notice_record(
            actor=world.users[recorder],
            agreement=agreement,
            model_name=model,
            model_version=version,
            planned_release_date=today + datetime.timedelta(days=ahead),
            notice_given_on=today - datetime.timedelta(days=since),
            lead=world.users[lead],
        )
        world.log.append(
            f"Release notice {notice.reference}: {model} {version}" + (" (late)" if notice.is_late else "")
        )


def active_agreement_for(company) -> Agreement | None:
    """The agreement in force for ``company`` (used by other apps' demo data)."""
    return (
        Agreement.objects.filter(organisation=company, status=AgreementStatus.ACTIVE)
        .exclude(kind__in=[AgreementKind.AMENDMENT, AgreementKind.ADDENDUM])
        .first()
    )
