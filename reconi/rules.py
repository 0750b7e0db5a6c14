"""What every rule module shares, and the rule on validity periods that means and authorizations share.

A rule is a pure function: it takes plain values and returns a ``Refusal`` (a code
and a translated message) or None. Services raise it (``refuse``); forms, the
permissions wizard, the CSV preview and the admin show the very same message.
The rules live one module a topic: ``reconi/rules.py`` (validity periods),
``organizations/rules.py`` (the manager role), ``authorizations/rules.py``
(levels and the life of an authorization). A rule's message is written only
there (``tests/rules/test_rule_homes.py`` fails on a second copy).
"""

import datetime
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from reconi.levels import AssuranceLevel


@dataclass(frozen=True)
class Refusal:
    """Why something is not allowed: a stable ``code`` and the message for people.

    ``field`` names the form field the message belongs to, when there is one.
    """

    code: str
    message: str
    field: str | None = None

    def __str__(self) -> str:
        return self.message

    def error(self) -> ValidationError:
        if self.field:
            return ValidationError({self.field: ValidationError(self.message, code=self.code)})
        return ValidationError(self.message, code=self.code)


def refuse(*refusals: Refusal | None) -> None:
    """Raise the first refusal as a ValidationError; nothing when every rule allows."""
    for refusal in refusals:
        if refusal is not None:
            raise refusal.error()


# Validity periods ----------------------------------------------------------------------

VALID_PERIODS = (1, 3, 5)
MAX_YEARS_AHEAD = 5


def period_label(years: int) -> str:
    return ngettext("%(years)d year", "%(years)d years", years) % {"years": years}


def period_choices(periods=VALID_PERIODS) -> list[tuple[int, str]]:
    return [(years, period_label(years)) for years in periods]


def as_period(value) -> int | None:
    """1, 3 or 5 from an int or the digits a form posts, else None (int() would take 1.5 or True)."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value not in VALID_PERIODS:
        return None
    return value


def period_refusal(value) -> Refusal | None:
    """Rule 5: a period is exactly 1, 3 or 5 years, and an end date is never more than
    five years after the day it is set (``end_date_refusal``, ``periods_that_fit``)."""
    if as_period(value) is None:
        return Refusal("invalid_period", _("Choose a period of 1, 3 or 5 years."), field="period")
    return None


def latest_end(today: datetime.date) -> datetime.date:
    return today + relativedelta(years=MAX_YEARS_AHEAD)


def new_end(*, current_end: datetime.date | None, years: int, today: datetime.date) -> datetime.date:
    """A renewal runs from the current end, or from today when there is none or it has passed."""
    start = current_end if current_end is not None and current_end >= today else today
    return start + relativedelta(years=years)


def periods_that_fit(*, current_end: datetime.date | None, today: datetime.date) -> list[int]:
    """The periods whose new end date stays within five years of today: the ones offered."""
    return [
        years
        for years in VALID_PERIODS
        if new_end(current_end=current_end, years=years, today=today) <= latest_end(today)
    ]


def end_date_refusal(*, end: datetime.date, today: datetime.date) -> Refusal | None:
    if end <= latest_end(today):
        return None
    return Refusal(
        "too_far_ahead",
        _("An end date can be at most five years ahead (until %(latest)s); %(end)s is too far.")
        % {"latest": latest_end(today).isoformat(), "end": end.isoformat()},
        field="period",
    )


# Levels --------------------------------------------------------------------------------


def unknown_level_refusal(level) -> Refusal | None:
    if level in AssuranceLevel.values:
        return None
    return Refusal("bad_level", _("Choose a level: EH2, EH2+, EH3 or EH4."), field="level")
