"""Validators for Dutch organisation identifiers."""

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

kvk_validator = RegexValidator(r"^\d{8}$", _("A KvK number has exactly 8 digits."), code="kvk")
branch_validator = RegexValidator(
    r"^\d{12}$", _("A branch number (vestigingsnummer) has exactly 12 digits."), code="branch"
)
oin_validator = RegexValidator(r"^\d{20}$", _("An OIN has exactly 20 digits."), code="oin")


def rsin_is_valid(value: str) -> bool:
    """The elfproef: weights 9..2 and -1 over the digits; the sum divides by 11."""
    if len(value) != 9 or not value.isdigit() or value == "000000000":
        return False
    weights = [9, 8, 7, 6, 5, 4, 3, 2, -1]
    return sum(int(d) * w for d, w in zip(value, weights, strict=True)) % 11 == 0


def validate_rsin(value: str) -> None:
    if not rsin_is_valid(value):
        raise ValidationError(
            _("%(value)s is not a valid RSIN: it needs 9 digits that pass the elfproef."),
            code="rsin",
            params={"value": value},
        )
