"""Admin for support staff: people and their means, second factors, login addresses, groups.

Organisations add their memberships to the user page (``organizations.admin``);
the helpers every app's admin shares are in ``reconi.admin`` and ``audit.admin``.
"""

from allauth.account.admin import EmailAddressAdmin as BaseEmailAddressAdmin
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.text import format_lazy
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from audit.admin import AuditedDeleteMixin, AuditedSaveMixin
from audit.services import audit_record
from reconi.admin import NoDeleteMixin, ReadOnlyChangeMixin, ReadOnlyInline, ServiceAddMixin, autocomplete, run_for_each
from reconi.levels import AssuranceLevel

from .models import Means, User
from .services import VALID_PERIODS, means_issue, means_upgrade, user_password_reset_send


def period_choices() -> list[tuple[int, str]]:
    """1, 3 or 5 years (rule 5), in the language of the request."""
    return [(years, ngettext("%(n)d year", "%(n)d years", years) % {"n": years}) for years in VALID_PERIODS]


# Users ---------------------------------------------------------------------------------

# Fields that make a person staff or superuser: only superusers touch them, so
# support staff cannot raise their own rights or anyone else's.
PRIVILEGE_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")


class UserCreateForm(forms.ModelForm):
    """A new account has no password: the person chooses one through a link (never support)."""

    class Meta:
        model = User
        fields = ("email", "first_name", "initials", "last_name")

    def clean_email(self):
        email = User.objects.normalize_email(self.cleaned_data["email"]).lower()
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError(gettext("A user with this email address already exists."), code="unique")
        return email

    def save(self, commit=True):
        user = super().save(commit=False)
        user.set_unusable_password()
        if commit:
            user.save()
        return user


class UserEditForm(forms.ModelForm):
    """No password field: nobody sets another person's password here (see send_password_link)."""

    class Meta:
        model = User
        fields = (
            "email",
            "first_name",
            "initials",
            "last_name",
            "date_of_birth",
            "phone",
            "language",
            "is_active",
            *PRIVILEGE_FIELDS,
        )


class MeansInline(ReadOnlyInline):
    model = Means
    fields = ("level", "type", "status", "valid_from", "valid_until")


@admin.register(User)
class UserAdmin(NoDeleteMixin, AuditedSaveMixin, BaseUserAdmin):
    delete_instead = _("Deactivate the account instead (untick “Active”): its history stays in the audit log.")
    form = UserEditForm
    add_form = UserCreateForm
    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "is_staff", "is_active", "date_joined")
    list_filter = ("is_staff", "is_superuser", "is_active", "groups", "language")
    search_fields = ("email", "first_name", "last_name")
    readonly_fields = ("second_factors", "last_login", "date_joined")
    inlines = [MeansInline]
    actions = ["send_password_link"]
    fieldsets = (
        (None, {"fields": ("email", "second_factors")}),
        (
            _("Personal info"),
            {"fields": ("first_name", "initials", "last_name", "date_of_birth", "phone", "language")},
        ),
        (_("Permissions"), {"fields": ("is_active", *PRIVILEGE_FIELDS)}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "first_name", "initials", "last_name"),
            },
        ),
    )

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += [field for field in PRIVILEGE_FIELDS if field not in fields]
            if obj is not None:
                # A new login address plus a password link would hand support the account.
                fields.append("email")
        return fields

    @admin.display(description=_("second factors"))
    def second_factors(self, obj: User) -> str:
        """Which kinds, never their data: the secrets stay encrypted and out of sight."""
        if obj is None or obj.pk is None:
            return "—"
        kinds = Authenticator.objects.filter(user=obj).values_list("type", flat=True).order_by("type")
        labels = dict(Authenticator.Type.choices)
        return ", ".join(str(labels.get(kind, kind)) for kind in kinds) or gettext("none")

    def user_change_password(self, request, id, form_url=""):
        """Django's "set password" page: closed for everyone. People choose their own password
        (the password link); staff change their own on the account pages."""
        raise PermissionDenied

    @admin.action(description=_("Send a link to choose a new password"), permissions=["change"])
    def send_password_link(self, request, queryset):
        done = run_for_each(
            self, request, queryset, lambda user: user_password_reset_send(actor=request.user, user=user)
        )
        if done:
            self.message_user(
                request,
                ngettext(
                    "A password link was sent to %(count)d person.",
                    "A password link was sent to %(count)d people.",
                    done,
                )
                % {"count": done},
                messages.SUCCESS,
            )

    def has_change_permission(self, request, obj=None):
        # Staff accounts (support colleagues, superusers) are changed by superusers only:
        # a new email or password on such an account would take it over.
        if obj is not None and (obj.is_staff or obj.is_superuser) and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)


# Means -----------------------------------------------------------------------------------


class MeansIssueForm(forms.Form):
    owner = forms.ModelChoiceField(label=_("owner"), queryset=User.objects.all(), widget=autocomplete(Means, "owner"))
    level = forms.ChoiceField(label=_("level"), choices=AssuranceLevel.choices)
    type = forms.ChoiceField(label=_("type"), choices=Means.Type.choices)
    years = forms.TypedChoiceField(label=_("period"), choices=period_choices, coerce=int, initial=3)


class IsActiveFilter(admin.SimpleListFilter):
    title = _("in use today")
    parameter_name = "in_use"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        active = Means.objects.active().values("pk")
        if self.value() == "yes":
            return queryset.filter(pk__in=active)
        if self.value() == "no":
            return queryset.exclude(pk__in=active)
        return queryset


def _upgrade_action(level: str):
    def action(modeladmin, request, queryset):
        done = run_for_each(
            modeladmin,
            request,
            queryset.select_related("owner"),
            lambda means: means_upgrade(actor=request.user, means=means, level=level),
        )
        if done:
            modeladmin.message_user(
                request, gettext("Upgraded %(count)d means to %(level)s.") % {"count": done, "level": level}
            )

    action.__name__ = f"upgrade_to_{level.replace('+', '_plus').lower()}"
    return admin.action(description=format_lazy(_("Upgrade to {level}"), level=level), permissions=["change"])(action)


@admin.register(Means)
class MeansAdmin(NoDeleteMixin, ServiceAddMixin, ReadOnlyChangeMixin, admin.ModelAdmin):
    delete_instead = _("A means runs until its end date and its history stays in the audit log.")
    add_form_class = MeansIssueForm
    list_display = ("owner", "owner_email", "level", "type", "status", "valid_from", "valid_until")
    list_select_related = ("owner",)
    list_filter = ("level", "type", "status", IsActiveFilter)
    search_fields = ("owner__email", "owner__first_name", "owner__last_name")
    date_hierarchy = "valid_until"
    actions = [_upgrade_action(level) for level in AssuranceLevel.values if level != AssuranceLevel.EH2]

    @admin.display(description=_("email address"), ordering="owner__email")
    def owner_email(self, obj: Means) -> str:
        return obj.owner.email

    def add_via_service(self, request, data):
        # Rule 4: the owner is chosen once, here; the change page never offers it again.
        return means_issue(
            actor=request.user, owner=data["owner"], level=data["level"], type=data["type"], years=data["years"]
        )


# Second factors, login addresses, groups ---------------------------------------------------
# Their admin pages come from allauth and Django; ours show no secret and audit every change.


admin.site.unregister(Authenticator)


@admin.register(Authenticator)
class AuthenticatorAdmin(AuditedDeleteMixin, admin.ModelAdmin):
    """Only which person has which kind of second factor; ``data`` (the encrypted secret) is never shown.

    A superuser may delete one (the person enrols again at the next login); support sees none of this.
    """

    list_display = ("user", "type", "created_at", "last_used_at")
    list_filter = ("type",)
    search_fields = ("user__email",)
    list_select_related = ("user",)
    fields = ("user", "type", "created_at", "last_used_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def audit_details(self, obj) -> dict:
        return {"user": obj.user.email, "type": obj.type}


admin.site.unregister(EmailAddress)


@admin.register(EmailAddress)
class EmailAddressAdmin(AuditedSaveMixin, AuditedDeleteMixin, BaseEmailAddressAdmin):
    def audit_details(self, obj) -> dict:
        return {"user": obj.user.email, "email": obj.email}

    @admin.action(description=_("Mark as verified"), permissions=["change"])
    def make_verified(self, request, queryset):
        with transaction.atomic():
            for address in queryset.filter(verified=False).select_related("user"):
                audit_record(
                    actor=request.user,
                    action="emailaddress.verify",
                    obj=address,
                    data={"user": address.user.email, "email": address.email},
                )
            super().make_verified(request, queryset)


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(AuditedSaveMixin, AuditedDeleteMixin, BaseGroupAdmin):
    """Groups are roles (Support): who may change them, and when, is in the audit log."""
