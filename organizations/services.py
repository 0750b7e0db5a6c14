import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from audit.services import audit_record
from notifications.services import email_queue
from reconi.levels import AssuranceLevel
from reconi.roles import is_support, require_support
from users.models import Means, User
from users.rules import (
    VALID_PERIODS,
    manager_may_renew_refusal,
    means_renewal_refusal,
    means_renewed_meanwhile_refusal,
    renewal_end,
)

from .models import Branch, Membership, Organization, Representative
from .roles import manager_level_over, require_manager_or_support
from .rules import branch_format_refusal

MANAGE_PERMISSION = "organizations.manage_organization"


@transaction.atomic
def membership_link(*, actor: User, user: User, organization: Organization, via=None) -> Membership:
    """Link a user to an organisation, so its managers can see and authorize them.

    Support staff link directly; a user links themselves only by accepting a link
    request (``via``) addressed to them for this organisation (rule 9).
    """
    if not is_support(actor):
        if via is None or actor.pk != user.pk or getattr(via, "organization_id", None) != organization.pk:
            raise PermissionDenied("A link needs support staff or the user's own acceptance.")
    if Membership.objects.filter(user=user, organization=organization).exists():
        raise ValidationError(
            _("%(user)s is already linked to %(organization)s.") % {"user": user, "organization": organization.name},
            code="duplicate_link",
        )
    try:
        with transaction.atomic():
            membership = Membership.objects.create(user=user, organization=organization)
    except IntegrityError as exc:  # a simultaneous link won the race
        raise ValidationError(
            _("%(user)s is already linked to %(organization)s.") % {"user": user, "organization": organization.name},
            code="duplicate_link",
        ) from exc
    audit_record(
        actor=actor,
        action="membership.link",
        obj=membership,
        organization=organization,
        data={"user": user.email, "via": getattr(via, "pk", None)},
    )
    return membership


@transaction.atomic
def manager_appoint(
    *,
    actor: User,
    user: User,
    organization: Organization,
    level: str,
    until: datetime.date | None = None,
    appointment=None,
) -> Membership:
    """Give ``user`` the manager role, as a representative's signed form asks.

    Only support staff carry this out, after the representatives signed
    (rule 10); a manager never appoints a manager. The level must equal the
    manager's own means (rule 3) and the role cannot outlive it (rule 11).
    """
    require_support(actor)
    if Organization.objects.managed_by(actor).exists():
        raise PermissionDenied("A manager cannot appoint a manager.")
    if level not in AssuranceLevel.values:
        raise ValidationError({"level": _("Unknown assurance level.")})
    means = Means.objects.active().filter(owner=user).first()
    if means is None:
        raise ValidationError(_("%(user)s has no active means.") % {"user": user})
    if means.level != level:
        raise ValidationError(
            {
                "level": _(
                    "Manager rights at %(level)s need a means of level %(level)s; "
                    "%(user)s has %(means)s. Upgrade the means first."
                )
                % {"level": level, "user": user, "means": means.level}
            },
            code="level_mismatch",
        )
    until = until or means.valid_until
    if until < timezone.localdate():
        raise ValidationError({"until": _("A manager role cannot end in the past.")}, code="until_past")
    if until > means.valid_until:
        raise ValidationError(
            {
                "until": _("Manager rights end with the manager's own means on %(date)s.")
                % {"date": means.valid_until.isoformat()}
            }
        )
    membership, _created = Membership.objects.select_for_update().get_or_create(user=user, organization=organization)
    membership.manager_level = level
    membership.manager_until = until
    membership.manager_appointed_at = timezone.now()
    membership.save()
    assign_perm(MANAGE_PERMISSION, user, organization)
    audit_record(
        actor=actor,
        action="manager.appoint",
        obj=membership,
        organization=organization,
        data={
            "user": user.email,
            "level": level,
            "until": until.isoformat(),
            "appointment": getattr(appointment, "pk", None),
        },
    )
    return membership


@transaction.atomic
def manager_withdraw(*, actor: User, membership: Membership, reason: str = "") -> Membership:
    require_support(actor)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if not membership.manager_level:
        raise ValidationError(_("%(user)s is not a manager.") % {"user": membership.user})
    old_level = membership.manager_level
    membership.manager_level = None
    membership.manager_until = None
    membership.manager_appointed_at = None
    membership.save()
    remove_perm(MANAGE_PERMISSION, membership.user, membership.organization)
    audit_record(
        actor=actor,
        action="manager.withdraw",
        obj=membership,
        organization=membership.organization,
        data={"user": membership.user.email, "level": old_level, "reason": reason},
    )
    return membership


@transaction.atomic
def organization_create(
    *, actor: User, name: str, kvk_number: str, branch_number: str = "", rsin: str = "", email_domain: str = ""
) -> Organization:
    require_support(actor)
    organization = Organization(
        name=name, kvk_number=kvk_number, branch_number=branch_number, rsin=rsin, email_domain=email_domain
    )
    organization.full_clean()
    organization.save()
    audit_record(
        actor=actor,
        action="organization.create",
        obj=organization,
        organization=organization,
        data={"kvk_number": kvk_number, "name": name},
    )
    return organization


@transaction.atomic
def representative_add(
    *,
    actor: User,
    organization: Organization,
    name: str,
    email: str,
    date_of_birth: datetime.date,
    authority: str,
    extract_date: datetime.date,
    user: User | None = None,
) -> Representative:
    require_support(actor)
    representative = Representative(
        organization=organization,
        name=name,
        email=email.lower(),
        date_of_birth=date_of_birth,
        authority=authority,
        extract_date=extract_date,
        user=user,
    )
    representative.full_clean()
    representative.save()
    audit_record(
        actor=actor,
        action="representative.add",
        obj=representative,
        organization=organization,
        data={"name": name, "authority": authority},
    )
    return representative


# Means renewed by a manager of the holder (or by support) -----------------------------------------


def _raise(refusal) -> None:
    if refusal is not None:
        raise ValidationError(refusal.message, code=refusal.code)


def means_extend(
    *,
    actor: User,
    means: Means,
    years: int,
    seen_valid_until: datetime.date,
    organization=None,
    request_number: str | None = None,
) -> Means:
    """Renew one means (rule 5): lock its row, re-read it, check, extend, audit, tell the holder.

    For support (fulfilling a signed renewal request) and for a manager of the
    holder at or above the means' level. The caller's transaction holds the lock;
    a means whose end date moved since ``seen_valid_until`` is not renewed again.
    """
    means = Means.objects.select_for_update(of=("self",)).select_related("owner").get(pk=means.pk)
    if not is_support(actor):
        manager_level, managed = manager_level_over(actor=actor, owner=means.owner)
        _raise(manager_may_renew_refusal(manager_level=manager_level, means=means))
        organization = organization or managed
    today = timezone.localdate()
    _raise(means_renewed_meanwhile_refusal(means=means, seen_valid_until=seen_valid_until))
    _raise(means_renewal_refusal(means=means, years=years, today=today))
    old_until = means.valid_until
    means.valid_until = renewal_end(valid_until=old_until, years=years, today=today)
    means.save(update_fields=["valid_until"])
    audit_record(
        actor=actor,
        action="means.renew",
        obj=means,
        organization=organization,
        data={
            "owner": means.owner.email,
            "level": means.level,
            "years": years,
            "from": old_until.isoformat(),
            "to": means.valid_until.isoformat(),
            "request": request_number or "",
        },
    )
    email_queue(
        kind="means_renewed",
        to=means.owner,
        context={
            "name": means.owner.get_short_name(),
            "level": means.level,
            "type": means.get_type_display(),
            "valid_until": means.valid_until,
            "years": years,
        },
        dedupe_key=f"means_renewed:{means.pk}:{means.valid_until.isoformat()}",
    )
    return means


@transaction.atomic(durable=True)
def means_renew_bulk(*, actor: User, selection: dict[int, datetime.date], years: int) -> list[Means]:
    """A manager renews several means in one go, all or nothing.

    ``selection`` maps each means id to the end date the manager saw on the
    preview; a row renewed meanwhile (a double submit) refuses the whole batch.
    Rows are locked in id order so two batches cannot deadlock.
    """
    if isinstance(years, bool) or years not in VALID_PERIODS:
        raise ValidationError({"period": _("Choose a period of 1, 3 or 5 years.")}, code="invalid_period")
    if not selection:
        raise ValidationError(_("Select the means you want to renew first."), code="empty")
    found = list(
        Means.objects.select_for_update(of=("self",)).select_related("owner").filter(pk__in=selection).order_by("pk")
    )
    if len(found) != len(selection):
        raise PermissionDenied("A selected means does not exist.")
    today = timezone.localdate()
    problems = []
    checked = []
    for means in found:
        manager_level, organization = manager_level_over(actor=actor, owner=means.owner)
        if manager_level is None:
            raise PermissionDenied("A selected means belongs to someone outside your organisations.")
        refusal = (
            manager_may_renew_refusal(manager_level=manager_level, means=means)
            or means_renewed_meanwhile_refusal(means=means, seen_valid_until=selection[means.pk])
            or means_renewal_refusal(means=means, years=years, today=today)
        )
        if refusal is not None:
            problems.append(_("%(person)s: %(problem)s") % {"person": means.owner, "problem": refusal.message})
        checked.append((means, organization))
    if problems:
        raise ValidationError([*problems, _("Nothing was renewed.")], code="not_renewed")
    return [
        means_extend(
            actor=actor, means=means, years=years, seen_valid_until=selection[means.pk], organization=organization
        )
        for means, organization in checked
    ]


@transaction.atomic(durable=True)
def branch_add(*, actor: User, organization: Organization, number: str, name: str = "") -> Branch:
    """Support or a manager of the organisation records one of its branches (vestigingen)."""
    require_manager_or_support(actor, organization)
    number = (number or "").strip()
    refusal = branch_format_refusal(number)
    if refusal is not None:
        raise ValidationError({"number": refusal.message}, code=refusal.code)
    # The organisation row serialises additions, so a double submit adds one branch.
    Organization.objects.select_for_update().get(pk=organization.pk)
    if Branch.objects.filter(organization=organization, number=number).exists():
        raise ValidationError(
            {
                "number": _("%(number)s is already a branch of %(organization)s.")
                % {"number": number, "organization": organization.name}
            },
            code="duplicate_branch",
        )
    branch = Branch(organization=organization, number=number, name=(name or "").strip()[:200])
    branch.full_clean()
    branch.save()
    audit_record(
        actor=actor,
        action="branch.add",
        obj=branch,
        organization=organization,
        data={"number": number, "name": branch.name},
    )
    return branch
