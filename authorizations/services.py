"""Every write to authorizations.

Each public service is one durable transaction (``reconi.services.service``): it
locks the rows it changes, reads them again under the lock, checks the rules
(``authorizations.rules``), writes, and records the audit event. A caller passes
what the manager saw (``expected_valid_until``), so a stale or repeated submit
changes nothing and says so.
"""

import datetime
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from notifications.services import email_queue
from organizations.models import Membership, Organization
from organizations.rules import branch_restriction_refusal
from reconi.roles import require_manager_or_support
from reconi.rules import Refusal, as_period, end_date_refusal, new_end, period_refusal, refuse
from reconi.services import service
from users.models import Means, User

from .models import Authorization, Service, ServiceProvider
from .rules import (
    in_force_refusal,
    level_refusal,
    not_linked_refusal,
    reactivate_refusal,
    renew_refusal,
    revoke_refusal,
    scope_refusal,
    stale_refusal,
    start_refusal,
)
from .selectors import identical_authorization_in_force


class RowsRefused(ValidationError):
    """A bulk service refused: nothing was changed. ``rows`` maps each refused row's key to its messages."""

    def __init__(self, rows: dict, message: str):
        super().__init__(message, code="rows_refused")
        self.rows = rows


def _pk(obj) -> int:
    return obj if isinstance(obj, int) else obj.pk


def _years(value) -> int:
    refuse(period_refusal(value))
    return as_period(value)


def _level_rules(authorization: Authorization, ceiling: str | None) -> Refusal | None:
    """The level rules again for an authorization about to run longer or again."""
    if not Membership.objects.filter(
        user_id=authorization.user_id, organization_id=authorization.organization_id
    ).exists():
        return not_linked_refusal(person=authorization.user, organization_name=authorization.organization.name)
    means_level = Means.objects.active().filter(owner_id=authorization.user_id).values_list("level", flat=True).first()
    return level_refusal(
        level=authorization.level,
        person=authorization.user,
        means_level=means_level,
        manager_level=ceiling,
        service=authorization.service,
    )


def _lock(authorization, actor: User) -> tuple[Authorization, str | None]:
    """The row again, locked, and the actor's ceiling (None for support); PermissionDenied for others."""
    locked = (
        # of=("self",): PostgreSQL cannot lock the nullable side of the outer joins
        # to service and provider, and only this row needs the lock.
        Authorization.objects.select_for_update(of=("self",))
        .select_related("user", "organization", "service", "provider")
        .get(pk=_pk(authorization))
    )
    return locked, require_manager_or_support(actor, locked.organization)


@service
def authorization_grant(
    *,
    actor: User,
    user: User,
    organization: Organization,
    level: str,
    scope: str,
    service: Service | None = None,
    provider: ServiceProvider | None = None,
    branch_number: str = "",
    years: int = 3,
    valid_from: datetime.date | None = None,
    notify: bool = True,
) -> Authorization:
    """A new authorization; the user is emailed unless ``notify`` is off (a caller that tells them itself)."""
    ceiling = require_manager_or_support(actor, organization)
    years = _years(years)
    service = service if scope == Authorization.Scope.SERVICE else None
    provider = provider if scope == Authorization.Scope.PROVIDER else None
    refuse(scope_refusal(scope=scope, service=service, provider=provider))
    # The link row serialises grants for this person here, so a double click grants once.
    link = Membership.objects.select_for_update().filter(user=user, organization=organization).first()
    if link is None:
        refuse(not_linked_refusal(person=user, organization_name=organization.name))
    branch_number = (branch_number or "").strip()
    refusal = branch_restriction_refusal(
        branch_number=branch_number,
        known_branches=organization.branches.values_list("number", flat=True) if branch_number else (),
        organization_name=organization.name,
        scope=scope,
        service=service,
    )
    if refusal is not None:
        raise ValidationError({"branch_number": refusal.message}, code=refusal.code)
    today = timezone.localdate()
    valid_from = valid_from or today
    valid_until = valid_from + relativedelta(years=years)
    means_level = Means.objects.active().filter(owner=user).values_list("level", flat=True).first()
    refuse(
        level_refusal(level=level, person=user, means_level=means_level, manager_level=ceiling, service=service),
        start_refusal(valid_from=valid_from, today=today),
        end_date_refusal(end=valid_until, today=today),
    )
    if identical_authorization_in_force(
        user=user,
        organization=organization,
        level=level,
        scope=scope,
        service=service,
        provider=provider,
        branch_number=branch_number,
    ).exists():
        refuse(in_force_refusal(person=user))
    authorization = Authorization(
        user=user,
        organization=organization,
        scope=scope,
        service=service,
        provider=provider,
        level=level,
        branch_number=branch_number,
        valid_from=valid_from,
        valid_until=valid_until,
        granted_by=actor,
    )
    authorization.full_clean()
    authorization.save()
    audit_record(
        actor=actor,
        action="authorization.grant",
        obj=authorization,
        organization=organization,
        data={
            "user": user.email,
            "scope": scope,
            "target": str(authorization.scope_label),
            "level": level,
            "branch_number": branch_number,
            "valid_until": authorization.valid_until.isoformat(),
        },
    )
    if notify:
        _email_changed([authorization], "granted")
    return authorization


def _email_changed(authorizations: list[Authorization], change: str) -> None:
    """Tell the user what the manager changed: one email per person and organisation."""
    groups: dict[tuple[int, int], list[Authorization]] = {}
    for authorization in authorizations:
        groups.setdefault((authorization.user_id, authorization.organization_id), []).append(authorization)
    for rows in groups.values():
        user = rows[0].user
        email_queue(
            kind="authorization_changed",
            to=user,
            context={
                "change": change,
                "name": user.get_short_name(),
                "organization": rows[0].organization.name,
                "rows": [
                    {
                        "scope": str(a.scope_label),
                        "level": a.level,
                        "valid_from": a.valid_from,
                        "valid_until": a.valid_until,
                    }
                    for a in rows
                ],
            },
            dedupe_key=f"authorization_{change}:" + ",".join(f"{a.pk}:{a.valid_until.isoformat()}" for a in rows),
        )


@dataclass(frozen=True)
class GrantLine:
    """One line of "Request new permissions", as ids: read again by the service."""

    key: str
    organization_id: int
    user_id: int
    level: str
    scope: str
    service_id: int | None = None
    provider_id: int | None = None
    branch_number: str = ""


@service
def authorization_grant_many(*, actor: User, lines: list[GrantLine], years: int) -> list[Authorization]:
    """Grant every line, all or nothing: one refused line (RowsRefused, per line key) grants none."""
    years = _years(years)
    # Lock every link row up front in one order, so two confirmations cannot deadlock.
    pairs = Q(pk__in=[])
    for line in lines:
        pairs |= Q(user_id=line.user_id, organization_id=line.organization_id)
    list(Membership.objects.select_for_update().filter(pairs).order_by("pk").values_list("pk", flat=True))
    organizations = Organization.objects.in_bulk({line.organization_id for line in lines})
    users = User.objects.in_bulk({line.user_id for line in lines})
    services = Service.objects.in_bulk({line.service_id for line in lines} - {None})
    providers = ServiceProvider.objects.in_bulk({line.provider_id for line in lines} - {None})
    granted, refused = [], {}
    for line in lines:
        try:
            if line.organization_id not in organizations or line.user_id not in users:
                raise PermissionDenied
            granted.append(
                authorization_grant.nested(
                    actor=actor,
                    user=users[line.user_id],
                    organization=organizations[line.organization_id],
                    level=line.level,
                    scope=line.scope,
                    service=services.get(line.service_id),
                    provider=providers.get(line.provider_id),
                    branch_number=line.branch_number,
                    years=years,
                )
            )
        except ValidationError as exc:
            refused[line.key] = exc.messages
        except PermissionDenied:
            refused[line.key] = [_("You do not manage this organisation (any more).")]
    if refused:
        raise RowsRefused(refused, _("Nothing was saved: some lines cannot be granted."))
    return granted


def _renew(
    *, actor: User, authorization, years: int, expected_valid_until: datetime.date | None, today: datetime.date
) -> Authorization:
    authorization, ceiling = _lock(authorization, actor)
    old_until = authorization.valid_until
    refuse(
        stale_refusal(seen_until=expected_valid_until, current_until=old_until),
        renew_refusal(status=authorization.status_on(today)),
        _level_rules(authorization, ceiling),
        end_date_refusal(end=new_end(current_end=old_until, years=years, today=today), today=today),
    )
    authorization.valid_until = new_end(current_end=old_until, years=years, today=today)
    authorization.save(update_fields=["valid_until"])
    audit_record(
        actor=actor,
        action="authorization.renew",
        obj=authorization,
        organization=authorization.organization,
        data={
            "user": authorization.user.email,
            "years": years,
            "from": old_until.isoformat(),
            "to": authorization.valid_until.isoformat(),
        },
    )
    return authorization


@service
def authorization_renew(
    *, actor: User, authorization: Authorization | int, years: int, expected_valid_until: datetime.date | None
) -> Authorization:
    """Extend by exactly 1, 3 or 5 years from the current end date.

    ``expected_valid_until`` is the end date the manager saw (None: whatever it is
    now, for support's admin action). When another renewal moved it meanwhile, ten
    clicks on "Renew" renew once and the others say so.
    """
    renewed = _renew(
        actor=actor,
        authorization=authorization,
        years=_years(years),
        expected_valid_until=expected_valid_until,
        today=timezone.localdate(),
    )
    _email_changed([renewed], "renewed")
    return renewed


@service
def authorization_renew_many(*, actor: User, seen: dict[int, datetime.date | None], years: int) -> list[Authorization]:
    """The "Renew permissions" button: every row in ``seen`` (id -> end date the manager saw), all or nothing.

    Rows are locked in id order (two bulk renewals cannot deadlock); one refused
    row (RowsRefused, per id) renews none.
    """
    years = _years(years)
    today = timezone.localdate()
    renewed, refused = [], {}
    for pk in sorted(seen):
        try:
            renewed.append(
                _renew(actor=actor, authorization=pk, years=years, expected_valid_until=seen[pk], today=today)
            )
        except ValidationError as exc:
            refused[pk] = exc.messages
    if refused:
        raise RowsRefused(refused, _("Nothing was renewed: some permissions cannot be renewed."))
    _email_changed(renewed, "renewed")
    return renewed


@service
def authorization_revoke(*, actor: User, authorization: Authorization | int) -> Authorization:
    authorization, _ceiling = _lock(authorization, actor)
    refuse(revoke_refusal(status=authorization.status))
    authorization.revoked_at = timezone.now()
    authorization.revoked_by = actor
    authorization.save(update_fields=["revoked_at", "revoked_by"])
    audit_record(
        actor=actor,
        action="authorization.revoke",
        obj=authorization,
        organization=authorization.organization,
        data={"user": authorization.user.email, "target": str(authorization.scope_label)},
    )
    email_queue(
        kind="authorization_revoked",
        to=authorization.user,
        context={"authorization": authorization},
        dedupe_key=f"authorization_revoked:{authorization.pk}",
    )
    return authorization


@service
def authorization_reactivate(
    *,
    actor: User,
    authorization: Authorization | int,
    years: int = 1,
    expected_valid_until: datetime.date | None = None,
) -> Authorization:
    """An expired authorization starts a new period from today."""
    years = _years(years)
    authorization, ceiling = _lock(authorization, actor)
    today = timezone.localdate()
    refuse(
        stale_refusal(seen_until=expected_valid_until, current_until=authorization.valid_until),
        reactivate_refusal(status=authorization.status_on(today)),
        _level_rules(authorization, ceiling),
    )
    old = (authorization.valid_from, authorization.valid_until)
    authorization.valid_from = today
    authorization.valid_until = new_end(current_end=None, years=years, today=today)
    authorization.save(update_fields=["valid_from", "valid_until"])
    audit_record(
        actor=actor,
        action="authorization.reactivate",
        obj=authorization,
        organization=authorization.organization,
        data={
            "user": authorization.user.email,
            "years": years,
            "previous_from": old[0].isoformat(),
            "previous_until": old[1].isoformat(),
            "valid_until": authorization.valid_until.isoformat(),
        },
    )
    _email_changed([authorization], "reactivated")
    return authorization
