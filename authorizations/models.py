import datetime
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Case, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reconi.levels import AssuranceLevel
from reconi.validators import branch_validator, oin_validator


class ServiceProvider(models.Model):
    """A dienstverlener, identified by its OIN."""

    oin = models.CharField(_("OIN"), max_length=20, unique=True, validators=[oin_validator])
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        verbose_name = _("service provider")
        verbose_name_plural = _("service providers")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(oin__regex=r"^[0-9]{20}$"), name="provider_oin_20_digits"),
        ]

    def __str__(self) -> str:
        return self.name


class Service(models.Model):
    provider = models.ForeignKey(
        ServiceProvider, verbose_name=_("service provider"), on_delete=models.PROTECT, related_name="services"
    )
    uuid = models.UUIDField(_("ServiceUUID"), unique=True, default=uuid.uuid4)
    index = models.PositiveIntegerField(_("index"))
    service_id = models.CharField(_("service id"), max_length=100, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200)
    minimum_level = models.CharField(_("minimum level"), max_length=4, choices=AssuranceLevel)
    refuses_branch_restriction = models.BooleanField(
        _("refuses branch restrictions"),
        default=False,
        help_text=_("The service cannot tell branches apart: its authorizations apply to the whole organisation."),
    )

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["provider__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "index"], name="service_unique_index"),
            models.CheckConstraint(condition=Q(minimum_level__in=AssuranceLevel.values), name="service_level_known"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.provider.name})"

    def save(self, *args, **kwargs):
        # The service id is derived, never typed: urn:etoegang:DV:<OIN>:services:<n>.
        self.service_id = f"urn:etoegang:DV:{self.provider.oin}:services:{self.index}"
        super().save(*args, **kwargs)


class AuthorizationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACTIVE = "active", _("Active")
    EXPIRED = "expired", _("Expired")
    REVOKED = "revoked", _("Revoked")


def status_expression(on: datetime.date):
    """Status as SQL, derived from dates and revoked_at, never stored (rule 6)."""
    return Case(
        When(revoked_at__isnull=False, then=Value(AuthorizationStatus.REVOKED.value)),
        When(valid_from__gt=on, then=Value(AuthorizationStatus.PENDING.value)),
        When(valid_until__lt=on, then=Value(AuthorizationStatus.EXPIRED.value)),
        default=Value(AuthorizationStatus.ACTIVE.value),
        output_field=models.CharField(),
    )


class AuthorizationQuerySet(models.QuerySet):
    def with_status(self, on: datetime.date | None = None):
        return self.annotate(status_value=status_expression(on or timezone.localdate()))

    def in_force(self, on: datetime.date | None = None):
        """Only these grant anything (rule 6)."""
        on = on or timezone.localdate()
        return self.filter(revoked_at__isnull=True, valid_from__lte=on, valid_until__gte=on)

    def with_status_in(self, statuses, on: datetime.date | None = None):
        on = on or timezone.localdate()
        conditions = {
            AuthorizationStatus.REVOKED: Q(revoked_at__isnull=False),
            AuthorizationStatus.PENDING: Q(revoked_at__isnull=True, valid_from__gt=on),
            AuthorizationStatus.EXPIRED: Q(revoked_at__isnull=True, valid_until__lt=on),
            AuthorizationStatus.ACTIVE: Q(revoked_at__isnull=True, valid_from__lte=on, valid_until__gte=on),
        }
        query = Q(pk__in=[])
        for status in statuses:
            query |= conditions[AuthorizationStatus(status)]
        return self.filter(query)


class Authorization(models.Model):
    """A machtiging: this user may use this scope for this organisation at this level."""

    class Scope(models.TextChoices):
        SERVICE = "service", _("One service")
        PROVIDER = "provider", _("All services of a provider")
        LEVEL = "level", _("All services at its level")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="authorizations"
    )
    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="authorizations",
        db_index=False,  # authz_org_list leads with it
    )
    scope = models.CharField(_("scope"), max_length=10, choices=Scope)
    service = models.ForeignKey(
        Service,
        verbose_name=_("service"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="authorizations",
    )
    provider = models.ForeignKey(
        ServiceProvider,
        verbose_name=_("service provider"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="authorizations",
    )
    level = models.CharField(_("level"), max_length=4, choices=AssuranceLevel)
    branch_number = models.CharField(_("branch number"), max_length=12, blank=True, validators=[branch_validator])
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("granted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = AuthorizationQuerySet.as_manager()

    class Meta:
        verbose_name = _("authorization")
        verbose_name_plural = _("authorizations")
        ordering = ["valid_until", "id"]
        indexes = [
            # The Permissions list: its sort, and every filter on a column of the row, in an index-only walk.
            models.Index(
                fields=["organization", "valid_until", "id"],
                name="authz_org_list",
                include=["level", "valid_from", "revoked_at", "user", "service", "provider", "branch_number"],
            ),
            models.Index(fields=["user", "organization"], name="authz_user_org"),
            models.Index(fields=["valid_until"], name="authz_until", condition=Q(revoked_at__isnull=True)),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(valid_until__gt=models.F("valid_from")), name="authz_until_after_from"),
            models.CheckConstraint(condition=Q(level__in=AssuranceLevel.values), name="authz_level_known"),
            models.CheckConstraint(
                condition=(
                    Q(scope="service", service__isnull=False, provider__isnull=True)
                    | Q(scope="provider", service__isnull=True, provider__isnull=False)
                    | Q(scope="level", service__isnull=True, provider__isnull=True)
                ),
                name="authz_scope_matches_target",
            ),
            models.CheckConstraint(
                condition=Q(branch_number="") | Q(branch_number__regex=r"^[0-9]{12}$"),
                name="authz_branch_12_digits",
            ),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | Q(revoked_by__isnull=False),
                name="authz_revoked_by_whom",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.scope_label} ({self.level})"

    def status_on(self, on: datetime.date | None = None) -> str:
        on = on or timezone.localdate()
        if self.revoked_at is not None:
            return AuthorizationStatus.REVOKED
        if self.valid_from > on:
            return AuthorizationStatus.PENDING
        if self.valid_until < on:
            return AuthorizationStatus.EXPIRED
        return AuthorizationStatus.ACTIVE

    @property
    def status(self) -> str:
        return self.status_on()

    def get_status_display(self) -> str:
        return AuthorizationStatus(self.status).label

    @property
    def scope_label(self) -> str:
        if self.scope == self.Scope.SERVICE:
            return self.service.name
        if self.scope == self.Scope.PROVIDER:
            return _("All services of %(provider)s") % {"provider": self.provider.name}
        return _("All services at %(level)s") % {"level": self.level}

    def covers(self, service: Service) -> bool:
        if self.scope == self.Scope.SERVICE:
            return self.service_id == service.pk
        if self.scope == self.Scope.PROVIDER:
            return self.provider_id == service.provider_id
        return AssuranceLevel.is_at_most(service.minimum_level, self.level)
