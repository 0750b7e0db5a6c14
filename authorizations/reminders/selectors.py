"""Reads for the reminder job: what is due, and who manages what. Set-based, indexed."""

import datetime
from collections import defaultdict
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.db.models import Exists, OuterRef

from notifications.models import RenewalReminder
from organizations.models import Membership
from reconi.levels import AssuranceLevel
from users.models import Means, User

from ..models import Authorization

Stage = RenewalReminder.Stage
Target = RenewalReminder.Target


def stage_windows(today: datetime.date) -> list[tuple[str, datetime.date, datetime.date]]:
    """(stage, first, last) expiry dates per stage; the windows do not overlap.

    Only the stage a date falls in now is due: something expiring in 20 days gets
    the one-month reminder and never, belatedly, the two-month one.
    """
    week = today + relativedelta(weeks=1)
    month = today + relativedelta(months=1)
    two_months = today + relativedelta(months=2)
    one_day = datetime.timedelta(days=1)
    return [
        (Stage.ONE_WEEK.value, today, week),
        (Stage.ONE_MONTH.value, week + one_day, month),
        (Stage.TWO_MONTHS.value, month + one_day, two_months),
    ]


@dataclass(frozen=True)
class DueItem:
    target: str
    stage: str
    obj: Authorization | Means

    @property
    def key(self) -> str:
        return RenewalReminder.make_key(self.target, self.obj.pk, self.obj.valid_until, self.stage)

    @property
    def user_id(self) -> int:
        return self.obj.user_id if self.target == Target.AUTHORIZATION else self.obj.owner_id

    @property
    def user(self) -> User:
        return self.obj.user if self.target == Target.AUTHORIZATION else self.obj.owner


def _not_reminded(target: str, stage: str):
    return ~Exists(
        RenewalReminder.objects.filter(
            target=target, object_id=OuterRef("pk"), valid_until=OuterRef("valid_until"), stage=stage
        )
    )


def reminders_due(*, today: datetime.date) -> list[DueItem]:
    """Authorizations and means whose current stage has not been reminded yet.

    One range query per stage on the ``valid_until`` indexes, with an anti-join on
    the reminder ledger's unique index.
    """
    items: list[DueItem] = []
    for stage, first, last in stage_windows(today):
        authorizations = (
            Authorization.objects.filter(revoked_at__isnull=True, valid_until__range=(first, last))
            .filter(_not_reminded(Target.AUTHORIZATION, stage))
            .select_related("user", "organization", "service", "provider")
            .order_by("valid_until", "pk")
        )
        items.extend(DueItem(Target.AUTHORIZATION.value, stage, a) for a in authorizations)
        means = (
            Means.objects.filter(status=Means.Status.ACTIVE, valid_until__range=(first, last))
            .filter(_not_reminded(Target.MEANS, stage))
            .select_related("owner")
            .order_by("valid_until", "pk")
        )
        items.extend(DueItem(Target.MEANS.value, stage, m) for m in means)
    return items


def managers_of(*, organization_ids, today: datetime.date) -> dict[int, list[User]]:
    """Working managers per organisation, the three conditions of ``Organization.objects.managed_by``.

    The guardian permission, a manager role that has not ended, and the manager's own
    active means at the role's level or higher (rule 11) — in three queries for any
    number of organisations instead of three per manager.
    """
    from django.contrib.contenttypes.models import ContentType
    from guardian.models import UserObjectPermission

    from organizations.models import Organization

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
