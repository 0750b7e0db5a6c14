"""The rules of renewing a means, as pure functions.

Each returns a refusal (code and message) or nothing; the services raise it, the
forms and pages show it. Nothing here reads or writes the database.

Rule 5: a renewal extends by exactly 1, 3 or 5 years from the current end date, or
from today when the means has already expired, and an end date is never more than
five years after the day it is set: only the periods that fit are offered.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.utils.translation import gettext as _

from reconi.levels import AssuranceLevel

from .models import Means

VALID_PERIODS = (1, 3, 5)
MAX_YEARS_AHEAD = 5

# Price of one year of a renewed means per level, in euros excluding VAT. The
# renewal page and the form always show the price line, also when it is zero.
PRICE_PER_YEAR = {
    AssuranceLevel.EH2: Decimal("0.00"),
    AssuranceLevel.EH2_PLUS: Decimal("0.00"),
    AssuranceLevel.EH3: Decimal("0.00"),
    AssuranceLevel.EH4: Decimal("0.00"),
}


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str

    def __str__(self) -> str:
        return self.message


def renewal_start(*, valid_until: datetime.date, today: datetime.date) -> datetime.date:
    """Where a renewal counts from: the current end, or today when that has passed."""
    return max(valid_until, today)


def renewal_end(*, valid_until: datetime.date, years: int, today: datetime.date) -> datetime.date:
    return renewal_start(valid_until=valid_until, today=today) + relativedelta(years=years)


def renewal_periods(*, valid_until: datetime.date, today: datetime.date) -> list[int]:
    """The periods that fit under the five-year ceiling (rule 5)."""
    ceiling = today + relativedelta(years=MAX_YEARS_AHEAD)
    return [
        years for years in VALID_PERIODS if renewal_end(valid_until=valid_until, years=years, today=today) <= ceiling
    ]


def renewal_price(*, level: str, years: int) -> Decimal:
    return PRICE_PER_YEAR.get(level, Decimal("0.00")) * years


def means_renewable_refusal(means: Means) -> Refusal | None:
    """Can this means be renewed at all? Only a means in use (active, also past its end date)."""
    if means.status != Means.Status.ACTIVE:
        return Refusal(
            "not_renewable",
            _("This means is %(status)s and cannot be renewed; request a new means instead.")
            % {"status": means.get_status_display().lower()},
        )
    return None


def means_renewal_refusal(*, means: Means, years, today: datetime.date) -> Refusal | None:
    """Everything about one renewal of ``means`` by ``years`` on ``today``."""
    refusal = means_renewable_refusal(means)
    if refusal is not None:
        return refusal
    if isinstance(years, bool) or years not in VALID_PERIODS:
        return Refusal("invalid_period", _("Choose a period of 1, 3 or 5 years."))
    if years not in renewal_periods(valid_until=means.valid_until, today=today):
        return Refusal(
            "period_too_long",
            _("Renewing by %(years)s years would end more than five years from today; choose a shorter period.")
            % {"years": years},
        )
    return None


def means_renewed_meanwhile_refusal(*, means: Means, seen_valid_until: datetime.date) -> Refusal | None:
    """A renewal applies to the end date its requester saw; never twice."""
    if means.valid_until != seen_valid_until:
        return Refusal(
            "renewed_meanwhile",
            _("This means was renewed meanwhile and now runs until %(date)s; it was not renewed again.")
            % {"date": means.valid_until.isoformat()},
        )
    return None


def manager_may_renew_refusal(*, manager_level: str | None, means: Means) -> Refusal | None:
    """A manager renews means at or below their own manager level (rule 3)."""
    if manager_level is None:
        return Refusal("not_manager", _("You do not manage an organisation of this person."))
    if not AssuranceLevel.is_at_most(means.level, manager_level):
        return Refusal(
            "above_manager",
            _("The means of %(person)s is %(level)s, above your own manager level (%(ceiling)s).")
            % {"person": means.owner, "level": means.level, "ceiling": manager_level},
        )
    return None


# --- Upgrades --------------------------------------------------------------------------------------------------


def upgrade_levels(means_level: str) -> list[str]:
    """The levels a means of ``means_level`` can be raised to: every higher one. "Upgrade" is offered
    only while this is not empty."""
    return [level for level in AssuranceLevel.values if AssuranceLevel.rank(level) > AssuranceLevel.rank(means_level)]


def upgrade_needs_representative(*, to_level: str, manager_level: str | None) -> bool:
    """Above the manager's own level (rule 3) the manager cannot sign: the representative signs and
    support checks the holder's identity in person before the upgrade."""
    return manager_level is None or not AssuranceLevel.is_at_most(to_level, manager_level)
