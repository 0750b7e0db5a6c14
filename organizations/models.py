import datetime

from django.conf import settings
from django.db import models
from django.db.models import Case, Exists, OuterRef, Q, Value, When
from django.db.models.functions import Cast, Mod, Substr
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reconi.levels import AssuranceLevel
from reconi.validators import branch_validator, kvk_validator, validate_rsin

RSIN_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)


def rsin_elfproef_condition() -> Q:
    """reconi.validators.rsin_is_valid as SQL: empty, or 9 digits (not all zero) whose
    weighted sum divides by 11. The CASE keeps the cast away from non-digits."""
    weighted_sum = sum(
        (
            Cast(Substr("rsin", position, 1), models.IntegerField()) * weight
            for position, weight in enumerate(RSIN_WEIGHTS, 1)
        ),
        start=Value(0),
    )
    nine_digits = Q(rsin__regex=r"^[0-9]{9}$")
    remainder = Case(
        When(nine_digits, then=Mod(weighted_sum, 11)), default=Value(1), output_field=models.IntegerField()
    )
    return Q(rsin="") | (nine_digits & ~Q(rsin="000000000") & Q(Exact(remainder, 0)))


MANAGE_PERMISSION_CODENAME = "manage_organization"


class OrganizationQuerySet(models.QuerySet):
    def managed_by(self, user, on: datetime.date | None = None):
        """Organisations in which ``user`` is a working manager on ``on`` (today)."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(pk__in=Membership.objects.working_managers(on).filter(user=user).values("organization_id"))


class Organization(models.Model):
    name = models.CharField(_("name"), max_length=200)
    kvk_number = models.CharField(_("KvK number"), max_length=8, unique=True, validators=[kvk_validator])
    branch_number = models.CharField(_("branch number"), max_length=12, blank=True, validators=[branch_validator])
    rsin = models.CharField(_("RSIN"), max_length=9, blank=True, validators=[validate_rsin])
    email_domain = models.CharField(
        _("email domain"),
        max_length=200,
        blank=True,
        help_text=_("The organisation's own domain, for general addresses such as info@."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        permissions = [
            ("manage_organization", _("Manage the organisation's means and authorizations")),
            ("act_as_support", _("Act as support staff: fulfil requests, appoint managers")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kvk_number__regex=r"^[0-9]{8}$"), name="organization_kvk_8_digits"),
            models.CheckConstraint(
                condition=Q(branch_number="") | Q(branch_number__regex=r"^[0-9]{12}$"),
                name="organization_branch_12_digits",
            ),
            models.CheckConstraint(
                condition=Q(rsin="") | Q(rsin__regex=r"^[0-9]{9}$"), name="organization_rsin_9_digits"
            ),
            models.CheckConstraint(
                condition=rsin_elfproef_condition(),
                name="organization_rsin_elfproef",
                violation_error_message=_("An RSIN needs 9 digits that pass the elfproef."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kvk_number})"


class Representative(models.Model):
    """A person with authority per the KvK extract (a director)."""

    class Authority(models.TextChoices):
        SOLE = "sole", _("Sole authority")
        JOINT = "joint", _("Joint authority")
        LIMITED = "limited", _("Limited authority")

    organization = models.ForeignKey(
        Organization, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="representatives"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("login"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="representations",
    )
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email address"))
    date_of_birth = models.DateField(_("date of birth"))
    authority = models.CharField(_("authority"), max_length=10, choices=Authority)
    extract_date = models.DateField(_("KvK extract date"))
    language = models.CharField(
        _("language"),
        max_length=2,
        choices=settings.LANGUAGES,
        default="nl",
        help_text=_("The language of the emails the representative receives."),
    )

    class Meta:
        verbose_name = _("representative")
        verbose_name_plural = _("representatives")
        ordering = ["organization", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "email"], name="representative_unique_email"),
        ]

    def __str__(self) -> str:
        return f"{self.name} — {self.organization.name}"


class MembershipQuerySet(models.QuerySet):
    def working_managers(self, on: datetime.date | None = None):
        """The memberships that carry working manager rights on ``on`` (today): the one definition.

        Rule 11: three things hold together. The manager role has not ended; the
        guardian object permission on the organisation is there (granted and withdrawn
        only by the manager services); and the manager's own means is active at the
        role's level or higher, so manager rights end with the manager's own login.
        The account itself is active. One query, any number of organisations.
        """
        from guardian.models import UserObjectPermission

        from users.models import Means

        on = on or timezone.localdate()
        permitted = UserObjectPermission.objects.filter(
            user=OuterRef("user_id"),
            permission__codename=MANAGE_PERMISSION_CODENAME,
            content_type__app_label="organizations",
            content_type__model="organization",
            object_pk=Cast(OuterRef("organization_id"), models.CharField()),
        )
        means_high_enough = Q(pk__in=[])
        for level in AssuranceLevel.ordered():
            means_high_enough |= Q(manager_level=level) & Exists(
                Means.objects.active(on).filter(owner=OuterRef("user_id"), level__in=AssuranceLevel.at_least(level))
            )
        return self.filter(
            means_high_enough,
            Exists(permitted),
            manager_level__isnull=False,
            manager_until__gte=on,
            user__is_active=True,
        )

    def level_of(self, user, organization, on: datetime.date | None = None) -> str | None:
        """``user``'s working manager level in ``organization``, or None."""
        if not getattr(user, "is_authenticated", False):
            return None
        return (
            self.working_managers(on)
            .filter(user=user, organization=organization)
            .values_list("manager_level", flat=True)
            .first()
        )


class Membership(models.Model):
    """A user linked to an organisation; optionally with the manager role."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="memberships"
    )
    linked_at = models.DateTimeField(_("linked"), default=timezone.now)
    manager_level = models.CharField(_("manager level"), max_length=4, choices=AssuranceLevel, blank=True, null=True)
    manager_until = models.DateField(_("manager until"), null=True, blank=True)
    manager_appointed_at = models.DateTimeField(_("manager since"), null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["organization", "user"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="membership_unique_link"),
            models.CheckConstraint(
                condition=(
                    Q(manager_level__isnull=True, manager_until__isnull=True)
                    | Q(manager_level__isnull=False, manager_until__isnull=False)
                ),
                name="membership_manager_level_and_end_together",
            ),
            models.CheckConstraint(
                condition=Q(manager_level__isnull=True) | Q(manager_level__in=AssuranceLevel.values),
                name="membership_manager_level_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization.name}"


class Branch(models.Model):
    """A known branch (vestiging) of an organisation; an authorization may be restricted to one."""

    organization = models.ForeignKey(
        Organization, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="branches"
    )
    number = models.CharField(_("branch number"), max_length=12, validators=[branch_validator])
    name = models.CharField(_("name"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("branch")
        verbose_name_plural = _("branches")
        ordering = ["organization", "number"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="branch_unique_per_organization"),
            models.CheckConstraint(condition=Q(number__regex=r"^[0-9]{12}$"), name="branch_number_12_digits"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}".strip()
