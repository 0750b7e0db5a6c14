"""Issue 2, "Bad input": each gives a clear validation error from the service and changes nothing."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from authorizations.services import authorization_reactivate, authorization_renew
from organizations.models import Organization
from organizations.services import membership_link, organization_create
from tests.factories import AuthorizationFactory
from tests.rules.conftest import grant, nothing_changes

KVK_MESSAGE = "A KvK number has exactly 8 digits."
BRANCH_MESSAGE = "A branch number (vestigingsnummer) has exactly 12 digits."


def _create(support, **fields):
    values = {"name": "Nieuw BV", "kvk_number": "87654321", "branch_number": "", "rsin": ""} | fields
    return organization_create(actor=support, **values)


@pytest.mark.parametrize("kvk", ["1234567", "123456789", "1234567a", "abcdefgh", "1234-567", ""])
def test_invalid_kvk_number_is_refused(support, kvk):
    with nothing_changes(), pytest.raises(ValidationError) as excinfo:
        _create(support, kvk_number=kvk)
    expected = "This field cannot be blank." if kvk == "" else KVK_MESSAGE
    assert expected in excinfo.value.message_dict["kvk_number"]


def test_duplicate_kvk_number_is_refused(support, org):
    with nothing_changes(), pytest.raises(ValidationError) as excinfo:
        _create(support, kvk_number=org.kvk_number)
    assert excinfo.value.message_dict["kvk_number"] == ["Organisation with this KvK number already exists."]


@pytest.mark.parametrize("branch", ["12345678901", "1234567890123", "12345678901a"])
def test_invalid_branch_number_is_refused(support, branch):
    with nothing_changes(), pytest.raises(ValidationError) as excinfo:
        _create(support, branch_number=branch)
    assert BRANCH_MESSAGE in excinfo.value.message_dict["branch_number"]


@pytest.mark.parametrize("rsin", ["123456789", "111222334", "000000000", "12345678", "12345678a"])
def test_invalid_rsin_is_refused(support, rsin):
    with nothing_changes(), pytest.raises(ValidationError) as excinfo:
        _create(support, rsin=rsin)
    # One clear message on the field, not a second one from the database constraint.
    assert excinfo.value.message_dict == {
        "rsin": [f"{rsin} is not a valid RSIN: it needs 9 digits that pass the elfproef."]
    }


def test_valid_identifiers_are_accepted(support):
    organization = _create(support, kvk_number="00001234", branch_number="000012345678", rsin="002300643")
    assert Organization.objects.get(pk=organization.pk).rsin == "002300643"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("kvk_number", "1234567"),
        ("kvk_number", "1234567a"),
        ("branch_number", "12345678901"),
        ("branch_number", "12345678901a"),
        ("rsin", "12345678"),
        ("rsin", "123456789"),  # 9 digits that fail the elfproef
        ("rsin", "111222334"),
        ("rsin", "000000000"),
    ],
)
def test_database_refuses_invalid_identifiers_on_a_raw_save(db, field, value):
    organization = Organization(**({"name": "Rauw BV", "kvk_number": "87654321"} | {field: value}))
    with nothing_changes(), pytest.raises(IntegrityError), transaction.atomic():
        organization.save()  # no full_clean: only the database stands in the way


@pytest.mark.parametrize("rsin", ["111222333", "123456782", "002300643", ""])
def test_database_accepts_valid_rsins_on_a_raw_save(db, rsin):
    Organization.objects.create(name="Rauw BV", kvk_number="87654321", rsin=rsin)


def test_level_above_the_means_is_refused(anna, pim, org, service_eh2):
    with nothing_changes(), pytest.raises(ValidationError) as excinfo:
        grant(actor=anna, user=pim, organization=org, service=service_eh2, level="EH3")
    assert excinfo.value.message_dict == {"level": [f"EH3 is above the level of {pim}'s means (EH2)."]}


def test_level_below_the_service_minimum_is_refused(anna, bram, org, service_eh3):
    with nothing_changes(), pytest.raises(ValidationError) as excinfo:
        grant(actor=anna, user=bram, organization=org, service=service_eh3, level="EH2")
    assert excinfo.value.message_dict == {"level": ["Loonaangifte needs at least EH3; EH2 is too low."]}


@pytest.mark.parametrize("level", ["EH1", "EH5", "eh3", "", None])
def test_unknown_level_is_refused(anna, bram, org, service_eh2, level):
    with nothing_changes(), pytest.raises(ValidationError) as excinfo:
        grant(actor=anna, user=bram, organization=org, service=service_eh2, level=level)
    assert excinfo.value.message_dict == {"level": ["Choose a level: EH2, EH2+, EH3 or EH4."]}


def test_unknown_scope_and_missing_target_are_refused(anna, bram, org):
    with nothing_changes(), pytest.raises(ValidationError) as excinfo:
        grant(actor=anna, user=bram, organization=org, scope="everything")
    assert excinfo.value.message_dict == {"scope": ["Unknown scope."]}
    with nothing_changes(), pytest.raises(ValidationError) as excinfo:
        grant(actor=anna, user=bram, organization=org, scope="service")
    assert excinfo.value.message_dict == {"service": ["Choose a service."]}
    with nothing_changes(), pytest.raises(ValidationError) as excinfo:
        grant(actor=anna, user=bram, organization=org, scope="provider")
    assert excinfo.value.message_dict == {"provider": ["Choose a service provider."]}


def test_invalid_branch_on_a_grant_is_refused(anna, bram, org, service_eh2):
    with nothing_changes(), pytest.raises(ValidationError) as excinfo:
        grant(actor=anna, user=bram, organization=org, service=service_eh2, branch_number="12345")
    assert BRANCH_MESSAGE in excinfo.value.message_dict["branch_number"]


@pytest.mark.parametrize("years", [2, "2"])
def test_renewal_period_of_2_years_is_refused(anna, bram, org, service_eh2, years):
    authorization = AuthorizationFactory(user=bram, organization=org, service=service_eh2)
    with nothing_changes(), pytest.raises(ValidationError) as excinfo:
        authorization_renew(
            actor=anna, authorization=authorization, years=years, expected_valid_until=authorization.valid_until
        )
    assert excinfo.value.message_dict == {"period": ["Choose a period of 1, 3 or 5 years."]}


def test_reactivating_a_revoked_authorization_is_refused(anna, bram, org, service_eh2):
    authorization = AuthorizationFactory(user=bram, organization=org, service=service_eh2, revoked=True, expired=True)
    with nothing_changes(), pytest.raises(ValidationError) as excinfo:
        authorization_reactivate(actor=anna, authorization=authorization, years=1)
    assert excinfo.value.messages == ["A revoked authorization cannot be renewed or reactivated; request a new one."]


def test_duplicate_link_is_refused(support, bram, org):
    with nothing_changes(), pytest.raises(ValidationError) as excinfo:
        membership_link(actor=support, user=bram, organization=org)
    assert excinfo.value.messages == [f"{bram} is already linked to Voorbeeld BV 1."]
    assert excinfo.value.code == "duplicate_link"
