"""Rules 9 and 10 at the service level: a manager acts only within organisations it
manages, only for linked users; a manager is appointed by support after the
representatives signed, never by another manager."""

from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from authorizations.services import (
    authorization_grant,
    authorization_reactivate,
    authorization_renew,
    authorization_revoke,
)
from organizations.models import Membership
from organizations.services import manager_appoint, manager_withdraw, membership_link
from tests.factories import AuthorizationFactory, MeansFactory, UserFactory
from tests.rules.conftest import grant, nothing_changes


@pytest.fixture
def bram_authorization(bram, org, service_eh2):
    return AuthorizationFactory(user=bram, organization=org, service=service_eh2)


@pytest.fixture
def expired_authorization(bram, org, service_eh2):
    return AuthorizationFactory(user=bram, organization=org, service=service_eh2, expired=True)


@pytest.mark.parametrize("who", ["daan", "pim", "bram"])
def test_outsiders_cannot_grant_in_an_organisation(request, who, bram, org, service_eh2):
    actor = request.getfixturevalue(who)
    with nothing_changes(), pytest.raises(PermissionDenied):
        authorization_grant(
            actor=actor, user=bram, organization=org, level="EH2", scope="service", service=service_eh2, years=1
        )


@pytest.mark.parametrize("who", ["daan", "pim"])
def test_outsiders_cannot_renew_revoke_or_reactivate(request, who, bram_authorization, expired_authorization):
    actor = request.getfixturevalue(who)
    calls = [
        lambda: authorization_renew(
            actor=actor, authorization=bram_authorization, years=1, expected_valid_until=bram_authorization.valid_until
        ),
        lambda: authorization_revoke(actor=actor, authorization=bram_authorization),
        lambda: authorization_reactivate(actor=actor, authorization=expired_authorization, years=1),
    ]
    for call in calls:
        with nothing_changes(), pytest.raises(PermissionDenied):
            call()


def test_the_organisations_own_manager_and_support_may(anna, support, bram_authorization, expired_authorization):
    authorization_renew(
        actor=anna, authorization=bram_authorization, years=1, expected_valid_until=bram_authorization.valid_until
    )
    authorization_reactivate(actor=support, authorization=expired_authorization, years=1)
    authorization_revoke(actor=support, authorization=bram_authorization)


def test_a_manager_of_one_organisation_cannot_reach_into_another(anna, daan, other_org, service_eh2):
    # anna manages org only; daan's staff member is not hers to authorize.
    staff = UserFactory()
    MeansFactory(owner=staff, level="EH3")
    Membership.objects.create(user=staff, organization=other_org)
    with nothing_changes(), pytest.raises(PermissionDenied):
        grant(actor=anna, user=staff, organization=other_org, service=service_eh2)


def test_cannot_grant_to_a_user_not_linked_to_the_organisation(anna, org, service_eh2):
    stranger = UserFactory()
    MeansFactory(owner=stranger, level="EH3")
    with nothing_changes(), pytest.raises(ValidationError) as excinfo:
        grant(actor=anna, user=stranger, organization=org, service=service_eh2)
    assert excinfo.value.message_dict["user"] == [f"{stranger} is not linked to Voorbeeld BV 1; link them first."]


def test_a_manager_cannot_link_a_user_directly(anna, org, other_org, daan):
    with nothing_changes(), pytest.raises(PermissionDenied):
        membership_link(actor=anna, user=daan, organization=org)


def test_a_user_links_only_by_accepting_a_request_for_that_organisation(bram, org, other_org):
    with nothing_changes(), pytest.raises(PermissionDenied):
        membership_link(actor=bram, user=bram, organization=other_org)
    with nothing_changes(), pytest.raises(PermissionDenied):
        membership_link(
            actor=bram, user=bram, organization=other_org, via=SimpleNamespace(pk=1, organization_id=org.pk)
        )
    membership = membership_link(
        actor=bram, user=bram, organization=other_org, via=SimpleNamespace(pk=1, organization_id=other_org.pk)
    )
    assert membership.organization == other_org


def test_nobody_accepts_a_link_on_someone_elses_behalf(pim, bram, other_org):
    via = SimpleNamespace(pk=1, organization_id=other_org.pk)
    with nothing_changes(), pytest.raises(PermissionDenied):
        membership_link(actor=pim, user=bram, organization=other_org, via=via)


@pytest.mark.parametrize("who", ["anna", "daan", "bram"])
def test_only_support_appoints_a_manager(request, who, org, bram):
    actor = request.getfixturevalue(who)
    with nothing_changes(), pytest.raises(PermissionDenied):
        manager_appoint(actor=actor, user=bram, organization=org, level="EH3")


def test_a_manager_cannot_appoint_a_manager_even_with_support_rights(anna, bram, org):
    from django.contrib.auth.models import Group

    anna.is_staff = True
    anna.save()
    anna.groups.add(Group.objects.get(name="Support"))
    with nothing_changes(), pytest.raises(PermissionDenied, match="A manager cannot appoint a manager"):
        manager_appoint(actor=anna, user=bram, organization=org, level="EH3")


@pytest.mark.parametrize("who", ["anna", "daan", "bram"])
def test_only_support_withdraws_a_manager(request, who, anna, org):
    actor = request.getfixturevalue(who)
    membership = Membership.objects.get(user=anna, organization=org)
    with nothing_changes(), pytest.raises(PermissionDenied):
        manager_withdraw(actor=actor, membership=membership)
