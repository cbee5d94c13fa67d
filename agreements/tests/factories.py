import datetime

import factory

from accounts.tests.factories import OrganisationFactory
from agreements.models import Agreement, AgreementStatus
from reviewportal.references import save_with_reference


class AgreementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agreement

    organisation = factory.SubFactory(OrganisationFactory)
    title = factory.LazyAttribute(lambda o: f"Voluntary agreement with {o.organisation.name}")
    status = AgreementStatus.ACTIVE
    max_window_days = 30
    risk_domains = ["cyber", "biological", "chemical", "radiological_nuclear", "autonomy"]
    access_modalities = ["hosted_api", "documentation"]
    trade_secret_terms = "Model weights and evaluation prompts are treated as confidential business information."
    release_notice_days = 14
    effective_date = factory.LazyFunction(lambda: datetime.date.today() - datetime.timedelta(days=30))
    expiry_date = factory.LazyFunction(lambda: datetime.date.today() + datetime.timedelta(days=335))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return save_with_reference(model_class(*args, **kwargs), "AGR")
