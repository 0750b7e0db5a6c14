"""Who manages what: the manager role checks the services and views share (rules 3, 9, 11)."""

from django.core.exceptions import PermissionDenied

from reconi.roles import is_support

from .models import Membership, Organization


def manager_level_for(user, organization) -> str | None:
    """The user's working manager level in the organisation, or None (rules 3, 9, 11)."""
    if not Organization.objects.managed_by(user).filter(pk=organization.pk).exists():
        return None
    return (
        Membership.objects.filter(user=user, organization=organization).values_list("manager_level", flat=True).first()
    )


def require_manager_or_support(actor, organization) -> str | None:
    """Return the manager's level ceiling, None for support staff; else PermissionDenied."""
    level = manager_level_for(actor, organization)
    if level is not None:
        return level
    if is_support(actor):
        return None
    raise PermissionDenied("You do not manage this organisation.")
