"""Admin for support staff: people and their means.

Organisations add their memberships to the user page (``organizations.admin``).
"""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from audit.admin import AuditedSaveMixin
from reconi.admin import ReadOnlyChangeMixin, ReadOnlyInline, ServiceAddMixin, autocomplete, run_for_each
from reconi.levels import AssuranceLevel

from .models import Means, User
from .services import VALID_PERIODS, means_issue, means_upgrade


def period_choices() -> list[tuple[int, str]]:
    """1, 3 or 5 years (rule 5), in the language of the request."""
    return [(years, ngettext("%(n)d year", "%(n)d years", years) % {"n": years}) for years in VALID_PERIODS]


# Users ---------------------------------------------------------------------------------


class UserCreateForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "first_name", "initials", "last_name")

    def clean_email(self):
        email = User.objects.normalize_email(self.cleaned_data["email"]).lower()
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError(gettext("A user with this email address already exists."), code="unique")
        return email


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class MeansInline(ReadOnlyInline):
    model = Means
    fields = ("level", "type", "status", "valid_from", "valid_until")


# Fields that make a person staff or superuser: only superusers touch them, so
# support staff cannot raise their own rights or anyone else's.
PRIVILEGE_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")


@admin.register(User)
class UserAdmin(AuditedSaveMixin, BaseUserAdmin):
    form = UserEditForm
    add_form = UserCreateForm
    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "is_staff", "is_active", "date_joined")
    list_filter = ("is_staff", "is_superuser", "is_active", "groups", "language")
    search_fields = ("email", "first_name", "last_name")
    readonly_fields = ("last_login", "date_joined")
    inlines = [MeansInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
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
                "fields": ("email", "first_name", "initials", "last_name", "usable_password", "password1", "password2"),
            },
        ),
    )

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += [field for field in PRIVILEGE_FIELDS if field not in fields]
        return fields

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
class MeansAdmin(ServiceAddMixin, ReadOnlyChangeMixin, admin.ModelAdmin):
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
