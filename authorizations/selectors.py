"""Reads about authorizations, starting from what the acting user may see."""

import datetime
from dataclasses import dataclass, field

from dateutil.relativedelta import relativedelta
from django.db.models import Count, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from organizations.models import Membership, Organization
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


# --- The Manage tab's Permissions pages (overview and list) -------------------------------------

# "Expiring" means: not revoked, and the end date falls within the next two months (rule 14's first reminder).
EXPIRING_MONTHS = 2
CHART_MONTHS = 12


def expiring_until(on: datetime.date) -> datetime.date:
    return on + relativedelta(months=EXPIRING_MONTHS)


def authorizations_managed_by(*, user, on: datetime.date | None = None):
    """Every authorization of the organisations ``user`` manages today, with its status annotated."""
    on = on or timezone.localdate()
    return (
        Authorization.objects.filter(organization__in=Organization.objects.managed_by(user, on))
        .with_status(on)
        .select_related("user", "organization", "service__provider", "provider")
    )


def _user_word(word: str) -> Q:
    return Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(email__icontains=word)


def user_search(users, text: str):
    """``users`` narrowed to those whose name or email matches every word of ``text``."""
    for word in text.split():
        users = users.filter(_user_word(word))
    return users


def users_linked_to(*, organizations):
    """The people linked to any of ``organizations`` (a queryset), once each, sorted by name."""
    from organizations.models import Membership
    from users.models import User

    return User.objects.filter(
        pk__in=Membership.objects.filter(organization__in=organizations).values("user")
    ).order_by("last_name", "first_name", "email")


def _search(queryset, text: str, organization_ids: list[int]):
    """Every word must match the user's name or email, or the service's (or provider's) name.

    The matching people of these organisations, services and providers are found first
    (small sets), and the authorizations filtered on their ids: one hashed lookup per
    row instead of six ``UPPER() LIKE`` on every joined row, and no search over the
    people of other organisations.
    """
    from users.models import User

    from .models import ServiceProvider

    members = User.objects.filter(memberships__organization_id__in=organization_ids)
    for word in text.split():
        users = members.filter(_user_word(word)).values("pk")
        services = Service.objects.filter(Q(name__icontains=word) | Q(provider__name__icontains=word)).values("pk")
        providers = ServiceProvider.objects.filter(name__icontains=word).values("pk")
        queryset = queryset.filter(Q(user__in=users) | Q(service__in=services) | Q(provider__in=providers))
    return queryset


def authorization_list(*, organization_ids: list[int], filters: dict | None = None, on: datetime.date | None = None):
    """The Permissions list of these organisations (the ids the manager manages, worked out
    once per request): pending and active by default, sorted by expiry.

    ``filters`` holds cleaned values: organization, user, user_q (words of the user's
    name or email), level, branch (a branch number), status, q, show_inactive, expiring (bool) and month (a date
    in the month of expiry). A chosen status wins over show_inactive.

    Every filter is a condition on the authorization row itself (or a small id set), so
    that the covering index ``authz_org_list`` serves the sort and the filters; page
    through it with ``ids_only`` and ``in_order``: sort ids, then join the rows shown.
    """
    on = on or timezone.localdate()
    filters = filters or {}
    queryset = Authorization.objects.filter(organization_id__in=organization_ids)
    if filters.get("organization"):
        queryset = queryset.filter(organization=filters["organization"])
    if filters.get("user"):
        queryset = queryset.filter(user=filters["user"])
    if filters.get("user_q"):
        from users.models import User

        members = User.objects.filter(memberships__organization_id__in=organization_ids)
        queryset = queryset.filter(user__in=user_search(members, filters["user_q"]).values("pk"))
    if filters.get("level"):
        queryset = queryset.filter(level=filters["level"])
    if filters.get("branch"):
        queryset = queryset.filter(branch_number=filters["branch"])
    if filters.get("status"):
        queryset = queryset.with_status_in([filters["status"]], on)
    elif not filters.get("show_inactive"):
        # Pending or active: not revoked and not yet ended (a pending one ends after it starts).
        queryset = queryset.filter(revoked_at__isnull=True, valid_until__gte=on)
    if filters.get("expiring"):
        queryset = queryset.filter(revoked_at__isnull=True, valid_until__gte=on, valid_until__lte=expiring_until(on))
    if filters.get("month"):
        start = filters["month"].replace(day=1)
        queryset = queryset.filter(
            revoked_at__isnull=True, valid_until__gte=max(start, on), valid_until__lt=start + relativedelta(months=1)
        )
    if filters.get("q"):
        queryset = _search(queryset, filters["q"], organization_ids)
    return queryset.order_by("valid_until", "id")


def ids_only(queryset):
    """The sorted ids of a list: what pagination counts and slices, without joining a row."""
    return queryset.values_list("id", flat=True)


def in_order(ids: list[int], on: datetime.date | None = None) -> list[Authorization]:
    """The authorizations ``ids``, joined with what a row shows, in the order of ``ids``."""
    rows = (
        Authorization.objects.filter(pk__in=ids)
        .with_status(on)
        .select_related("user", "organization", "service__provider", "provider")
        .in_bulk()
    )
    return [rows[pk] for pk in ids if pk in rows]


@dataclass
class OrganizationOverview:
    """The numbers of one managed organisation on the overview page."""

    organization: Organization
    users: int = 0
    means: dict = field(default_factory=dict)  # level -> active means of linked users
    authorizations: dict = field(default_factory=dict)  # (status, level) -> count
    expiring: int = 0
    months: list = field(default_factory=list)  # [(first day of month, expiring that month)], 12 entries

    def count(self, status: str, level: str) -> int:
        return self.authorizations.get((status, level), 0)

    def status_total(self, status: str) -> int:
        return sum(n for (s, _level), n in self.authorizations.items() if s == status)

    def level_total(self, level: str) -> int:
        return sum(n for (_status, lv), n in self.authorizations.items() if lv == level)

    @property
    def total(self) -> int:
        return sum(self.authorizations.values())


def manage_overview(*, user, on: datetime.date | None = None) -> list[OrganizationOverview]:
    """Per managed organisation: users, means per level, authorizations per status and level,
    expiring within two months and expiries per month for a year. A fixed number of queries,
    however many organisations and rows."""
    on = on or timezone.localdate()
    organizations = list(Organization.objects.managed_by(user, on).order_by("name"))
    overviews = {o.pk: OrganizationOverview(organization=o) for o in organizations}
    ids = list(overviews)
    if not ids:
        return []

    users = (
        Membership.objects.filter(organization__in=ids)
        .values_list("organization")
        .annotate(n=Count("user", distinct=True))
        .order_by()
    )
    for organization_id, n in users:
        overviews[organization_id].users = n

    means = (
        Means.objects.active(on)
        .filter(owner__memberships__organization__in=ids)
        .values_list("owner__memberships__organization", "level")
        .annotate(n=Count("id"))
        .order_by()
    )
    for organization_id, level, n in means:
        overviews[organization_id].means[level] = n

    authorizations = Authorization.objects.filter(organization__in=ids)
    per_status = (
        authorizations.with_status(on)
        .values_list("organization", "status_value", "level")
        .annotate(n=Count("id"))
        .order_by()
    )
    for organization_id, status, level, n in per_status:
        overviews[organization_id].authorizations[(status, level)] = n

    expiring = (
        authorizations.filter(revoked_at__isnull=True, valid_until__gte=on, valid_until__lte=expiring_until(on))
        .values_list("organization")
        .annotate(n=Count("id"))
        .order_by()
    )
    for organization_id, n in expiring:
        overviews[organization_id].expiring = n

    first_month = on.replace(day=1)
    month_starts = [first_month + relativedelta(months=i) for i in range(CHART_MONTHS)]
    per_month = (
        authorizations.filter(
            revoked_at__isnull=True,
            valid_until__gte=on,
            valid_until__lt=first_month + relativedelta(months=CHART_MONTHS),
        )
        .annotate(month=TruncMonth("valid_until"))
        .values_list("organization", "month")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict = {}
    for organization_id, month, n in per_month:
        counts[(organization_id, month)] = n
    for overview in overviews.values():
        overview.months = [(month, counts.get((overview.organization.pk, month), 0)) for month in month_starts]
    return list(overviews.values())


# Request new permissions (the wizard in views/wizard.py) ------------------------------

WIZARD_SEARCH_LIMIT = 50


def wizard_linked_users(*, organization: Organization):
    """The users a manager of ``organization`` may authorize there: those linked to it (rule 9).

    Each carries ``means_level``: the level of their active means, or None.
    """
    from django.db.models import OuterRef, Subquery

    from users.models import User

    means_level = Means.objects.active().filter(owner=OuterRef("pk")).values("level")[:1]
    return (
        User.objects.filter(memberships__organization=organization)
        .annotate(means_level=Subquery(means_level))
        .order_by("last_name", "first_name", "email")
    )


def wizard_unlinked_users(*, manager, organization: Organization):
    """People linked to the manager's OTHER organisations but not to ``organization``.

    Never anyone of an organisation the manager does not manage: the manager
    only asks to link them (a link request), never authorizes them directly.
    """
    from organizations.models import Membership
    from users.models import User

    others = Organization.objects.managed_by(manager).exclude(pk=organization.pk)
    return (
        User.objects.filter(pk__in=Membership.objects.filter(organization__in=others).values("user"))
        .exclude(pk__in=Membership.objects.filter(organization=organization).values("user"))
        .order_by("last_name", "first_name", "email")
    )


def service_search(*, q: str, limit: int = WIZARD_SEARCH_LIMIT):
    """Services by name, provider (name or OIN) or service id / ServiceUUID."""
    import uuid

    from django.db.models import Q

    q = (q or "").strip()
    if not q:
        return Service.objects.none()
    query = Q(name__icontains=q) | Q(provider__name__icontains=q) | Q(provider__oin=q) | Q(service_id__icontains=q)
    try:
        query |= Q(uuid=uuid.UUID(q))
    except ValueError:
        pass
    return Service.objects.filter(query).select_related("provider").order_by("provider__name", "name")[:limit]


def service_provider_search(*, q: str, services=(), limit: int = WIZARD_SEARCH_LIMIT):
    """Providers matching ``q`` by name or OIN, plus the providers of ``services``; "all" gives every one."""
    from django.db.models import Q

    from .models import ServiceProvider

    q = (q or "").strip()
    if not q:
        return ServiceProvider.objects.none()
    if q.lower() == "all":
        return ServiceProvider.objects.order_by("name")[:limit]
    query = Q(name__icontains=q) | Q(oin=q) | Q(pk__in={service.provider_id for service in services})
    return ServiceProvider.objects.filter(query).order_by("name")[:limit]


def identical_authorization_in_force(
    *, user, organization: Organization, level: str, scope: str, service, provider, branch_number: str = ""
):
    """An authorization in force with exactly this target, level and branch (granting it again would duplicate it)."""
    return (
        Authorization.objects.in_force()
        .filter(user=user, organization=organization, level=level, scope=scope, branch_number=branch_number or "")
        .filter(service=service, provider=provider)
    )
