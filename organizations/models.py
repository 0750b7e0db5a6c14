import datetime

from django.conf import settings
from django.db import models
from django.db.models import Case, Q, Value, When
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


class OrganizationQuerySet(models.QuerySet):
    def managed_by(self, user, on: datetime.date | None = None):
        """Organisations in which ``user`` holds working manager rights today.

        Three things must hold: the guardian object permission (granted and
        withdrawn only by the manager services), a manager role that has not
        ended, and the manager's own active means at the role's level or higher
        (rule 11: manager rights end with the manager's own login).
        """
        if not getattr(user, "is_authenticated", False):
            return self.none()
        from guardian.shortcuts import get_objects_for_user

        from users.models import Means

        on = on or timezone.localdate()
        means_level = Means.objects.active(on).filter(owner=user).values_list("level", flat=True).first()
        if means_level is None:
            return self.none()
        permitted = get_objects_for_user(
            user,
            "organizations.manage_organization",
            klass=self,
            with_superuser=False,
            accept_global_perms=False,
        )
        return permitted.filter(
            memberships__user=user,
            memberships__manager_level__in=AssuranceLevel.at_most(means_level),
            memberships__manager_until__gte=on,
        )


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

    @property
    def is_manager(self) -> bool:
        return bool(self.manager_level) and self.manager_until >= timezone.localdate()


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
