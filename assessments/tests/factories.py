import datetime

import factory
from django.utils import timezone

from agreements.tests.factories import AgreementFactory
from assessments.models import AccessTicket, Assessment, AssessmentStatus, ModelSubmission
from core.choices import AccessKind
from core.references import save_with_reference


class ModelSubmissionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ModelSubmission

    agreement = factory.SubFactory(AgreementFactory)
    organisation = factory.SelfAttribute("agreement.organisation")
    model_name = factory.Sequence(lambda n: f"Model-{n}")
    model_version = "1.0"
    modalities = ["text", "code"]
    intended_release_date = factory.LazyFunction(lambda: datetime.date.today() + datetime.timedelta(days=45))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return save_with_reference(model_class(*args, **kwargs), "SUB")


class AssessmentFactory(factory.django.DjangoModelFactory):
    """An assessment; pass ``team=[...]`` to put evaluators on it."""

    class Meta:
        model = Assessment
        skip_postgeneration_save = True

    submission = factory.SubFactory(ModelSubmissionFactory)
    lead = None  # required: pass the lead evaluator
    risk_domains = ["cyber", "biological"]
    window_start = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=2))
    window_end = factory.LazyAttribute(lambda o: o.window_start + datetime.timedelta(days=14))
    status = AssessmentStatus.IN_PROGRESS

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return save_with_reference(model_class(*args, **kwargs), "ASM")

    @factory.post_generation
    def team(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.team.set(extracted)


class AccessTicketFactory(factory.django.DjangoModelFactory):
    """A ticket in the ``requested`` state; use the services to move it on (tests check them)."""

    class Meta:
        model = AccessTicket

    assessment = None  # required
    kind = AccessKind.HOSTED_API
    justification = "Red-team the hosted model for cyber uplift."
    requested_by = factory.LazyAttribute(lambda o: o.assessment.team.first() or o.assessment.lead)
    wanted_from = factory.LazyAttribute(lambda o: o.assessment.window_start)
    wanted_to = factory.LazyAttribute(lambda o: o.assessment.window_end)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return save_with_reference(model_class(*args, **kwargs), "TKT")
