"""One definition of a working manager: ``Membership.objects.working_managers(on=...)``.

A manager works while the role has not ended, the guardian permission is there
and the manager's own means is active at the role's level or higher. Every place
that asks — the Manage guard, scoping, the reminder digests, the rule-13 decision,
the admin — gets the same answer; a manager whose own means lapsed counts nowhere.
"""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from guardian.shortcuts import remove_perm

from notifications.models import OutboxEmail
from notifications.selectors import managers_of
from organizations.models import Membership, Organization
from reconi.roles import manager_level_for
from tests.conftest import login
from tests.factories import RepresentativeFactory, UserFactory
from users.models import Means
from users.services import means_issue


def _lapse_means(user):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    Means.objects.filter(owner=user).update(valid_from=yesterday - datetime.timedelta(days=400), valid_until=yesterday)


def _lapse(user, organization, how):
    if how == "means":
        _lapse_means(user)
    elif how == "role":
        Membership.objects.filter(user=user, organization=organization).update(
            manager_until=timezone.localdate() - datetime.timedelta(days=1)
        )
    elif how == "permission":
        remove_perm("organizations.manage_organization", user, organization)
    elif how == "account":
        type(user).objects.filter(pk=user.pk).update(is_active=False)


def test_a_working_manager_is_found_everywhere(anna, org):
    assert list(Membership.objects.working_managers().values_list("user", "organization")) == [(anna.pk, org.pk)]
    assert list(Organization.objects.managed_by(anna)) == [org]
    assert manager_level_for(anna, org) == "EH3"
    assert managers_of(organization_ids=[org.pk], today=timezone.localdate()) == {org.pk: [anna]}


@pytest.mark.parametrize("how", ["means", "role", "permission", "account"])
def test_a_lapsed_manager_counts_nowhere(anna, org, how):
    _lapse(anna, org, how)
    assert not Membership.objects.working_managers().exists()
    assert not Organization.objects.managed_by(anna).exists()
    assert manager_level_for(anna, org) is None
    assert managers_of(organization_ids=[org.pk], today=timezone.localdate()) == {}


def test_a_means_upgraded_above_the_role_keeps_the_role_working(anna, org):
    Means.objects.filter(owner=anna).update(level="EH4")
    assert manager_level_for(anna, org) == "EH3"


def test_the_manage_guard_refuses_a_manager_whose_means_lapsed(client, anna, org):
    login(client, anna)
    assert client.get(reverse("manage_overview")).status_code == 200
    _lapse_means(anna)
    assert client.get(reverse("manage_overview")).status_code == 403


def test_the_representative_hears_of_a_new_means_when_the_only_manager_lapsed(anna, org, support):
    """The rule-13 decision asked the role only: a manager whose own means had lapsed
    (so without rights, rule 11) still kept the representative from being told."""
    RepresentativeFactory(organization=org, email="carla.smit@voorbeeld-bv1.nl")
    notices = OutboxEmail.objects.filter(kind="means_issued_representative", to="carla.smit@voorbeeld-bv1.nl")
    first, second = UserFactory(), UserFactory()
    means_issue(actor=support, owner=first, level="EH3", organization=org, request_number="R-1")
    assert notices.count() == 0  # anna works: the organisation has a manager

    _lapse_means(anna)  # her role is still recorded, her rights are gone
    assert Membership.objects.filter(user=anna, organization=org, manager_level__isnull=False).exists()
    means_issue(actor=support, owner=second, level="EH3", organization=org, request_number="R-2")
    assert notices.count() == 1


def test_the_admin_filters_on_working_managers(client, anna, bram, org, support):
    from tests.conftest import login as log_in

    superuser = type(anna).objects.create_superuser("root@reconi.example", "x")
    log_in(client, superuser)
    url = reverse("admin:organizations_membership_changelist")
    working = client.get(url, {"manager": "working"})
    assert [m.user for m in working.context["cl"].result_list] == [anna]
    _lapse_means(anna)
    assert list(client.get(url, {"manager": "working"}).context["cl"].result_list) == []
    lapsed = client.get(url, {"manager": "lapsed"})
    assert [m.user for m in lapsed.context["cl"].result_list] == [anna]
