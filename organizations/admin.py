"""Admin for support staff: organisations, their representatives and memberships.

A manager role is given only after the representatives signed (rule 10), by the
request workflow; here support can only withdraw one, through the service.
"""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from audit.admin import AuditedSaveMixin
from reconi.admin import NoDeleteMixin, ReadOnlyChangeMixin, ReadOnlyInline, ServiceAddMixin, autocomplete, run_for_each
from users.admin import UserAdmin
from users.models import User

from .models import Branch, Membership, Organization, Representative
from .services import branch_add, manager_withdraw, membership_link, organization_create, representative_add


class RepresentativeInline(ReadOnlyInline):
    model = Representative
    fields = ("name", "email", "authority", "extract_date")


class BranchInline(ReadOnlyInline):
    model = Branch
    fields = ("number", "name")


class MembershipInline(ReadOnlyInline):
    model = Membership
    fields = ("user", "manager_level", "manager_until", "linked_at")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


@admin.register(Organization)
class OrganizationAdmin(NoDeleteMixin, AuditedSaveMixin, admin.ModelAdmin):
    delete_instead = _("Its authorizations, people and requests refer to it, and so does the audit log.")
    list_display = ("name", "kvk_number", "branch_number", "rsin", "email_domain", "created_at")
    search_fields = ("name", "=kvk_number", "=branch_number", "=rsin", "email_domain")
    readonly_fields = ("created_at",)
    inlines = [RepresentativeInline, BranchInline, MembershipInline]

    def audit_organization(self, obj):
        return obj

    def save_model(self, request, obj, form, change):
        if change:
            # The change form validated the KvK, branch and RSIN numbers (model validators).
            super().save_model(request, obj, form, change)
            return
        created = organization_create(
            actor=request.user,
            **{field: form.cleaned_data.get(field, "") for field in ("name", "kvk_number", "branch_number", "rsin")},
            email_domain=form.cleaned_data.get("email_domain", ""),
        )
        obj.pk = created.pk
        obj.refresh_from_db()


@admin.register(Representative)
class RepresentativeAdmin(NoDeleteMixin, AuditedSaveMixin, admin.ModelAdmin):
    delete_instead = _(
        "Signed forms and the audit log refer to the representative; record the end of the authority instead."
    )
    list_display = ("name", "email", "organization", "authority", "extract_date", "user")
    list_select_related = ("organization", "user")
    list_filter = ("authority",)
    search_fields = ("name", "email", "organization__name", "=organization__kvk_number")
    autocomplete_fields = ("organization", "user")

    def audit_organization(self, obj):
        return obj.organization

    # Name, date of birth and address are what a signing link checks against (with the code
    # emailed to that address): support adds a representative from the KvK extract, but does
    # not redirect or rewrite one afterwards. A correction is a new extract, or a superuser.
    IDENTITY = ("organization", "name", "email", "date_of_birth", "authority", "extract_date", "user")

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if obj is not None and not request.user.is_superuser:
            fields = ["birth_year" if field == "date_of_birth" else field for field in fields]
        return fields

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not request.user.is_superuser:
            return (*self.IDENTITY[:3], "birth_year", *self.IDENTITY[4:])
        return super().get_readonly_fields(request, obj)

    @admin.display(description=_("year of birth"))
    def birth_year(self, obj) -> str:
        """Enough to tell two people apart; the full date stays a question only the director answers."""
        return str(obj.date_of_birth.year) if obj.date_of_birth else "—"

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        created = representative_add(
            actor=request.user,
            organization=data["organization"],
            name=data["name"],
            email=data["email"],
            date_of_birth=data["date_of_birth"],
            authority=data["authority"],
            extract_date=data["extract_date"],
            user=data.get("user"),
        )
        obj.pk = created.pk
        obj.refresh_from_db()


class MembershipLinkForm(forms.Form):
    user = forms.ModelChoiceField(label=_("user"), queryset=User.objects.all(), widget=autocomplete(Membership, "user"))
    organization = forms.ModelChoiceField(
        label=_("organisation"),
        queryset=Organization.objects.all(),
        widget=autocomplete(Membership, "organization"),
    )


class IsManagerFilter(admin.SimpleListFilter):
    title = _("manager role")
    parameter_name = "manager"

    def lookups(self, request, model_admin):
        return [("yes", _("Manager")), ("no", _("No manager role"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(manager_level__isnull=False)
        if self.value() == "no":
            return queryset.filter(manager_level__isnull=True)
        return queryset


@admin.register(Membership)
class MembershipAdmin(NoDeleteMixin, ServiceAddMixin, ReadOnlyChangeMixin, admin.ModelAdmin):
    delete_instead = _("To end a manager role use the action “Withdraw manager role”; it is recorded in the audit log.")
    add_form_class = MembershipLinkForm
    list_display = ("user", "user_email", "organization", "manager_level", "manager_until", "linked_at")
    list_select_related = ("user", "organization")
    list_filter = (IsManagerFilter, "manager_level", "organization")
    search_fields = (
        "user__email",
        "user__first_name",
        "user__last_name",
        "organization__name",
        "=organization__kvk_number",
    )
    actions = ["withdraw_manager_role"]

    @admin.display(description=_("email address"), ordering="user__email")
    def user_email(self, obj: Membership) -> str:
        return obj.user.email

    def add_via_service(self, request, data):
        return membership_link(actor=request.user, user=data["user"], organization=data["organization"])

    @admin.action(description=_("Withdraw manager role"), permissions=["change"])
    def withdraw_manager_role(self, request, queryset):
        done = run_for_each(
            self,
            request,
            queryset.select_related("user", "organization"),
            lambda membership: manager_withdraw(
                actor=request.user, membership=membership, reason=gettext("Withdrawn by support staff")
            ),
        )
        if done:
            self.message_user(request, gettext("Withdrew %(count)d manager roles.") % {"count": done})


class BranchAddForm(forms.Form):
    organization = forms.ModelChoiceField(label=_("organisation"), queryset=Organization.objects.all())
    number = forms.CharField(label=_("branch number"), max_length=40)
    name = forms.CharField(label=_("name"), max_length=200, required=False)


@admin.register(Branch)
class BranchAdmin(NoDeleteMixin, ServiceAddMixin, AuditedSaveMixin, admin.ModelAdmin):
    """Support maintains the known branches; an authorization may be restricted to one of them."""

    add_form_class = BranchAddForm
    list_display = ("number", "name", "organization", "created_at")
    list_select_related = ("organization",)
    search_fields = ("=number", "name", "organization__name", "=organization__kvk_number")
    readonly_fields = ("organization", "number", "created_at")
    fields = ("organization", "number", "name", "created_at")

    def audit_organization(self, obj):
        return obj.organization

    def add_via_service(self, request, data):
        return branch_add(
            actor=request.user, organization=data["organization"], number=data["number"], name=data["name"]
        )


class UserMembershipInline(ReadOnlyInline):
    model = Membership
    fk_name = "user"
    fields = ("organization", "manager_level", "manager_until", "linked_at")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("organization")


# The user page lives in users/, below this app: its memberships are added from here.
admin.site.unregister(User)


@admin.register(User)
class UserWithMembershipsAdmin(UserAdmin):
    inlines = [*UserAdmin.inlines, UserMembershipInline]
