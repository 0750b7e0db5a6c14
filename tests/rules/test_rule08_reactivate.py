"""Rule 8: reactivating an expired authorization starts a new validity period; a
revoked one cannot be reactivated, only requested anew."""

import pytest
from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.utils import timezone

from authorizations.models import Authorization
from authorizations.selectors import user_may_use_service
from authorizations.services import authorization_reactivate, authorization_renew
from tests.factories import AuthorizationFactory
from tests.rules.conftest import nothing_changes

REVOKED_MESSAGE = "A revoked authorization cannot be renewed or reactivated; request a new one."


@pytest.fixture
def make(bram, org, service_eh2):
    def make(**traits):
        return AuthorizationFactory(user=bram, organization=org, service=service_eh2, **traits)

    return make


@pytest.mark.parametrize("years", [1, 3, 5])
def test_reactivating_an_expired_one_starts_a_new_period_from_today(anna, bram, org, service_eh2, make, years):
    authorization = make(expired=True)
    assert not user_may_use_service(user=bram, organization=org, service=service_eh2, level="EH2")
    today = timezone.localdate()
    reactivated = authorization_reactivate(actor=anna, authorization=authorization, years=years)
    stored = Authorization.objects.get(pk=authorization.pk)
    assert (stored.valid_from, stored.valid_until) == (today, today + relativedelta(years=years))
    assert (reactivated.valid_from, reactivated.valid_until) == (stored.valid_from, stored.valid_until)
    assert stored.status == "active"
    assert user_may_use_service(user=bram, organization=org, service=service_eh2, level="EH2")


def test_reactivating_defaults_to_one_year(anna, make):
    authorization = authorization_reactivate(actor=anna, authorization=make(expired=True))
    assert authorization.valid_until == timezone.localdate() + relativedelta(years=1)


@pytest.mark.parametrize("traits", [{"revoked": True}, {"revoked": True, "expired": True}])
def test_a_revoked_one_cannot_be_reactivated(anna, make, traits):
    authorization = make(**traits)
    with nothing_changes(), pytest.raises(ValidationError) as excinfo:
        authorization_reactivate(actor=anna, authorization=authorization, years=1)
    assert excinfo.value.messages == [REVOKED_MESSAGE]
    assert excinfo.value.code == "revoked"


@pytest.mark.parametrize("traits", [{}, {"expiring": True}, {"pending": True}])
def test_only_an_expired_one_can_be_reactivated(anna, make, traits):
    authorization = make(**traits)
    with nothing_changes(), pytest.raises(ValidationError) as excinfo:
        authorization_reactivate(actor=anna, authorization=authorization, years=1)
    assert excinfo.value.messages == ["Only an expired authorization can be activated."]


def test_an_expired_one_is_reactivated_not_renewed(anna, make):
    authorization = make(expired=True)
    with nothing_changes(), pytest.raises(ValidationError) as excinfo:
        authorization_renew(
            actor=anna, authorization=authorization, years=1, expected_valid_until=authorization.valid_until
        )
    assert excinfo.value.messages == ["This authorization has expired; activate it instead, which starts a new period."]


def test_a_revoked_one_cannot_be_renewed(anna, make):
    authorization = make(revoked=True)
    with nothing_changes(), pytest.raises(ValidationError) as excinfo:
        authorization_renew(
            actor=anna, authorization=authorization, years=1, expected_valid_until=authorization.valid_until
        )
    assert excinfo.value.messages == ["A revoked authorization cannot be renewed or reactivated; request a new one."]


def test_reactivation_still_checks_the_service_minimum(anna, bram, org, service_eh3):
    authorization = AuthorizationFactory(user=bram, organization=org, service=service_eh3, level="EH2", expired=True)
    with nothing_changes(), pytest.raises(ValidationError, match="needs at least EH3"):
        authorization_reactivate(actor=anna, authorization=authorization, years=1)
