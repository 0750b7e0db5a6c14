import datetime

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reconi.levels import AssuranceLevel


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Logs in with email; holds at most one active means at a time."""

    class Language(models.TextChoices):
        DUTCH = "nl", _("Dutch")
        ENGLISH = "en", _("English")

    email = models.EmailField(_("email address"), unique=True)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    initials = models.CharField(_("initials"), max_length=20, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    language = models.CharField(_("language"), max_length=2, choices=Language, default=Language.DUTCH)
    is_staff = models.BooleanField(_("staff status"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["last_name", "first_name", "email"]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def get_full_name(self) -> str:
        return " ".join(part for part in [self.first_name, self.last_name] if part)

    def get_short_name(self) -> str:
        return self.first_name or self.email

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()


class MeansQuerySet(models.QuerySet):
    def active(self, on: datetime.date | None = None):
        on = on or timezone.localdate()
        return self.filter(status=Means.Status.ACTIVE, valid_from__lte=on, valid_until__gte=on)


class Means(models.Model):
    """A personal eHerkenning means. Belongs to one person, never transferred."""

    class Type(models.TextChoices):
        PASSWORD_TOTP = "password_totp", _("Password and authenticator app")
        APP = "app", _("Reconi app")
        HARDWARE_KEY = "hardware_key", _("Hardware key")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        REVOKED = "revoked", _("Revoked")
        REPLACED = "replaced", _("Replaced")

    owner = models.ForeignKey("users.User", verbose_name=_("owner"), on_delete=models.PROTECT, related_name="means")
    level = models.CharField(_("level"), max_length=4, choices=AssuranceLevel)
    type = models.CharField(_("type"), max_length=20, choices=Type, default=Type.PASSWORD_TOTP)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), db_index=True)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.ACTIVE)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = MeansQuerySet.as_manager()

    class Meta:
        verbose_name = _("means")
        verbose_name_plural = _("means")
        ordering = ["-valid_until"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__gt=models.F("valid_from")),
                name="means_valid_until_after_valid_from",
            ),
            models.CheckConstraint(condition=Q(level__in=AssuranceLevel.values), name="means_level_known"),
            # One active means per person: authorizations are bounded by "the" means.
            models.UniqueConstraint(fields=["owner"], condition=Q(status="active"), name="means_one_active_per_owner"),
        ]

    def __str__(self) -> str:
        return f"{self.level} {self.get_type_display()} ({self.owner})"

    def save(self, *args, **kwargs):
        # Rule 4: a means is personal; refuse any attempt to move it to someone else.
        if self.pk is not None:
            original_owner = Means.objects.filter(pk=self.pk).values_list("owner_id", flat=True).first()
            if original_owner is not None and original_owner != self.owner_id:
                raise ValidationError(_("A means belongs to one person and cannot be transferred."))
        super().save(*args, **kwargs)

    def is_active_on(self, on: datetime.date | None = None) -> bool:
        on = on or timezone.localdate()
        return self.status == self.Status.ACTIVE and self.valid_from <= on <= self.valid_until
