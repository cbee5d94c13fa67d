"""Demo agreements with a lived-in negotiation record, built through the same services as the pages.

* Alpha AI — the agreement in force (active, 30-day window) after three versions, a meeting,
  resolved open points, a signed PDF and both signatures; plus an expired pilot from last year.
* Beta AI — the agreement in force (active, 14-day window), and an addendum awaiting signature.
* Gamma AI — still negotiating: proposals both ways, a meeting, one open point resolved, two open
  (one overdue), and a draft document.

Idempotent: an agreement whose title already exists for the company is left as it is.
"""

from __future__ import annotations

from agreements.demo import companies
from agreements.demo.documents import demo_pdf
from agreements.models import Agreement, AgreementStatus

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
        made.append(companies.beta_addendum(lead2, liaison_beta, beta))
    if not _exists(gamma, companies.GAMMA_TITLE):
        made.append(companies.gamma(admin, lead, liaison_gamma, gamma))
    for agreement in made:
        agreement.refresh_from_db()
        world.log.append(f"Agreement {agreement.reference} ({agreement.organisation.name}): {agreement.status}")


def active_agreement_for(company) -> Agreement | None:
    """The agreement in force for ``company`` (used by other apps' demo data)."""
    return Agreement.objects.filter(organisation=company, status=AgreementStatus.ACTIVE).first()
