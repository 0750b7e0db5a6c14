"""Rule 11: manager rights end with the manager's own login authorization (its means)."""

import datetime

import pytest
from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from guardian.shortcuts import assign_perm, get_perms

from organizations.models import Membership, Organization
from organizations.roles import require_manager_or_support
from organizations.services import manager_appoint, manager_withdraw
from tests.factories import MeansFactory, UserFactory
from tests.rules.conftest import grant, nothing_changes
from users.models import Means, User
from users.services import means_issue


def yesterday():
    return timezone.localdate() - datetime.timedelta(days=1)


def test_a_manager_manages_while_its_means_is_active(anna, org):
    assert list(Organization.objects.managed_by(anna)) == [org]
    assert require_manager_or_support(anna, org) == "EH3"


def test_manager_rights_end_when_the_managers_means_expires(anna, bram, org, service_eh2):
    Means.objects.filter(owner=anna).update(valid_until=yesterday())
    assert not Organization.objects.managed_by(anna).exists()
    with nothing_changes(), pytest.raises(PermissionDenied):
        grant(actor=anna, user=bram, organization=org, service=service_eh2)


@pytest.mark.parametrize("status", [Means.Status.REVOKED, Means.Status.SUSPENDED, Means.Status.REPLACED])
def test_manager_rights_end_when_the_means_is_no_longer_active(anna, status):
    Means.objects.filter(owner=anna).update(status=status)
    assert not Organization.objects.managed_by(anna).exists()


def test_managed_by_on_a_date_follows_the_means_end(anna, org):
    means = Means.objects.get(owner=anna)
    assert list(Organization.objects.managed_by(anna, on=means.valid_until)) == [org]
    assert not Organization.objects.managed_by(anna, on=means.valid_until + datetime.timedelta(days=1)).exists()


def test_a_means_below_the_manager_level_gives_no_manager_rights(anna, support):
    # anna's EH3 means expires and she gets a new EH2 one: her EH3 role does not carry over.
    Means.objects.filter(owner=anna).update(valid_from=yesterday() - relativedelta(years=1), valid_until=yesterday())
    means_issue(actor=support, owner=anna, level="EH2", years=1)
    assert not Organization.objects.managed_by(anna).exists()


def test_manager_role_ends_by_default_with_the_means(support, bram, org):
    membership = manager_appoint(actor=support, user=bram, organization=org, level="EH3")
    assert membership.manager_until == Means.objects.get(owner=bram).valid_until


def test_manager_role_cannot_outlive_the_means(support, bram, org):
    means = Means.objects.get(owner=bram)
    with nothing_changes(), pytest.raises(ValidationError) as excinfo:
        manager_appoint(
            actor=support,
            user=bram,
            organization=org,
            level="EH3",
            until=means.valid_until + datetime.timedelta(days=1),
        )
    assert excinfo.value.message_dict["until"] == [
        f"Manager rights end with the manager's own means on {means.valid_until.isoformat()}."
    ]


def test_manager_role_ends_on_its_end_date(support, bram, org):
    until = timezone.localdate() + datetime.timedelta(days=7)
    manager_appoint(actor=support, user=bram, organization=org, level="EH3", until=until)
    assert list(Organization.objects.managed_by(bram, on=until)) == [org]
    assert not Organization.objects.managed_by(bram, on=until + datetime.timedelta(days=1)).exists()


def test_withdrawing_removes_the_permission_and_the_rights_at_once(anna, support, bram, org, service_eh2):
    membership = Membership.objects.get(user=anna, organization=org)
    assert "manage_organization" in get_perms(anna, org)
    manager_withdraw(actor=support, membership=membership, reason="left the company")
    fresh = User.objects.get(pk=anna.pk)  # nothing cached on the old instance decides
    assert get_perms(fresh, org) == []
    assert not fresh.has_perm("organizations.manage_organization", org)
    assert not Organization.objects.managed_by(fresh).exists()
    assert not Organization.objects.managed_by(anna).exists()
    stored = Membership.objects.get(pk=membership.pk)
    assert (stored.manager_level, stored.manager_until) == (None, None)
    with nothing_changes(), pytest.raises(PermissionDenied):
        grant(actor=anna, user=bram, organization=org, service=service_eh2)


def test_withdrawing_a_non_manager_is_an_error(support, bram, org):
    membership = Membership.objects.get(user=bram, organization=org)
    with nothing_changes(), pytest.raises(ValidationError) as excinfo:
        manager_withdraw(actor=support, membership=membership)
    assert excinfo.value.messages == [f"{bram} is not a manager."]


def test_the_permission_alone_does_not_make_a_manager(bram, org):
    # Only the services grant it; a stray permission without the role manages nothing.
    assign_perm("organizations.manage_organization", bram, org)
    assert not Organization.objects.managed_by(bram).exists()


def test_the_role_alone_does_not_make_a_manager(org):
    person = UserFactory()
    MeansFactory(owner=person, level="EH3")
    Membership.objects.create(
        user=person, organization=org, manager_level="EH3", manager_until=timezone.localdate() + relativedelta(years=1)
    )
    assert not Organization.objects.managed_by(person).exists()


def test_a_manager_of_two_organisations_loses_only_the_withdrawn_one(anna, support, org, other_org):
    membership = manager_appoint(actor=support, user=anna, organization=other_org, level="EH3")
    assert set(Organization.objects.managed_by(anna)) == {org, other_org}
    manager_withdraw(actor=support, membership=membership)
    assert list(Organization.objects.managed_by(anna)) == [org]


def test_appointing_keeps_an_existing_link(support, bram, org):
    before = Membership.objects.get(user=bram, organization=org)
    membership = manager_appoint(actor=support, user=bram, organization=org, level="EH3")
    assert membership.pk == before.pk
    assert Membership.objects.filter(user=bram).count() == 1


def test_manager_role_cannot_end_in_the_past(support, bram, org):
    with nothing_changes(), pytest.raises(ValidationError) as excinfo:
        manager_appoint(actor=support, user=bram, organization=org, level="EH3", until=yesterday())
    assert excinfo.value.message_dict["until"] == ["A manager role cannot end in the past."]


def test_an_ended_role_in_one_organisation_is_not_rescued_by_another(anna, support, bram, org, other_org, service_eh2):
    # anna still manages org; her role in other_org ended yesterday. She may not act there.
    manager_appoint(actor=support, user=anna, organization=other_org, level="EH3")
    Membership.objects.filter(user=anna, organization=other_org).update(manager_until=yesterday())
    Membership.objects.create(user=bram, organization=other_org)
    assert list(Organization.objects.managed_by(anna)) == [org]
    with pytest.raises(PermissionDenied):
        require_manager_or_support(anna, other_org)
    with nothing_changes(), pytest.raises(PermissionDenied):
        grant(actor=anna, user=bram, organization=other_org, service=service_eh2)
