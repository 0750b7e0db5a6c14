"""Organisation identifiers: KvK 8 digits, branch 12 digits, RSIN 9 digits with the elfproef, OIN 20 digits."""

import pytest
from django.core.exceptions import ValidationError

from reconi.validators import branch_validator, kvk_validator, oin_validator, rsin_is_valid, validate_rsin

VALID_RSINS = ["111222333", "123456782", "002300643"]
INVALID_RSINS = ["123456789", "111222334", "000000000", "12345678", "1234567820", "12345678a", "", " 11122233"]


@pytest.mark.parametrize("value", ["12345678", "00000001"])
def test_kvk_accepts_exactly_8_digits(value):
    kvk_validator(value)


@pytest.mark.parametrize("value", ["1234567", "123456789", "1234567a", "abcdefgh", "1234 567", ""])
def test_kvk_refuses_anything_but_8_digits(value):
    with pytest.raises(ValidationError, match="A KvK number has exactly 8 digits"):
        kvk_validator(value)


def test_branch_accepts_exactly_12_digits():
    branch_validator("000012345678")


@pytest.mark.parametrize("value", ["12345678901", "1234567890123", "12345678901a"])
def test_branch_refuses_anything_but_12_digits(value):
    with pytest.raises(ValidationError, match="exactly 12 digits"):
        branch_validator(value)


@pytest.mark.parametrize("value", VALID_RSINS)
def test_rsin_passing_the_elfproef_is_valid(value):
    assert rsin_is_valid(value) is True
    validate_rsin(value)


@pytest.mark.parametrize("value", INVALID_RSINS)
def test_rsin_failing_the_elfproef_or_length_is_refused(value):
    assert rsin_is_valid(value) is False
    with pytest.raises(ValidationError, match="is not a valid RSIN"):
        validate_rsin(value)


def test_oin_has_20_digits():
    oin_validator("00000001003214345000")
    with pytest.raises(ValidationError, match="exactly 20 digits"):
        oin_validator("0000000100321434500")
