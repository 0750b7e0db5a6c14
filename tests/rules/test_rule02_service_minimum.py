"""Rule 2: an authorization for a specific service has a level at least that service's minimum."""

import pytest
from django.core.exceptions import ValidationError

from authorizations.selectors import user_may_use_service
from tests.factories import AuthorizationFactory
from tests.rules.conftest import grant, nothing_changes


def test_grant_below_the_service_minimum_is_refused(anna, bram, org, service_eh3):
    with nothing_changes(), pytest.raises(ValidationError) as excinfo:
        grant(actor=anna, user=bram, organization=org, service=service_eh3, level="EH2+")
    assert excinfo.value.message_dict["level"] == ["Loonaangifte needs at least EH3; EH2+ is too low."]


@pytest.mark.parametrize("level", ["EH3"])
def test_grant_at_the_service_minimum_is_allowed(anna, bram, org, service_eh3, level):
    authorization = grant(actor=anna, user=bram, organization=org, service=service_eh3, level=level)
    assert authorization.service == service_eh3
    assert user_may_use_service(user=bram, organization=org, service=service_eh3, level="EH3")


def test_grant_above_the_service_minimum_is_allowed(anna, bram, org, service_eh2):
    authorization = grant(actor=anna, user=bram, organization=org, service=service_eh2, level="EH3")
    assert authorization.level == "EH3"


def test_access_below_the_service_minimum_is_never_given(bram, org, service_eh3):
    # Even a row written around the services (EH2 for an EH3 service) lets nobody in.
    AuthorizationFactory(user=bram, organization=org, service=service_eh3, level="EH2")
    assert not user_may_use_service(user=bram, organization=org, service=service_eh3, level="EH2")
    assert not user_may_use_service(user=bram, organization=org, service=service_eh3, level="EH3")


def test_level_scope_covers_only_services_at_or_below_its_level(anna, bram, org, service_eh2, service_eh3):
    grant(actor=anna, user=bram, organization=org, scope="level", level="EH2")
    assert user_may_use_service(user=bram, organization=org, service=service_eh2, level="EH2")
    assert not user_may_use_service(user=bram, organization=org, service=service_eh3, level="EH3")
