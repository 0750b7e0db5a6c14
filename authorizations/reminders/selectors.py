"""Reads for the reminder job: what is due, and who manages what. Set-based, indexed."""

import datetime
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.db.models import Exists, OuterRef

from notifications.models import RenewalReminder
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
