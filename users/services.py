import datetime

from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from notifications.services import email_queue
from reconi.levels import AssuranceLevel
from reconi.links import portal_url_for
from reconi.roles import require_support

from .models import Means, User
from .rules import (
    VALID_PERIODS,
)


def check_period(years: int | str) -> int:
    """Exactly 1, 3 or 5 (rule 5), as an int or the digits a form posts; int() would
    have turned 1.5 or True into a valid period."""
    if isinstance(years, str) and years.strip().isdigit():
        years = int(years.strip())
    if isinstance(years, bool) or not isinstance(years, int) or years not in VALID_PERIODS:
        raise ValidationError({"period": _("Choose a period of 1, 3 or 5 years.")}, code="invalid_period")
    return years


@transaction.atomic
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
    """Issue a personal means to ``owner`` (support fulfils a request); tells the representatives (rule 13)."""
    require_support(actor)
    years = check_period(years)
    if level not in AssuranceLevel.values:
        raise ValidationError({"level": _("Unknown assurance level.")})
    # Lock the person so two fulfilments cannot both issue an active means.
    User.objects.select_for_update().get(pk=owner.pk)
    if Means.objects.active().filter(owner=owner).exists():
        raise ValidationError(_("%(person)s already has an active means; upgrade it instead.") % {"person": owner})
    # A means past its end date steps aside for the new one (one active per person).
    Means.objects.filter(owner=owner, status=Means.Status.ACTIVE).update(status=Means.Status.REPLACED)
    valid_from = valid_from or timezone.localdate()
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
    from notifications.services import email_queue
    from organizations.models import Organization, Representative
    from organizations.roles import managers_of

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


@transaction.atomic
def means_upgrade(
    *, actor: User, means: Means, level: str, organization=None, identity_check: dict | None = None
) -> Means:
    """Raise a means to a higher level; the person keeps their authorizations."""
    require_support(actor)
    means = Means.objects.select_for_update().get(pk=means.pk)
    if level not in AssuranceLevel.values:
        raise ValidationError({"level": _("Unknown assurance level.")})
    if AssuranceLevel.rank(level) <= AssuranceLevel.rank(means.level):
        raise ValidationError({"level": _("An upgrade must be to a level above %(level)s.") % {"level": means.level}})
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


@transaction.atomic
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


def password_reset_url(user: User) -> str:
    """A link where ``user`` chooses a new password (allauth's reset-from-key page, in their language)."""
    return portal_url_for(
        user,
        "account_reset_password_from_key",
        uidb36=user_pk_to_url_str(user),
        key=default_token_generator.make_token(user),
    )


def user_password_reset_send(*, actor: User, user: User) -> None:
    """Support never sets a password: the person gets a link to choose one, and the audit log says who sent it.

    The link is in the outbox like every email, masked wherever support could read it.
    Staff accounts are left to superusers (a link to a colleague's mailbox is still a takeover path).
    """
    require_support(actor)
    if (user.is_staff or user.is_superuser) and not actor.is_superuser:
        raise PermissionDenied(_("Only a superuser can send a password link to a staff account."))
    if not user.is_active:
        raise ValidationError(_("This account is inactive."), code="inactive")
    email_queue(
        kind="password_reset_link",
        to=user,
        context={
            "name": user.get_short_name(),
            "email": user.email,
            "password_url": password_reset_url(user),
            "login_url": portal_url_for(user, "account_login"),
        },
    )
    audit_record(actor=actor, action="user.password_reset_link", obj=user, data={"email": user.email})
