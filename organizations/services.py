import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from audit.services import audit_record
from reconi.roles import is_support, require_manager_or_support, require_support
from reconi.rules import refuse, unknown_level_refusal
from reconi.services import service
from users.models import Means, User

from .models import Branch, Membership, Organization, Representative
from .rules import branch_format_refusal, manager_means_refusal, manager_until_refusal

MANAGE_PERMISSION = "organizations.manage_organization"


@service
def membership_link(*, actor: User, user: User, organization: Organization, via=None) -> Membership:
    """Link a user to an organisation, so its managers can see and authorize them.

    Support staff link directly; a user links themselves only by accepting a link
    request (``via``) addressed to them for this organisation.
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
        with transaction.atomic():  # a savepoint: the IntegrityError below leaves the transaction usable
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


@service
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
    ; a manager never appoints a manager. The level must equal the
    manager's own means and the role cannot outlive it (``organizations.rules``).
    """
    require_support(actor)
    if Organization.objects.managed_by(actor).exists():
        raise PermissionDenied("A manager cannot appoint a manager.")
    refuse(unknown_level_refusal(level))
    means = Means.objects.active().filter(owner=user).first()
    refuse(manager_means_refusal(level=level, means_level=getattr(means, "level", None), person=user))
    until = until or means.valid_until
    refuse(manager_until_refusal(until=until, means_until=means.valid_until, today=timezone.localdate()))
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


@service
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


@service
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


@service
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


@service
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
