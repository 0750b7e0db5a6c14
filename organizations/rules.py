"""Branch numbers (vestigingsnummers), as pure functions.

An authorization may be restricted to one branch of its organisation: a 12-digit
number (format-checked, no elfproef) that is one of the organisation's known
branches, which support and the organisation's managers maintain. A service that
refuses branch restrictions (``Service.refuses_branch_restriction``) cannot get one.

Each function returns a refusal (code and message) or None: the services raise
it, the wizard and the forms show it.
"""

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

BRANCH_PATTERN = re.compile(r"[0-9]{12}")


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str

    def __str__(self) -> str:
        return self.message


def branch_format_refusal(number: str) -> Refusal | None:
    if not BRANCH_PATTERN.fullmatch(number or ""):
        return Refusal("branch_format", _("A branch number (vestigingsnummer) has exactly 12 digits."))
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
