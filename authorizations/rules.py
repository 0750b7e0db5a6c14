"""Rules on authorizations: pure functions that return a ``Refusal`` or None.

The services raise them (``reconi.rules.refuse``); the permission pages, the
wizard, the CSV preview and the admin show the same messages. The validity
periods are shared with means: ``reconi.rules``; the manager's ceiling:
``organizations.rules``.
"""

import datetime

from django.utils.translation import gettext as _

from organizations.rules import manager_ceiling_refusal
from reconi.levels import AssuranceLevel
from reconi.rules import Refusal, unknown_level_refusal
from users.rules import no_means_refusal

from .models import Authorization, AuthorizationStatus


def means_level_refusal(*, level: str, means_level: str | None, person) -> Refusal | None:
    """Rule 1: an authorization's level is at most the level of the user's active means."""
    if means_level is None:
        return no_means_refusal(person=person)
    if AssuranceLevel.is_at_most(level, means_level):
        return None
    return Refusal(
        "above_means",
        _("%(level)s is above the level of %(person)s's means (%(means)s).")
        % {"level": level, "person": person, "means": means_level},
        field="level",
    )


def service_minimum_refusal(*, level: str, service_name: str, minimum: str) -> Refusal | None:
    """Rule 2: an authorization for a specific service has at least that service's minimum level."""
    if AssuranceLevel.is_at_most(minimum, level):
        return None
    return Refusal(
        "below_service_minimum",
        _("%(service)s needs at least %(minimum)s; %(level)s is too low.")
        % {"service": service_name, "minimum": minimum, "level": level},
        field="level",
    )


def level_refusal(
    *, level: str, person, means_level: str | None, manager_level: str | None, service=None
) -> Refusal | None:
    """The level rules together, in the order a manager meets them: 1, 3, then 2 for one service."""
    refusal = (
        unknown_level_refusal(level)
        or means_level_refusal(level=level, means_level=means_level, person=person)
        or manager_ceiling_refusal(level=level, manager_level=manager_level)
    )
    if refusal is None and service is not None:
        refusal = service_minimum_refusal(level=level, service_name=service.name, minimum=service.minimum_level)
    return refusal


def scope_refusal(*, scope: str, service=None, provider=None) -> Refusal | None:
    """A scope names its target: one service, or one provider, or none (all at the level)."""
    if scope == Authorization.Scope.SERVICE and service is None:
        return Refusal("no_service", _("Choose a service."), field="service")
    if scope == Authorization.Scope.PROVIDER and provider is None:
        return Refusal("no_provider", _("Choose a service provider."), field="provider")
    if scope not in Authorization.Scope.values:
        return Refusal("bad_scope", _("Unknown scope."), field="scope")
    return None


def not_linked_refusal(*, person, organization_name: str) -> Refusal:
    return Refusal(
        "not_linked",
        _("%(person)s is not linked to %(organization)s; link them first.")
        % {"person": person, "organization": organization_name},
        field="user",
    )


def in_force_refusal(*, person) -> Refusal:
    """An identical authorization (user, organisation, scope, level) already in force."""
    return Refusal(
        "duplicate",
        _("%(person)s already has this authorization in force; renew it from the list instead.") % {"person": person},
    )


def start_refusal(*, valid_from: datetime.date, today: datetime.date) -> Refusal | None:
    if valid_from >= today:
        return None
    return Refusal("backdated", _("An authorization cannot start before today."), field="valid_from")


def revoke_refusal(*, status: str) -> Refusal | None:
    """Rule 7: revoking is immediate, and once."""
    if status != AuthorizationStatus.REVOKED:
        return None
    return Refusal("already_revoked", _("This authorization was already revoked."))


def renew_refusal(*, status: str) -> Refusal | None:
    """Rule 8: a running (or pending) authorization is renewed; an expired one is reactivated,
    which starts a new period (``reactivate_refusal``); a revoked one only requested anew."""
    if status == AuthorizationStatus.REVOKED:
        return Refusal("revoked", _("A revoked authorization cannot be renewed or reactivated; request a new one."))
    if status == AuthorizationStatus.EXPIRED:
        return Refusal("expired", _("This authorization has expired; activate it instead, which starts a new period."))
    return None


def reactivate_refusal(*, status: str) -> Refusal | None:
    if status == AuthorizationStatus.REVOKED:
        return renew_refusal(status=status)
    if status != AuthorizationStatus.EXPIRED:
        return Refusal("not_expired", _("Only an expired authorization can be activated."))
    return None


def stale_refusal(*, seen_until: datetime.date | None, current_until: datetime.date) -> Refusal | None:
    """The form carries the end date the manager saw; a stale or repeated submit changes nothing."""
    if seen_until is None or seen_until == current_until:
        return None
    return Refusal(
        "stale",
        _(
            "This authorization was changed meanwhile and now runs until %(date)s; nothing was changed. "
            "Check it and try again if needed."
        )
        % {"date": current_until.isoformat()},
    )
