"""Named personas shared by the whole suite.

anna    manages org (the organisation) at EH3, with an EH3 means
bram    an employee of org with an EH3 means, linked to org only
daan    manages other_org at EH3
pim     a plain user with a means, manages nothing
sara    support staff (the Support group, not a superuser)
"""

import os
import shutil

import pytest

from organizations.models import Membership
from reconi.levels import AssuranceLevel
from reconi.roles import support_group_ensure
from tests.factories import (
    MeansFactory,
    MembershipFactory,
    OrganizationFactory,
    ServiceFactory,
    ServiceProviderFactory,
    UserFactory,
)

REQUIRE_SERVICES = os.environ.get("RECONI_REQUIRE_SERVICES") == "1"


def require_or_skip(available: bool, what: str) -> None:
    """Skip when a service is missing on a laptop; fail in CI, where it must be there."""
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required in CI but not available")
    pytest.skip(f"{what} not available")


def make_manager(user, organization, level=AssuranceLevel.EH3):
    """Appoint through the service, as support would after a signed form."""
    from organizations.services import manager_appoint

    return manager_appoint(actor=make_support(), user=user, organization=organization, level=level)


def make_support(email="sara.support@reconi.example"):
    user = UserFactory(email=email, first_name="Sara", last_name="Support", is_staff=True)
    user.groups.add(support_group_ensure())
    return user


@pytest.fixture
def org(db):
    return OrganizationFactory(name="Voorbeeld BV 1", email_domain="voorbeeld-bv1.nl")


@pytest.fixture
def other_org(db):
    return OrganizationFactory(name="Andere BV", email_domain="andere-bv.nl")


@pytest.fixture
def support(db):
    return make_support()


@pytest.fixture
def anna(db, org):
    user = UserFactory(email="anna.dejong@voorbeeld-bv1.nl", first_name="Anna", last_name="de Jong")
    MeansFactory(owner=user, level=AssuranceLevel.EH3)
    make_manager(user, org)
    return user


@pytest.fixture
def bram(db, org):
    user = UserFactory(email="bram.visser@voorbeeld-bv1.nl", first_name="Bram", last_name="Visser")
    MeansFactory(owner=user, level=AssuranceLevel.EH3)
    MembershipFactory(user=user, organization=org)
    return user


@pytest.fixture
def daan(db, other_org):
    user = UserFactory(email="daan.bakker@andere-bv.nl", first_name="Daan", last_name="Bakker")
    MeansFactory(owner=user, level=AssuranceLevel.EH3)
    make_manager(user, other_org)
    return user


@pytest.fixture
def pim(db, org):
    user = UserFactory(email="pim.plain@voorbeeld-bv1.nl", first_name="Pim", last_name="Plain")
    MeansFactory(owner=user, level=AssuranceLevel.EH2)
    Membership.objects.get_or_create(user=user, organization=org)
    return user


@pytest.fixture
def provider(db):
    return ServiceProviderFactory(oin="00000001003214345000", name="Belastingdienst")


@pytest.fixture
def service_eh2(provider):
    return ServiceFactory(provider=provider, name="Omzetbelasting", minimum_level=AssuranceLevel.EH2)


@pytest.fixture
def service_eh3(provider):
    return ServiceFactory(provider=provider, name="Loonaangifte", minimum_level=AssuranceLevel.EH3)


@pytest.fixture
def chromium_path():
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    require_or_skip(os.path.exists(path), "Chromium")
    return path


def login(client, user, *, second_factor: bool = True):
    """Log in as after a real login and its first page; ``second_factor`` records a TOTP step as allauth does."""
    import time

    from reconi.authentication import authentication_records_store

    client.force_login(user)
    session = client.session
    records = [{"method": "password", "at": time.time(), "email": user.email}]
    if second_factor:
        records.append({"method": "mfa", "at": time.time(), "type": "totp"})
    authentication_records_store(session, user, records)
    # As after the first page: the session's start and last renewal recorded (reconi.middleware).
    session["_session_started_at"] = session["_session_renewed_at"] = int(time.time())
    session.save()
    return client


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the default language (Dutch), whatever the previous one left.

    The test client's requests activate the URL's language in this thread and do
    not reset it; without this, a test's outcome would depend on the test before it.
    """
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def english():
    """For tests that read English messages: URLs reverse under /en/, services answer in English."""
    from django.utils import translation

    with translation.override("en"):
        yield
