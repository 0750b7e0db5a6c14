"""Factories with traits: ``AuthorizationFactory(expired=True)``."""

import datetime

import factory
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from authorizations.models import Authorization, Service, ServiceProvider
from organizations.models import Membership, Organization, Representative
from reconi.levels import AssuranceLevel
from users.models import Means, User

PASSWORD = "reconi-test-password"


def today() -> datetime.date:
    return timezone.localdate()


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"person{n}@example-org.nl")
    date_of_birth = datetime.date(1985, 5, 17)
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MeansFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Means

    owner = factory.SubFactory(UserFactory)
    level = AssuranceLevel.EH3
    valid_from = factory.LazyFunction(lambda: today() - relativedelta(years=1))
    valid_until = factory.LazyFunction(lambda: today() + relativedelta(years=2))
    status = Means.Status.ACTIVE

    class Params:
        expired = factory.Trait(
            valid_from=factory.LazyFunction(lambda: today() - relativedelta(years=3)),
            valid_until=factory.LazyFunction(lambda: today() - datetime.timedelta(days=1)),
        )


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Testbedrijf {n} B.V.")
    kvk_number = factory.Sequence(lambda n: f"{30000000 + n:08d}")
    email_domain = factory.Sequence(lambda n: f"testbedrijf{n}.nl")


class RepresentativeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Representative

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"director{n}@example-org.nl")
    date_of_birth = datetime.date(1970, 1, 2)
    authority = Representative.Authority.SOLE
    extract_date = factory.LazyFunction(lambda: today() - datetime.timedelta(days=30))


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)


class ServiceProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceProvider
        django_get_or_create = ("oin",)

    oin = factory.Sequence(lambda n: f"{n:020d}")
    name = factory.Sequence(lambda n: f"Dienstverlener {n}")


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    provider = factory.SubFactory(ServiceProviderFactory)
    index = factory.Sequence(lambda n: n + 1)
    name = factory.Sequence(lambda n: f"Dienst {n}")
    minimum_level = AssuranceLevel.EH2


class AuthorizationFactory(factory.django.DjangoModelFactory):
    """A raw row, for reads and lists; writes in tests go through the services."""

    class Meta:
        model = Authorization

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    scope = Authorization.Scope.SERVICE
    service = factory.SubFactory(ServiceFactory)
    level = AssuranceLevel.EH2
    valid_from = factory.LazyFunction(lambda: today() - relativedelta(months=6))
    valid_until = factory.LazyFunction(lambda: today() + relativedelta(years=1))

    class Params:
        expired = factory.Trait(
            valid_from=factory.LazyFunction(lambda: today() - relativedelta(years=2)),
            valid_until=factory.LazyFunction(lambda: today() - datetime.timedelta(days=10)),
        )
        expiring = factory.Trait(valid_until=factory.LazyFunction(lambda: today() + datetime.timedelta(days=30)))
        revoked = factory.Trait(
            revoked_at=factory.LazyFunction(timezone.now),
            revoked_by=factory.SubFactory(UserFactory),
        )
        pending = factory.Trait(
            valid_from=factory.LazyFunction(lambda: today() + datetime.timedelta(days=5)),
            valid_until=factory.LazyFunction(lambda: today() + relativedelta(years=1)),
        )


def minimal_payload(kind: str, **fields):
    """The smallest payload a request of ``kind`` takes (``requests_app.payloads``), with ``fields`` replaced."""
    import dataclasses
    from decimal import Decimal

    from requests_app import payloads
    from requests_app.models import PAYLOAD_SCHEMAS, RequestKind

    smallest = {
        RequestKind.NEW_MEANS: {"people": ()},
        RequestKind.UPGRADE: {"means_id": 1, "from_level": AssuranceLevel.EH2, "to_level": AssuranceLevel.EH3},
        RequestKind.NEW_AUTHORIZATIONS: {"authorizations": ()},
        RequestKind.LINK_USER: {"from_organization_id": 1},
        RequestKind.APPOINT_MANAGER: {
            "manager": payloads.ManagerDetails(name="", email=""),
            "means_level": AssuranceLevel.EH3,
        },
        RequestKind.MEANS_RENEWAL: {
            "means_id": 1,
            "years": 1,
            "valid_until": today(),
            "new_valid_until": today() + relativedelta(years=1),
            "price": Decimal("0.00"),
        },
    }[kind]
    schema = PAYLOAD_SCHEMAS[kind]
    assert {f.name for f in dataclasses.fields(schema)} >= set(fields)
    return schema(**{**smallest, **fields})
