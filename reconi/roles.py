"""Who is who. One place for the role checks the services and views share."""

from django.core.exceptions import PermissionDenied

SUPPORT_GROUP = "Support"
SUPPORT_PERMISSION = "organizations.act_as_support"


def is_support(user) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and user.is_staff
        and user.has_perm(SUPPORT_PERMISSION)
    )


def manager_level_for(user, organization) -> str | None:
    """The user's working manager level in the organisation, or None (rules 3, 9, 11)."""
    from organizations.models import Membership, Organization

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


def require_support(actor) -> None:
    if not is_support(actor):
        raise PermissionDenied("Only support staff can do this.")
