"""Rule 3: a manager grants only at or below its own manager level; manager rights
at level L need a means of level L."""

import pytest
from django.core.exceptions import ValidationError
from guardian.shortcuts import get_perms

from organizations.models import Membership, Organization
from organizations.services import manager_appoint
from tests.factories import MeansFactory, UserFactory
from tests.rules.conftest import grant, message, nothing_changes
from users.services import means_upgrade


@pytest.fixture
def mia(db, org, support):
    """A manager of org at EH2+, with an EH2+ means."""
    user = UserFactory(email="mia.manager@voorbeeld-bv1.nl", first_name="Mia", last_name="Meijer")
    MeansFactory(owner=user, level="EH2+")
    manager_appoint(actor=support, user=user, organization=org, level="EH2+")
    return user


def test_manager_grants_at_its_own_level(mia, bram, org):
    assert grant(actor=mia, user=bram, organization=org, level="EH2+").level == "EH2+"


def test_manager_cannot_grant_above_its_own_level(mia, bram, org):
    # bram's means is EH3, so only mia's manager level (EH2+) stops this.
    with nothing_changes(), pytest.raises(ValidationError) as excinfo:
        grant(actor=mia, user=bram, organization=org, level="EH3")
    assert excinfo.value.message_dict["level"] == ["EH3 is above your own manager level (EH2+)."]


def test_manager_ceiling_is_the_role_level_not_the_means_level(mia, bram, org):
    # An upgrade of the manager's means does not raise the role: that takes a new appointment.
    from users.models import Means

    Means.objects.filter(owner=mia).update(level="EH4")
    with nothing_changes(), pytest.raises(ValidationError, match="above your own manager level"):
        grant(actor=mia, user=bram, organization=org, level="EH3")


@pytest.mark.parametrize("level", ["EH2", "EH2+", "EH4"])
def test_manager_role_needs_a_means_of_exactly_that_level(support, bram, org, level):
    with nothing_changes(), pytest.raises(ValidationError) as excinfo:
        manager_appoint(actor=support, user=bram, organization=org, level=level)
    assert message(excinfo) == (
        f"Manager rights at {level} need a means of level {level}; {bram} has EH3. "
        f"Choose EH3, or upgrade the means to {level} first."
    )
    assert not Organization.objects.managed_by(bram).exists()
    assert get_perms(bram, org) == []


def test_manager_role_at_the_means_level_is_given(support, bram, org):
    membership = manager_appoint(actor=support, user=bram, organization=org, level="EH3")
    assert membership.manager_level == "EH3"
    assert list(Organization.objects.managed_by(bram)) == [org]


def test_manager_role_at_eh4_after_upgrading_the_means(support, bram, org):
    means_upgrade(actor=support, means=bram.means.get(), level="EH4")
    membership = manager_appoint(actor=support, user=bram, organization=org, level="EH4")
    assert Membership.objects.get(pk=membership.pk).manager_level == "EH4"


def test_manager_role_needs_an_active_means(support, org):
    person = UserFactory()
    MeansFactory(owner=person, level="EH3", expired=True)
    with nothing_changes(), pytest.raises(ValidationError, match="has no active means"):
        manager_appoint(actor=support, user=person, organization=org, level="EH3")


def test_a_lower_level_manager_cannot_renew_or_reactivate_above_its_level(mia, bram, org, service_eh2):
    from authorizations.services import authorization_reactivate, authorization_renew
    from tests.factories import AuthorizationFactory

    active = AuthorizationFactory(user=bram, organization=org, service=service_eh2, level="EH3")
    expired = AuthorizationFactory(user=bram, organization=org, service=service_eh2, level="EH3", expired=True)
    with nothing_changes(), pytest.raises(ValidationError, match=r"above your own manager level \(EH2\+\)"):
        authorization_renew(actor=mia, authorization=active, years=1, expected_valid_until=active.valid_until)
    with nothing_changes(), pytest.raises(ValidationError, match=r"above your own manager level \(EH2\+\)"):
        authorization_reactivate(actor=mia, authorization=expired, years=1)
