"""Reads that span the domain apps for the pages: scoped to what the acting manager may see."""

import datetime

from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from authorizations.models import Authorization
from organizations.models import Membership, Organization
from users.models import Means, User


def people_of_managed_organizations(
    *, user, filters: dict | None = None, organizations: QuerySet | None = None, on: datetime.date | None = None
) -> QuerySet:
    """The people linked to the organisations ``user`` manages, with what the Users page shows.

    Each person carries ``means_level``, ``means_valid_until``, ``means_status`` (their latest
    means that was not replaced), ``has_active_means``, ``active_authorizations`` (in force
    today, in the managed organisations only) and ``managed_memberships``.

    ``filters`` holds cleaned values: organization, level, status ("active", "expired" or "none":
    the means) and q.
    ``organizations`` saves recomputing ``Organization.objects.managed_by(user)`` when the
    caller has it already (the request caches it).

    Membership and the authorization count are correlated subqueries, not joins: a join over
    every authorization plus ``GROUP BY``/``DISTINCT`` cost ~150 ms per query at 100,000
    authorizations (bench/manage_pages.py); the page query now counts only the 50 people shown,
    and the paginator's COUNT drops the unused count annotation altogether.
    """
    managed = organizations if organizations is not None else Organization.objects.managed_by(user, on)
    on = on or timezone.localdate()
    filters = filters or {}
    latest_means = (
        Means.objects.filter(owner=OuterRef("pk")).exclude(status=Means.Status.REPLACED).order_by("-valid_until")
    )
    active_means = Means.objects.active(on).filter(owner=OuterRef("pk"))
    active_authorizations = (
        Authorization.objects.in_force(on)
        .filter(user=OuterRef("pk"), organization__in=managed)
        .order_by()
        .values("user")
        .annotate(count=Count("pk"))
        .values("count")
    )
    people = (
        User.objects.filter(pk__in=Membership.objects.filter(organization__in=managed).values("user"))
        .annotate(
            means_level=Subquery(latest_means.values("level")[:1]),
            means_valid_until=Subquery(latest_means.values("valid_until")[:1]),
            means_status=Subquery(latest_means.values("status")[:1]),
            has_active_means=Exists(active_means),
            active_authorizations=Coalesce(
                Subquery(active_authorizations, output_field=IntegerField()), Value(0), output_field=IntegerField()
            ),
        )
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=Membership.objects.filter(organization__in=managed).select_related("organization"),
                to_attr="managed_memberships",
            )
        )
        .order_by("last_name", "first_name", "email")
    )
    if filters.get("organization"):
        people = people.filter(pk__in=Membership.objects.filter(organization=filters["organization"]).values("user"))
    if filters.get("level"):
        people = people.filter(means_level=filters["level"], has_active_means=True)
    status = filters.get("status")
    if status == "active":
        people = people.filter(has_active_means=True)
    elif status == "expired":
        people = people.filter(has_active_means=False, means_level__isnull=False)
    elif status == "none":
        people = people.filter(means_level__isnull=True)
    for word in (filters.get("q") or "").split():
        people = people.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(email__icontains=word)
            | Q(initials__icontains=word)
        )
    return people
