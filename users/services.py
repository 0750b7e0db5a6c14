import datetime

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from reconi.roles import require_support
from reconi.rules import as_period, end_date_refusal, period_refusal, refuse, unknown_level_refusal
from reconi.services import service

from .models import Means, User
from .rules import upgrade_level_refusal


def check_period(years: int | str) -> int:
    """The period as an int, or a ValidationError with the rule's message."""
    refuse(period_refusal(years))
    return as_period(years)


@service
def means_issue(
    *,
    actor: User,
    owner: User,
    level: str,
    type: str = Means.Type.PASSWORD_TOTP,
    years: int = 3,
    valid_from: datetime.date | None = None,
    organization=None,
) -> Means:
    """Issue a personal means to ``owner`` (support fulfils a request)."""
    require_support(actor)
    years = check_period(years)
    refuse(unknown_level_refusal(level))
    # Lock the person so two fulfilments cannot both issue an active means.
    User.objects.select_for_update().get(pk=owner.pk)
    if Means.objects.active().filter(owner=owner).exists():
        raise ValidationError(_("%(person)s already has an active means; upgrade it instead.") % {"person": owner})
    # A means past its end date steps aside for the new one (one active per person).
    Means.objects.filter(owner=owner, status=Means.Status.ACTIVE).update(status=Means.Status.REPLACED)
    today = timezone.localdate()
    valid_from = valid_from or today
    refuse(end_date_refusal(end=valid_from + relativedelta(years=years), today=today))
    means = Means.objects.create(
        owner=owner,
        level=level,
        type=type,
        valid_from=valid_from,
        valid_until=valid_from + relativedelta(years=years),
        status=Means.Status.ACTIVE,
    )
    audit_record(
        actor=actor,
        action="means.issue",
        obj=means,
        organization=organization,
        data={"owner": owner.email, "level": level, "valid_until": means.valid_until.isoformat()},
    )
    return means


@service
def means_upgrade(
    *, actor: User, means: Means, level: str, organization=None, identity_check: dict | None = None
) -> Means:
    """Raise a means to a higher level; the person keeps their authorizations."""
    require_support(actor)
    means = Means.objects.select_for_update().get(pk=means.pk)
    refuse(upgrade_level_refusal(level=level, means_level=means.level))
    if not means.is_active_on():
        raise ValidationError(_("Only an active means can be upgraded."))
    old = means.level
    means.level = level
    means.save(update_fields=["level"])
    audit_record(
        actor=actor,
        action="means.upgrade",
        obj=means,
        organization=organization,
        data={"owner": means.owner.email, "from": old, "to": level, "identity_check": identity_check or {}},
    )
    return means
