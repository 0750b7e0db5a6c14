"""Reads about authorizations, starting from what the acting user may see."""

import datetime

from django.utils import timezone

from organizations.models import Organization
from users.models import Means

from .models import Authorization, Service


def user_may_use_service(
    *, user, organization: Organization, service: Service, level: str, on: datetime.date | None = None
) -> bool:
    """Would eHerkenning let ``user`` into ``service`` for ``organization`` at ``level``?

    Only authorizations in force count (rule 6), and never above the user's
    active means (rule 1).
    """
    from reconi.levels import AssuranceLevel

    on = on or timezone.localdate()
    means = Means.objects.active(on).filter(owner=user).first()
    if means is None or not AssuranceLevel.is_at_most(level, means.level):
        return False
    if not AssuranceLevel.is_at_most(service.minimum_level, level):
        return False
    candidates = (
        Authorization.objects.in_force(on)
        .filter(user=user, organization=organization, level__in=AssuranceLevel.at_least(level))
        .select_related("service")
    )
    return any(a.covers(service) and AssuranceLevel.is_at_most(a.level, means.level) for a in candidates)


def authorizations_of_user(*, user, on: datetime.date | None = None):
    return (
        Authorization.objects.filter(user=user)
        .with_status(on)
        .select_related("organization", "service__provider", "provider")
        .order_by("valid_until")
    )
