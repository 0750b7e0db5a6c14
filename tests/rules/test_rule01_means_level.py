"""Rule 1: an authorization's level is at most the level of the user's active means."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from authorizations.selectors import user_may_use_service
from authorizations.services import authorization_reactivate, authorization_renew
from tests.factories import AuthorizationFactory, MeansFactory, MembershipFactory, UserFactory
from tests.rules.conftest import grant, message, nothing_changes
from users.models import Means


def test_grant_at_the_means_level_is_allowed(anna, pim, org, service_eh2):
    authorization = grant(actor=anna, user=pim, organization=org, service=service_eh2, level="EH2")
    assert authorization.level == "EH2"


def test_grant_above_the_means_level_is_refused(anna, pim, org):
    # pim's means is EH2; anna may grant up to EH3, so only rule 1 stops this.
    with nothing_changes(), pytest.raises(ValidationError) as excinfo:
        grant(actor=anna, user=pim, organization=org, level="EH2+")
    assert excinfo.value.message_dict["level"] == [f"EH2+ is above the level of {pim}'s means (EH2)."]


def test_support_cannot_grant_above_the_means_level_either(support, pim, org):
    with nothing_changes(), pytest.raises(ValidationError, match="above the level of"):
        grant(actor=support, user=pim, organization=org, level="EH3")


def test_user_without_a_means_gets_nothing(anna, org, service_eh2):
    newcomer = UserFactory()
    MembershipFactory(user=newcomer, organization=org)
    with nothing_changes(), pytest.raises(ValidationError) as excinfo:
        grant(actor=anna, user=newcomer, organization=org, service=service_eh2)
    assert excinfo.value.message_dict["user"] == [f"{newcomer} has no active means."]


@pytest.mark.parametrize("state", ["expired", "revoked", "suspended", "pending"])
def test_user_whose_means_is_not_active_gets_nothing(anna, org, service_eh2, state):
    person = UserFactory()
    MembershipFactory(user=person, organization=org)
    if state == "expired":
        MeansFactory(owner=person, level="EH3", expired=True)
    elif state == "pending":
        today = timezone.localdate()
        MeansFactory(owner=person, level="EH3", valid_from=today + datetime.timedelta(days=3))
    else:
        MeansFactory(owner=person, level="EH3", status=state)
    with nothing_changes(), pytest.raises(ValidationError, match="has no active means"):
        grant(actor=anna, user=person, organization=org, service=service_eh2)


def test_an_authorization_grants_nothing_once_the_means_expires(anna, bram, org, service_eh2):
    grant(actor=anna, user=bram, organization=org, service=service_eh2, level="EH2")
    assert user_may_use_service(user=bram, organization=org, service=service_eh2, level="EH2")
    Means.objects.filter(owner=bram).update(valid_until=timezone.localdate() - datetime.timedelta(days=1))
    assert not user_may_use_service(user=bram, organization=org, service=service_eh2, level="EH2")


def test_an_authorization_above_the_means_gives_no_access(bram, org, service_eh2):
    # A row written around the services (EH4, while bram's means is EH3) lets him in nowhere:
    # logging in at the authorization's level needs a means of that level.
    AuthorizationFactory(user=bram, organization=org, service=service_eh2, level="EH4")
    for level in ["EH2", "EH3", "EH4"]:
        assert not user_may_use_service(user=bram, organization=org, service=service_eh2, level=level)
    AuthorizationFactory(user=bram, organization=org, service=service_eh2, level="EH3")
    assert user_may_use_service(user=bram, organization=org, service=service_eh2, level="EH3")


def test_renew_rechecks_the_means_level(anna, bram, org, service_eh2):
    authorization = AuthorizationFactory(user=bram, organization=org, service=service_eh2, level="EH3")
    Means.objects.filter(owner=bram).update(level="EH2")
    with nothing_changes(), pytest.raises(ValidationError, match=r"EH3 is above the level of .* means \(EH2\)"):
        authorization_renew(
            actor=anna, authorization=authorization, years=1, expected_valid_until=authorization.valid_until
        )


def test_reactivate_rechecks_the_means_level(anna, bram, org, service_eh2):
    authorization = AuthorizationFactory(user=bram, organization=org, service=service_eh2, level="EH3", expired=True)
    Means.objects.filter(owner=bram).update(level="EH2")
    with nothing_changes(), pytest.raises(ValidationError) as excinfo:
        authorization_reactivate(actor=anna, authorization=authorization, years=1)
    assert "above the level" in message(excinfo)
