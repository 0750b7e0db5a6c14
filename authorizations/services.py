"""Every write to authorizations. One transaction each, each audited."""

import datetime

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from notifications.services import email_queue
from organizations.models import Membership, Organization
from organizations.roles import require_manager_or_support
from organizations.rules import branch_restriction_refusal
from reconi.levels import AssuranceLevel
from users.models import Means, User
from users.services import check_period

from .models import Authorization, AuthorizationStatus, Service, ServiceProvider
from .selectors import identical_authorization_in_force


def _check_level(
    *, user: User, organization: Organization, level: str, ceiling: str | None, service: Service | None
) -> None:
    """Rules 1, 2 and 3 for a level about to be granted."""
    if level not in AssuranceLevel.values:
        raise ValidationError({"level": _("Unknown assurance level.")})
    if not Membership.objects.filter(user=user, organization=organization).exists():
        raise ValidationError(
            {
                "user": _("%(user)s is not linked to %(organization)s; link them first.")
                % {"user": user, "organization": organization.name}
            },
            code="not_linked",
        )
    means = Means.objects.active().filter(owner=user).first()
    if means is None:
        raise ValidationError({"user": _("%(user)s has no active means.") % {"user": user}}, code="no_means")
    if not AssuranceLevel.is_at_most(level, means.level):
        raise ValidationError(
            {
                "level": _("%(level)s is above the level of %(user)s's means (%(means)s).")
                % {"level": level, "user": user, "means": means.level}
            },
            code="above_means",
        )
    if ceiling is not None and not AssuranceLevel.is_at_most(level, ceiling):
        raise ValidationError(
            {
                "level": _("%(level)s is above your own manager level (%(ceiling)s).")
                % {"level": level, "ceiling": ceiling}
            },
            code="above_manager",
        )
    if service is not None and not AssuranceLevel.is_at_most(service.minimum_level, level):
        raise ValidationError(
            {
                "level": _("%(service)s needs at least %(minimum)s; %(level)s is too low.")
                % {"service": service.name, "minimum": service.minimum_level, "level": level}
            },
            code="below_service_minimum",
        )


def _lock(authorization: Authorization, actor: User) -> tuple[Authorization, str | None]:
    locked = (
        # of=("self",): PostgreSQL cannot lock the nullable side of the outer joins
        # to service and provider, and only this row needs the lock.
        Authorization.objects.select_for_update(of=("self",))
        .select_related("user", "organization", "service", "provider")
        .get(pk=authorization.pk)
    )
    ceiling = require_manager_or_support(actor, locked.organization)
    return locked, ceiling


@transaction.atomic
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
) -> Authorization:
    ceiling = require_manager_or_support(actor, organization)
    years = check_period(years)
    if scope == Authorization.Scope.SERVICE and service is None:
        raise ValidationError({"service": _("Choose a service.")})
    if scope == Authorization.Scope.PROVIDER and provider is None:
        raise ValidationError({"provider": _("Choose a service provider.")})
    if scope not in Authorization.Scope.values:
        raise ValidationError({"scope": _("Unknown scope.")})
    _check_level(
        user=user,
        organization=organization,
        level=level,
        ceiling=ceiling,
        service=service if scope == Authorization.Scope.SERVICE else None,
    )
    branch_number = (branch_number or "").strip()
    refusal = branch_restriction_refusal(
        branch_number=branch_number,
        known_branches=organization.branches.values_list("number", flat=True) if branch_number else (),
        organization_name=organization.name,
        scope=scope,
        service=service if scope == Authorization.Scope.SERVICE else None,
    )
    if refusal is not None:
        raise ValidationError({"branch_number": refusal.message}, code=refusal.code)
    today = timezone.localdate()
    valid_from = valid_from or today
    if valid_from < today:
        raise ValidationError({"valid_from": _("An authorization cannot start before today.")}, code="backdated")
    # The link row serialises grants for this person here, so a double click grants once.
    list(Membership.objects.select_for_update().filter(user=user, organization=organization).values_list("pk"))
    if identical_authorization_in_force(
        user=user,
        organization=organization,
        level=level,
        scope=scope,
        service=service if scope == Authorization.Scope.SERVICE else None,
        provider=provider if scope == Authorization.Scope.PROVIDER else None,
        branch_number=branch_number,
    ).exists():
        raise ValidationError(_("%(user)s already has this authorization in force.") % {"user": user}, code="duplicate")
    authorization = Authorization(
        user=user,
        organization=organization,
        scope=scope,
        service=service if scope == Authorization.Scope.SERVICE else None,
        provider=provider if scope == Authorization.Scope.PROVIDER else None,
        level=level,
        branch_number=branch_number,
        valid_from=valid_from,
        valid_until=valid_from + relativedelta(years=years),
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
    return authorization


@transaction.atomic
def authorization_renew(
    *, actor: User, authorization: Authorization, years: int, expected_valid_until: datetime.date | None = None
) -> Authorization:
    """Extend by exactly 1, 3 or 5 years from the current end date (rule 5).

    The renewal applies to the end date the caller saw: ``expected_valid_until``,
    or else the end date of the ``authorization`` passed in. If another renewal
    moved it meanwhile (ten clicks on "Renew"), nothing is extended twice.
    """
    years = check_period(years)
    seen_until = expected_valid_until or authorization.valid_until
    authorization, ceiling = _lock(authorization, actor)
    status = authorization.status
    if status == AuthorizationStatus.REVOKED:
        raise ValidationError(_("A revoked authorization cannot be renewed; request a new one."), code="revoked")
    if status == AuthorizationStatus.EXPIRED:
        raise ValidationError(_("This authorization has expired; activate it instead."), code="expired")
    if authorization.valid_until != seen_until:
        raise ValidationError(
            _("This authorization was renewed meanwhile and now runs until %(date)s; it was not renewed again.")
            % {"date": authorization.valid_until.isoformat()},
            code="renewed_meanwhile",
        )
    _check_level(
        user=authorization.user,
        organization=authorization.organization,
        level=authorization.level,
        ceiling=ceiling,
        service=authorization.service,
    )
    old_until = authorization.valid_until
    authorization.valid_until = old_until + relativedelta(years=years)
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


@transaction.atomic
def authorization_revoke(*, actor: User, authorization: Authorization) -> Authorization:
    """Immediate: from this moment the authorization grants nothing (rule 7)."""
    authorization, _ceiling = _lock(authorization, actor)
    if authorization.revoked_at is not None:
        raise ValidationError(_("This authorization was already revoked."), code="already_revoked")
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


@transaction.atomic
def authorization_reactivate(*, actor: User, authorization: Authorization, years: int = 1) -> Authorization:
    """An expired authorization starts a new period from today (rule 8)."""
    years = check_period(years)
    authorization, ceiling = _lock(authorization, actor)
    status = authorization.status
    if status == AuthorizationStatus.REVOKED:
        raise ValidationError(
            _("A revoked authorization cannot be reactivated; request a new one instead."), code="revoked"
        )
    if status != AuthorizationStatus.EXPIRED:
        raise ValidationError(_("Only an expired authorization can be activated."), code="not_expired")
    _check_level(
        user=authorization.user,
        organization=authorization.organization,
        level=authorization.level,
        ceiling=ceiling,
        service=authorization.service,
    )
    old = (authorization.valid_from, authorization.valid_until)
    today = timezone.localdate()
    authorization.valid_from = today
    authorization.valid_until = today + relativedelta(years=years)
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
    return authorization
