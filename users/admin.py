"""Admin for support staff: people and their means.

Also holds the small helpers every app's admin shares: writes that carry rules
go through the services (with ``request.user`` as actor), never through a raw
``save()`` of the admin's change form.
"""

from collections.abc import Callable

from allauth.account.admin import EmailAddressAdmin as BaseEmailAddressAdmin
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.text import capfirst, format_lazy
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from audit.services import audit_record
from organizations.models import Membership
from reconi.admin import AuditedDeleteMixin, NoDeleteMixin
from reconi.levels import AssuranceLevel
from reconi.rules import period_choices

from .models import Means, User
from .services import means_issue, means_upgrade

admin.site.site_header = _("Reconi support")
# No app sidebar: the changelists need the width (their tables must fit at 1280 px).
admin.site.enable_nav_sidebar = False
admin.site.site_title = _("Reconi support")
admin.site.index_title = _("Support")


# Shared helpers ------------------------------------------------------------------


def error_text(exc: Exception) -> str:
    """The human message(s) of a service's ValidationError or PermissionDenied."""
    if isinstance(exc, ValidationError):
        return " ".join(str(message) for message in exc.messages)
    return str(exc) or gettext("You are not allowed to do this.")


def autocomplete(model: type[Model], field_name: str) -> AutocompleteSelect:
    """The admin's search-as-you-type widget for a foreign key of ``model``, usable in plain forms."""
    return AutocompleteSelect(model._meta.get_field(field_name), admin.site)


def run_for_each(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    call: Callable[[Model], object],
) -> int:
    """Call a service for every selected object; report each refusal by name; return how many succeeded.

    Each service call is its own transaction: one refused object changes nothing
    and does not undo the others.
    """
    done = 0
    for obj in queryset:
        try:
            call(obj)
        except (ValidationError, PermissionDenied) as exc:
            modeladmin.message_user(request, f"{obj}: {error_text(exc)}", messages.ERROR)
        else:
            done += 1
    return done


class ServiceAddMixin:
    """The admin's "add" page, but the new object is made by a service.

    Subclasses set ``add_form_class`` (a plain form) and implement
    ``add_via_service(request, cleaned_data)``. A ValidationError from the
    service is shown on the form and nothing is saved.
    """

    add_form_class: type[forms.Form]
    add_form_template = "admin/service_add_form.html"

    def add_via_service(self, request: HttpRequest, data: dict) -> Model:
        raise NotImplementedError

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = self.add_form_class(request.POST or None)
        for field in form.fields.values():
            field.label = capfirst(field.label)  # as the admin's own forms show model verbose names
        if request.method == "POST" and form.is_valid():
            try:
                obj = self.add_via_service(request, form.cleaned_data)
            except (ValidationError, PermissionDenied) as exc:
                self._add_service_errors(form, exc)
            else:
                self.log_addition(request, obj, [{"added": {}}])
                self.message_user(
                    request,
                    gettext("%(name)s “%(obj)s” was added.") % {"name": self.opts.verbose_name, "obj": obj},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Add %(name)s") % {"name": self.opts.verbose_name},
            "opts": self.opts,
            "form": form,
            "media": self.media + form.media,
            "has_view_permission": self.has_view_permission(request),
            **(extra_context or {}),
        }
        return TemplateResponse(request, self.add_form_template, context)

    @staticmethod
    def _add_service_errors(form: forms.Form, exc: Exception) -> None:
        if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
            for field, errors in exc.error_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, error_text(exc))


class ReadOnlyChangeMixin:
    """Change pages that only show: every change is an admin action calling a service."""

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return super().get_readonly_fields(request, obj)
        fields = [f.name for f in self.opts.concrete_fields] + [f.name for f in self.opts.many_to_many]
        return list(dict.fromkeys([*fields, *super().get_readonly_fields(request, obj)]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "show_delete": False,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        if change:
            # No raw save on the way to a change: the page has no editable fields.
            return
        super().save_model(request, obj, form, change)


class AuditedSaveMixin:
    """Plain data without rules (catalogue, organisation details): saved, and the change audited."""

    def audit_organization(self, obj):
        return None

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        changed = {
            field: str(form.cleaned_data.get(field)) for field in form.changed_data if field in form.cleaned_data
        }
        changed.pop("password", None)
        changed.pop("password1", None)
        changed.pop("password2", None)
        audit_record(
            actor=request.user,
            action=f"{self.opts.model_name}.{'change' if change else 'create'}",
            obj=obj,
            organization=self.audit_organization(obj),
            data={"fields": changed},
        )


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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


class MembershipInline(ReadOnlyInline):
    model = Membership
    fk_name = "user"
    fields = ("organization", "manager_level", "manager_until", "linked_at")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("organization")


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
    inlines = [MeansInline, MembershipInline]
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
        from requests_app.services import user_password_reset_send

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
        # The owner is chosen once, here; the change page never offers it again.
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


admin.site.unregister(EmailAddress)


@admin.register(EmailAddress)
class EmailAddressAdmin(AuditedSaveMixin, AuditedDeleteMixin, BaseEmailAddressAdmin):
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
