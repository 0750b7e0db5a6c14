"""Rules on the manager role and on branch numbers: pure functions that return a ``Refusal`` or None.

Who is a working manager today is not a rule function but one queryset,
``Membership.objects.working_managers(on=...)``; every guard, selector, digest
and decision asks it.
"""

import datetime
import re

from django.utils.translation import gettext as _

from reconi.levels import AssuranceLevel
from reconi.rules import Refusal
from reconi.validators import branch_validator
from users.rules import no_means_refusal


def manager_ceiling_refusal(*, level: str, manager_level: str | None) -> Refusal | None:
    """Rule 3: a manager grants (authorizations, means) only at or below the level of
    its own manager role, and manager rights at level L need a means of level L
    (``manager_means_refusal``). ``manager_level`` None: support staff, no ceiling."""
    if manager_level is None or AssuranceLevel.is_at_most(level, manager_level):
        return None
    return Refusal(
        "above_manager",
        _("%(level)s is above your own manager level (%(ceiling)s).") % {"level": level, "ceiling": manager_level},
        field="level",
    )


def manager_means_refusal(*, level: str, means_level: str | None, person) -> Refusal | None:
    """Manager rights at ``level`` need the person's own active means at exactly that level."""
    if means_level is None:
        return no_means_refusal(person=person)
    if means_level == level:
        return None
    return Refusal(
        "level_mismatch",
        _(
            "Manager rights at %(level)s need a means of level %(level)s; %(person)s has %(means)s. "
            "Choose %(means)s, or upgrade the means to %(level)s first."
        )
        % {"level": level, "person": person, "means": means_level},
        field="level",
    )


def manager_until_refusal(*, until: datetime.date, means_until: datetime.date, today: datetime.date) -> Refusal | None:
    """A manager role cannot outlive the manager's own means, nor end in the past."""
    if until < today:
        return Refusal("until_past", _("A manager role cannot end in the past."), field="until")
    if until > means_until:
        return Refusal(
            "after_means",
            _("Manager rights end with the manager's own means on %(date)s.") % {"date": means_until.isoformat()},
            field="until",
        )
    return None


# Branch numbers (vestigingsnummers): an authorization may be restricted to one known branch of
# its organisation; a service that refuses branch restrictions cannot get one.

BRANCH_PATTERN = re.compile(r"[0-9]{12}")


def branch_format_refusal(number: str) -> Refusal | None:
    if not BRANCH_PATTERN.fullmatch(number or ""):
        return Refusal("branch_format", str(branch_validator.message))
    return None


def branch_restriction_refusal(
    *, branch_number: str, known_branches, organization_name: str, scope: str, service=None
) -> Refusal | None:
    """May an authorization of this scope (and service) be restricted to ``branch_number``?

    ``known_branches`` holds the organisation's known branch numbers; '' means no restriction.
    """
    if not branch_number:
        return None
    refusal = branch_format_refusal(branch_number)
    if refusal is not None:
        return refusal
    if branch_number not in set(known_branches):
        return Refusal(
            "branch_unknown",
            _("%(number)s is not a known branch of %(organization)s. Support or a manager adds it under Branches.")
            % {"number": branch_number, "organization": organization_name},
        )
    if scope == "service" and service is not None and service.refuses_branch_restriction:
        return Refusal(
            "branch_refused",
            _("%(service)s does not accept a restriction to one branch; grant it for the whole organisation.")
            % {"service": service.name},
        )
    return None
