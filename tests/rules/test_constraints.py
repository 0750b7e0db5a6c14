"""The database holds the invariants it can, whatever code writes the rows (STYLE.md):
each of these raw writes skips full_clean and the services, and is refused."""

import datetime
import uuid

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import AuditEvent
from authorizations.models import Authorization, Service, ServiceProvider
from organizations.models import Membership, Organization, Representative
from tests.factories import (
    AuthorizationFactory,
    MeansFactory,
    MembershipFactory,
    OrganizationFactory,
    RepresentativeFactory,
    ServiceFactory,
    ServiceProviderFactory,
    UserFactory,
)
from tests.rules.conftest import nothing_changes
from users.models import Means

TODAY = datetime.date(2026, 6, 1)


def refused(make):
    with nothing_changes(), pytest.raises(IntegrityError), transaction.atomic():
        make()


@pytest.fixture
def person(db):
    return UserFactory()


@pytest.fixture
def company(db):
    return OrganizationFactory()


# Means


def test_means_must_end_after_it_starts(person):
    refused(lambda: MeansFactory(owner=person, valid_from=TODAY, valid_until=TODAY))


def test_means_level_must_be_known(person):
    refused(lambda: MeansFactory(owner=person, level="EH1"))


def test_a_person_has_one_active_means_in_the_database_too(person):
    MeansFactory(owner=person)
    refused(lambda: MeansFactory(owner=person))
    MeansFactory(owner=person, status=Means.Status.REPLACED)  # others may be kept as history


# Organisations, representatives, memberships


def test_kvk_number_is_unique(company):
    refused(lambda: Organization.objects.create(name="Kopie BV", kvk_number=company.kvk_number))


def test_representative_email_is_unique_per_organisation(company):
    RepresentativeFactory(organization=company, email="carla@example.nl")
    refused(lambda: RepresentativeFactory(organization=company, email="carla@example.nl"))
    RepresentativeFactory(organization=OrganizationFactory(), email="carla@example.nl")


def test_a_user_is_linked_to_an_organisation_once(person, company):
    MembershipFactory(user=person, organization=company)
    refused(lambda: MembershipFactory(user=person, organization=company))


@pytest.mark.parametrize(
    "fields",
    [
        {"manager_level": "EH3"},
        {"manager_until": TODAY},
        {"manager_level": "EH9", "manager_until": TODAY},
    ],
)
def test_a_manager_role_has_a_known_level_and_an_end_date(person, company, fields):
    refused(lambda: Membership.objects.create(user=person, organization=company, **fields))


# Catalogue


@pytest.mark.parametrize("oin", ["0000000100321434500", "0000000100321434500 ", "0000000100321434500a"])
def test_provider_oin_has_20_digits(db, oin):
    refused(lambda: ServiceProvider.objects.create(oin=oin, name="Dienstverlener"))


def test_provider_oin_is_unique(db):
    ServiceProvider.objects.create(oin="00000001003214345000", name="Een")
    refused(lambda: ServiceProvider.objects.create(oin="00000001003214345000", name="Twee"))


def test_service_index_is_unique_per_provider_and_the_uuid_is_unique(db):
    service = ServiceFactory(index=7)
    refused(lambda: ServiceFactory(provider=service.provider, index=7))
    refused(lambda: ServiceFactory(uuid=service.uuid))
    ServiceFactory(index=7)  # another provider


def test_service_minimum_level_must_be_known(db):
    refused(lambda: ServiceFactory(minimum_level="EH1"))


def test_service_id_is_derived_from_oin_and_index(db):
    provider = ServiceProviderFactory(oin="00000001003214345000")
    service = Service.objects.create(provider=provider, index=12, name="Aangifte", minimum_level="EH3")
    assert service.service_id == "urn:etoegang:DV:00000001003214345000:services:12"
    assert isinstance(service.uuid, uuid.UUID)


# Authorizations


@pytest.fixture
def base(db):
    service = ServiceFactory()
    return {
        "user": UserFactory(),
        "organization": OrganizationFactory(),
        "service": service,
        "level": "EH2",
        "valid_from": TODAY,
        "valid_until": TODAY + datetime.timedelta(days=365),
    }


def test_authorization_must_end_after_it_starts(base):
    refused(lambda: AuthorizationFactory(**(base | {"valid_until": TODAY})))
    refused(lambda: AuthorizationFactory(**(base | {"valid_until": TODAY - datetime.timedelta(days=1)})))


def test_authorization_level_must_be_known(base):
    refused(lambda: AuthorizationFactory(**(base | {"level": "EH1"})))


@pytest.mark.parametrize(
    ("scope", "with_service", "with_provider"),
    [
        ("service", False, False),
        ("service", True, True),
        ("provider", True, False),
        ("provider", False, False),
        ("level", True, False),
        ("level", False, True),
        ("everything", False, False),
    ],
)
def test_authorization_scope_matches_its_target(base, scope, with_service, with_provider):
    fields = base | {
        "scope": scope,
        "service": base["service"] if with_service else None,
        "provider": base["service"].provider if with_provider else None,
    }
    refused(lambda: Authorization.objects.create(**fields))


@pytest.mark.parametrize(
    ("scope", "with_service", "with_provider"),
    [("service", True, False), ("provider", False, True), ("level", False, False)],
)
def test_authorization_scope_with_its_target_is_accepted(base, scope, with_service, with_provider):
    fields = base | {
        "scope": scope,
        "service": base["service"] if with_service else None,
        "provider": base["service"].provider if with_provider else None,
    }
    Authorization.objects.create(**fields)


def test_authorization_branch_number_has_12_digits(base):
    refused(lambda: AuthorizationFactory(**(base | {"branch_number": "12345678901"})))
    AuthorizationFactory(**(base | {"branch_number": "000012345678"}))


def test_a_revocation_records_who_revoked(base):
    refused(lambda: AuthorizationFactory(**(base | {"revoked_at": timezone.now(), "revoked_by": None})))


def test_authorization_status_cannot_be_written(base):
    # Derived only (rule 6): a read-only property, no column to write.
    with pytest.raises(AttributeError, match="has no setter"):
        Authorization.objects.create(**(base | {"status": "active"}))


# Audit log


def _event(prev_hash, hash_):
    return AuditEvent.objects.create(created_at=timezone.now(), action="test", prev_hash=prev_hash, hash=hash_)


def test_audit_hashes_are_unique(db):
    _event("a" * 64, "b" * 64)
    refused(lambda: _event("c" * 64, "b" * 64))


def test_audit_chain_cannot_fork(db):
    _event("a" * 64, "b" * 64)
    refused(lambda: _event("a" * 64, "c" * 64))


def test_representative_rows_need_their_kvk_details(company):
    with pytest.raises(IntegrityError), transaction.atomic():
        Representative.objects.create(organization=company, name="X", email="x@example.nl")
