import datetime

from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from reconi.levels import AssuranceLevel
from reconi.roles import is_support, require_support
from reconi.rules import as_period, end_date_refusal, new_end, period_refusal, refuse, unknown_level_refusal
from reconi.services import service

from .models import Means, User
from .rules import (
    manager_may_renew_refusal,
    means_renewal_refusal,
    means_renewed_meanwhile_refusal,
    upgrade_level_refusal,
)


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
    request_number: str = "",
) -> Means:
    """Issue a personal means to ``owner`` (support fulfils a request); tells the representatives."""
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
    _notify_representatives_of_new_means(means=means, organization=organization, request_number=request_number)
    return means


def _notify_representatives_of_new_means(*, means: Means, organization, request_number: str) -> None:
    """Rule 13: each representative hears of every new means issued in an organisation without a
    working manager, once (per means and representative), in the representative's own language.

    The organisation is the one the means was requested for; a means issued by support without
    one concerns every organisation its holder is linked to.
    """
    from notifications.selectors import managers_of
    from notifications.services import email_queue
    from organizations.models import Organization, Representative

    if organization is not None:
        organization_ids = [organization.pk]
    else:
        organization_ids = list(Organization.objects.filter(memberships__user=means.owner).values_list("pk", flat=True))
    managed = managers_of(organization_ids=organization_ids, today=timezone.localdate())
    without_manager = [pk for pk in organization_ids if not managed.get(pk)]
    representatives = Representative.objects.filter(organization_id__in=without_manager).select_related("organization")
    for representative in representatives.order_by("organization__name", "name", "pk"):
        email_queue(
            kind="means_issued_representative",
            to=representative.email,
            language=representative.language,
            context={
                "representative": representative.name,
                "organization": representative.organization.name,
                "holder": means.owner.get_full_name() or means.owner.email,
                "holder_email": means.owner.email,
                "level": means.level,
                "valid_until": means.valid_until,
                "request_number": request_number,
            },
            dedupe_key=f"means_issued_representative:{means.pk}:{representative.pk}",
        )


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


def manager_level_over(*, actor: User, owner: User) -> tuple[str | None, object | None]:
    """The actor's highest working manager level over ``owner`` and the organisation it holds it in.

    Only organisations the actor manages today and ``owner`` is linked to count.
    """
    from organizations.models import Membership, Organization

    shared = Organization.objects.managed_by(actor).filter(memberships__user=owner)
    roles = list(
        Membership.objects.filter(user=actor, organization__in=shared)
        .select_related("organization")
        .order_by("organization__name", "pk")
    )
    if not roles:
        return None, None
    best = max(roles, key=lambda membership: AssuranceLevel.rank(membership.manager_level))
    return best.manager_level, best.organization


@service
def means_extend(
    *,
    actor: User,
    means: Means,
    years: int,
    seen_valid_until: datetime.date,
    organization=None,
    request_number: str | None = None,
) -> Means:
    """Renew one means: lock its row, re-read it, check, extend, audit, tell the holder.

    For support (fulfilling a signed renewal request, ``.nested`` in its transaction)
    and for a manager of the holder at or above the means' level. A means whose end
    date moved since ``seen_valid_until`` is not renewed again.
    """
    from notifications.services import email_queue

    means = Means.objects.select_for_update(of=("self",)).select_related("owner").get(pk=means.pk)
    if not is_support(actor):
        manager_level, managed = manager_level_over(actor=actor, owner=means.owner)
        refuse(manager_may_renew_refusal(manager_level=manager_level, means=means))
        organization = organization or managed
    today = timezone.localdate()
    refuse(
        means_renewed_meanwhile_refusal(means=means, seen_valid_until=seen_valid_until),
        means_renewal_refusal(means=means, years=years, today=today),
    )
    old_until = means.valid_until
    means.valid_until = new_end(current_end=old_until, years=years, today=today)
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


@service
def means_renew_bulk(*, actor: User, selection: dict[int, datetime.date], years: int) -> list[Means]:
    """A manager renews several means in one go, all or nothing.

    ``selection`` maps each means id to the end date the manager saw on the
    preview; a row renewed meanwhile (a double submit) refuses the whole batch.
    Rows are locked in id order so two batches cannot deadlock.
    """
    refuse(period_refusal(years))
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
        means_extend.nested(
            actor=actor, means=means, years=years, seen_valid_until=selection[means.pk], organization=organization
        )
        for means, organization in checked
    ]


@service
def user_language_set(*, actor: User, language: str) -> bool:
    """The language of the person's interface after login, emails and PDFs. True when it changed."""
    if language not in User.Language.values:
        raise ValidationError({"language": _("Choose Dutch or English.")}, code="invalid_language")
    user = User.objects.select_for_update().get(pk=actor.pk)
    if user.language == language:
        return False
    previous, user.language = user.language, language
    user.save(update_fields=["language"])
    actor.language = language
    audit_record(actor=actor, action="user.language_set", obj=user, data={"from": previous, "to": language})
    return True
