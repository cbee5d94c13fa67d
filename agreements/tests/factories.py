import datetime
import hashlib

import factory
from django.core.files.base import ContentFile

from accounts.tests.factories import OrganisationFactory
from agreements.demo import demo_pdf
from agreements.models import (
    Agreement,
    AgreementDocument,
    AgreementStatus,
    AgreementVersion,
    EntryKind,
    NegotiationEntry,
    OpenPoint,
)
from agreements.services import terms_snapshot
from core.references import save_with_reference


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


class AgreementVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgreementVersion

    agreement = factory.SubFactory(AgreementFactory)
    number = factory.Sequence(lambda n: n + 1)
    terms = factory.LazyAttribute(lambda o: terms_snapshot(o.agreement))


class NegotiationEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NegotiationEntry

    agreement = factory.SubFactory(AgreementFactory, status=AgreementStatus.NEGOTIATING)
    kind = EntryKind.PROPOSAL
    clause = "max_window_days"
    text = "21 days"
    author_side = "centre"


class OpenPointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OpenPoint

    agreement = factory.SubFactory(AgreementFactory, status=AgreementStatus.NEGOTIATING)
    title = factory.Sequence(lambda n: f"Open point {n}")
    owner = None  # required: pass the person who owns it
    due_date = factory.LazyFunction(lambda: datetime.date.today() + datetime.timedelta(days=7))


def pdf_bytes(extra: bytes = b"") -> bytes:
    """A small, valid PDF (uploads must parse as one); ``extra`` is written on its page."""
    return demo_pdf("Test document", [extra.decode("latin-1")])


class AgreementDocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgreementDocument

    agreement = factory.SubFactory(AgreementFactory)
    file = factory.LazyFunction(lambda: ContentFile(pdf_bytes(), name="draft.pdf"))
    original_name = "draft.pdf"
    content_type = "application/pdf"
    size = factory.LazyAttribute(lambda o: o.file.size)
    sha256 = factory.LazyAttribute(lambda o: hashlib.sha256(pdf_bytes()).hexdigest())
