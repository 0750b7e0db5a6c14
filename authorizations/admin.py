"""Admin for support staff: the service catalogue and authorizations.

Authorizations are never edited field by field: the change page only shows,
and revoke, renew and reactivate are admin actions that call the services with
the support user as actor. A new one is made by ``authorization_grant``.
"""

from dateutil.relativedelta import relativedelta
from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Count
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from audit.admin import AuditedDeleteMixin, AuditedSaveMixin
from organizations.models import Organization
from reconi.admin import (
    NoDeleteMixin,
    ReadOnlyChangeMixin,
    ReadOnlyInline,
    ServiceAddMixin,
    autocomplete,
    run_for_each,
)
from reconi.levels import AssuranceLevel
from users.admin import period_choices
from users.models import User
from users.services import VALID_PERIODS

from .models import Authorization, AuthorizationStatus, Service, ServiceProvider
from .services import authorization_grant, authorization_reactivate, authorization_renew, authorization_revoke

EXPIRING = "expiring"
EXPIRING_WITHIN = relativedelta(months=2)  # the first renewal reminder (rule 14)


class ServiceInline(ReadOnlyInline):
    model = Service
    fields = ("index", "name", "minimum_level", "uuid")


@admin.register(ServiceProvider)
class ServiceProviderAdmin(AuditedDeleteMixin, AuditedSaveMixin, admin.ModelAdmin):
    list_display = ("name", "oin", "service_count")
    search_fields = ("name", "=oin")
    inlines = [ServiceInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(service_count=Count("services"))

    @admin.display(description=_("services"), ordering="service_count")
    def service_count(self, obj) -> int:
        return obj.service_count


@admin.register(Service)
class ServiceAdmin(AuditedDeleteMixin, AuditedSaveMixin, admin.ModelAdmin):
    list_display = ("name", "provider", "minimum_level", "refuses_branch_restriction", "service_id", "uuid")
    list_select_related = ("provider",)
    list_filter = ("minimum_level", "refuses_branch_restriction", "provider")
    search_fields = ("name", "service_id", "=uuid", "provider__name", "=provider__oin")
    autocomplete_fields = ("provider",)
    readonly_fields = ("service_id",)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            # Authorizations are keyed on the ServiceUUID: it never changes once issued.
            fields.append("uuid")
        return fields


class AuthorizationStatusFilter(admin.SimpleListFilter):
    """Status is derived from dates and revoked_at (rule 6), so it filters through the queryset."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [*AuthorizationStatus.choices, (EXPIRING, _("Active, expires within two months"))]

    def queryset(self, request, queryset):
        value = self.value()
        if value == EXPIRING:
            today = timezone.localdate()
            return queryset.in_force(today).filter(valid_until__lte=today + EXPIRING_WITHIN)
        if value in AuthorizationStatus.values:
            return queryset.with_status_in([value])
        return queryset


class AuthorizationGrantForm(forms.Form):
    user = forms.ModelChoiceField(
        label=_("user"), queryset=User.objects.all(), widget=autocomplete(Authorization, "user")
    )
    organization = forms.ModelChoiceField(
        label=_("organisation"),
        queryset=Organization.objects.all(),
        widget=autocomplete(Authorization, "organization"),
    )
    scope = forms.ChoiceField(label=_("scope"), choices=Authorization.Scope.choices)
    service = forms.ModelChoiceField(
        label=_("service"),
        queryset=Service.objects.all(),
        required=False,
        widget=autocomplete(Authorization, "service"),
        help_text=_("For the scope “One service”."),
    )
    provider = forms.ModelChoiceField(
        label=_("service provider"),
        queryset=ServiceProvider.objects.all(),
        required=False,
        widget=autocomplete(Authorization, "provider"),
        help_text=_("For the scope “All services of a provider”."),
    )
    level = forms.ChoiceField(label=_("level"), choices=AssuranceLevel.choices)
    branch_number = forms.CharField(label=_("branch number"), required=False, max_length=12)
    years = forms.TypedChoiceField(label=_("period"), choices=period_choices, coerce=int, initial=1)


def _renew_action(years: int):
    def action(modeladmin, request, queryset):
        done = run_for_each(
            modeladmin,
            request,
            queryset,
            lambda authorization: authorization_renew(actor=request.user, authorization=authorization, years=years),
        )
        if done:
            modeladmin.message_user(
                request,
                gettext("Renewed %(count)d authorizations by %(years)d years.") % {"count": done, "years": years},
                messages.SUCCESS,
            )

    action.__name__ = f"renew_{years}"
    description = lazy(
        lambda: ngettext("Renew by %(years)d year", "Renew by %(years)d years", years) % {"years": years}, str
    )
    return admin.action(description=description(), permissions=["change"])(action)


@admin.register(Authorization)
class AuthorizationAdmin(NoDeleteMixin, ServiceAddMixin, ReadOnlyChangeMixin, admin.ModelAdmin):
    delete_instead = _(
        "Revoke it instead (action “Revoke (immediately)”); the revocation is recorded in the audit log."
    )
    add_form_class = AuthorizationGrantForm
    list_display = (
        "user",
        "user_email",
        "organization",
        "target",
        "level",
        "branch_number",
        "valid_from",
        "valid_until",
        "status_label",
        "revoked_at",
    )
    list_select_related = ("user", "organization", "service", "service__provider", "provider")
    list_filter = (AuthorizationStatusFilter, "level", "scope", "organization")
    show_full_result_count = False  # one COUNT(*) over a large table is enough
    search_fields = (
        "user__email",
        "user__first_name",
        "user__last_name",
        "organization__name",
        "=organization__kvk_number",
        "service__name",
        "service__service_id",
        "=service__uuid",
        "provider__name",
        "=branch_number",
    )
    readonly_fields = ("status_label", "target", "created_at")
    fields = (
        "user",
        "organization",
        "scope",
        "target",
        "service",
        "provider",
        "level",
        "branch_number",
        "valid_from",
        "valid_until",
        "status_label",
        "granted_by",
        "revoked_at",
        "revoked_by",
        "created_at",
    )
    actions = ["revoke", *[_renew_action(years) for years in VALID_PERIODS], "reactivate"]

    def get_queryset(self, request):
        # The change page shows str() of these too: one query, not one per relation.
        return (
            super()
            .get_queryset(request)
            .select_related("user", "organization", "service__provider", "provider", "granted_by", "revoked_by")
        )

    @admin.display(description=_("email address"), ordering="user__email")
    def user_email(self, obj: Authorization) -> str:
        return obj.user.email

    @admin.display(description=_("for"))
    def target(self, obj: Authorization) -> str:
        return obj.scope_label

    @admin.display(description=_("status"))
    def status_label(self, obj: Authorization) -> str:
        return obj.get_status_display()

    def add_via_service(self, request, data):
        return authorization_grant(
            actor=request.user,
            user=data["user"],
            organization=data["organization"],
            level=data["level"],
            scope=data["scope"],
            service=data.get("service"),
            provider=data.get("provider"),
            branch_number=data.get("branch_number") or "",
            years=data["years"],
        )

    @admin.action(description=_("Revoke (immediately)"), permissions=["change"])
    def revoke(self, request, queryset):
        # Revoking cannot be undone (rule 7): ask first, as Django does before deleting.
        if request.POST.get("post") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "title": gettext("Revoke authorizations"),
                "opts": self.opts,
                "queryset": queryset,
                "action": "revoke",
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/authorizations/authorization/revoke_confirmation.html", context)
        done = run_for_each(
            self,
            request,
            queryset,
            lambda authorization: authorization_revoke(actor=request.user, authorization=authorization),
        )
        if done:
            self.message_user(request, gettext("Revoked %(count)d authorizations.") % {"count": done}, messages.SUCCESS)
        return None

    @admin.action(description=_("Reactivate expired (new period of 1 year)"), permissions=["change"])
    def reactivate(self, request, queryset):
        done = run_for_each(
            self,
            request,
            queryset,
            lambda authorization: authorization_reactivate(actor=request.user, authorization=authorization, years=1),
        )
        if done:
            self.message_user(
                request, gettext("Reactivated %(count)d authorizations.") % {"count": done}, messages.SUCCESS
            )
