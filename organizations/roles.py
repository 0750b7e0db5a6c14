"""Who manages what: the manager role checks the services and views share (rules 3, 9, 11)."""

import datetime
from collections import defaultdict

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from guardian.models import UserObjectPermission

from reconi.levels import AssuranceLevel
from reconi.roles import is_support
from users.models import Means, User

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


def manager_level_over(*, actor: User, owner: User) -> tuple[str | None, object | None]:
    """The actor's highest working manager level over ``owner`` and the organisation it holds it in.

    Only organisations the actor manages today and ``owner`` is linked to count (rule 9).
    """
    shared = Organization.objects.managed_by(actor).filter(memberships__user=owner)
    roles = list(
        Membership.objects.filter(user=actor, organization__in=shared)
        .select_related("organization")
        .order_by("organization__name", "pk")
    )
    if not roles:
        return None, None
    best = max(roles, key=lambda membership: AssuranceLevel.rank(membership.manager_level))
    return best.manager_level, best.organization


def managers_of(*, organization_ids, today: datetime.date) -> dict[int, list[User]]:
    """Working managers per organisation, the three conditions of ``Organization.objects.managed_by``.

    The guardian permission, a manager role that has not ended, and the manager's own
    active means at the role's level or higher (rule 11) — in three queries for any
    number of organisations instead of three per manager.
    """
    organization_ids = list(organization_ids)
    if not organization_ids:
        return {}
    roles = list(
        Membership.objects.filter(
            organization_id__in=organization_ids,
            manager_level__isnull=False,
            manager_until__gte=today,
            user__is_active=True,
        ).values_list("user_id", "organization_id", "manager_level")
    )
    if not roles:
        return {}
    permitted = set(
        UserObjectPermission.objects.filter(
            permission__codename="manage_organization",
            content_type=ContentType.objects.get_for_model(Organization),
            object_pk__in=[str(pk) for pk in organization_ids],
            user_id__in={user_id for user_id, _, _ in roles},
        ).values_list("user_id", "object_pk")
    )
    means_level = dict(
        Means.objects.active(today).filter(owner_id__in={u for u, _, _ in roles}).values_list("owner_id", "level")
    )
    keep = [
        (user_id, org_id)
        for user_id, org_id, level in roles
        if (user_id, str(org_id)) in permitted
        and user_id in means_level
        and AssuranceLevel.is_at_most(level, means_level[user_id])
    ]
    users = User.objects.in_bulk({user_id for user_id, _ in keep})
    result: dict[int, list[User]] = defaultdict(list)
    for user_id, org_id in sorted(keep, key=lambda pair: (users[pair[0]].email, pair[1])):
        result[org_id].append(users[user_id])
    return dict(result)
