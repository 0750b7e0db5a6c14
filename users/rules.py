"""Rules on a person's means: pure functions that return a ``Refusal`` or None."""

from django.utils.translation import gettext as _

from reconi.levels import AssuranceLevel
from reconi.rules import Refusal, unknown_level_refusal


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
