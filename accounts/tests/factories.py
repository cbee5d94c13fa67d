import factory

from accounts.models import Membership, Organisation, Role, User

TEST_PASSWORD = "correct horse battery staple"


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Company {n}")
    kind = Organisation.Kind.DEVELOPER
    email_domains = factory.LazyAttribute(lambda o: [o.name.lower().replace(" ", "-") + ".example"])


class UserFactory(factory.django.DjangoModelFactory):
    """A user and their membership: ``UserFactory(role=Role.EVALUATOR, organisation=centre)``.

    Without an organisation, centre roles join "Test Centre" and liaisons "Test Company".
    The password is ``TEST_PASSWORD``.
    """

    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    full_name = factory.Faker("name")

    @classmethod
    def _create(cls, model_class, *args, role=Role.EVALUATOR, organisation=None, **kwargs):
        user = model_class.objects.create_user(*args, password=TEST_PASSWORD, **kwargs)
        if organisation is None:
            is_liaison = role == Role.LIAISON
            organisation = OrganisationFactory(
                name="Test Company" if is_liaison else "Test Centre",
                kind=Organisation.Kind.DEVELOPER if is_liaison else Organisation.Kind.AGENCY,
            )
        Membership.objects.create(user=user, organisation=organisation, role=role)
        return user
