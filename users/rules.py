"""Rules on a person's means, and on renewing one: pure functions that return a ``Refusal`` or None.

The services raise them; the forms and pages show them. Nothing here writes to the
database. The periods themselves (1, 3 or 5 years, never more than five years
ahead) are ``reconi.rules``; the manager's ceiling is ``organizations.rules``.
"""

import datetime
from decimal import Decimal

from django.utils.translation import gettext as _

from reconi.levels import AssuranceLevel
from reconi.rules import (
    VALID_PERIODS,
    Refusal,
    end_date_refusal,
    new_end,
    period_refusal,
    periods_that_fit,
    unknown_level_refusal,
)

from .models import Means

__all__ = ["VALID_PERIODS", "Refusal"]

# Price of one year of a renewed means per level, in euros excluding VAT. The
# renewal page and the form always show the price line, also when it is zero.
PRICE_PER_YEAR = {
    AssuranceLevel.EH2: Decimal("0.00"),
    AssuranceLevel.EH2_PLUS: Decimal("0.00"),
    AssuranceLevel.EH3: Decimal("0.00"),
    AssuranceLevel.EH4: Decimal("0.00"),
}


def no_means_refusal(*, person) -> Refusal:
    return Refusal("no_means", _("%(person)s has no active means.") % {"person": person}, field="user")


def upgrade_level_refusal(*, level: str, means_level: str) -> Refusal | None:
    """An upgrade raises a means to a higher level; the person keeps their authorizations."""
    refusal = unknown_level_refusal(level)
    if refusal is None and AssuranceLevel.rank(level) <= AssuranceLevel.rank(means_level):
        refusal = Refusal(
            "not_higher",
            _("An upgrade must be to a level above %(level)s.") % {"level": means_level},
            field="level",
        )
    return refusal


def renewal_start(*, valid_until: datetime.date, today: datetime.date) -> datetime.date:
    """Where a renewal counts from: the current end, or today when that has passed."""
    return max(valid_until, today)


def renewal_end(*, valid_until: datetime.date, years: int, today: datetime.date) -> datetime.date:
    return new_end(current_end=valid_until, years=years, today=today)


def renewal_periods(*, valid_until: datetime.date, today: datetime.date) -> list[int]:
    """The periods offered: those that fit."""
    return periods_that_fit(current_end=valid_until, today=today)


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
    refusal = means_renewable_refusal(means) or period_refusal(years)
    if refusal is not None:
        return refusal
    return end_date_refusal(end=renewal_end(valid_until=means.valid_until, years=years, today=today), today=today)


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
    """A manager renews means at or below their own manager level."""
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
    """Above the manager's own level the manager cannot sign: the representative signs and
    support checks the holder's identity in person before the upgrade."""
    return manager_level is None or not AssuranceLevel.is_at_most(to_level, manager_level)
