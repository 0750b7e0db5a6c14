"""The audit log in the admin: read-only for everyone, superusers included.

The hash chain is verified on request ("Verify the hash chain" on the list):
walking the whole log is linear in its size, too slow for every page view.
Each row's own hash is checked in the list, which costs no query.

``AuditedSaveMixin`` and ``AuditedDeleteMixin`` are for the other apps' admins: plain
saves and deletions, audited.
"""

import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from reconi.admin import NoDeleteMixin

from .models import AuditEvent
from .selectors import audit_chain_broken_at
from .services import audit_record


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


class AuditedDeleteMixin:
    """Rows that may be deleted; each deletion is an audit event in the deleting transaction.

    Rows something else still protects (``on_delete=PROTECT``) are refused by the admin's own
    "cannot delete" page.
    """

    def audit_organization(self, obj):
        return None

    def audit_details(self, obj) -> dict:
        return {}

    def _audit_delete(self, request, obj) -> None:
        audit_record(
            actor=request.user,
            action=f"{self.opts.model_name}.delete",
            obj=obj,
            organization=self.audit_organization(obj),
            data={"deleted": str(obj), "object": str(obj), **self.audit_details(obj)},
        )

    def delete_model(self, request, obj):
        with transaction.atomic():
            self._audit_delete(request, obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                self._audit_delete(request, obj)
            super().delete_queryset(request, queryset)


@admin.register(AuditEvent)
class AuditEventAdmin(NoDeleteMixin, admin.ModelAdmin):
    delete_instead = _("The audit log is append-only.")
    list_display = (
        "created_at",
        "actor_email",
        "organization",
        "action",
        "object_type",
        "object_id",
        "ip_address",
        "hash_ok",
    )
    list_select_related = ("organization",)
    list_filter = ("action", "organization")  # action is indexed: its distinct values stay cheap
    show_full_result_count = False
    search_fields = ("actor_email", "action", "=object_id", "organization__name", "=organization__kvk_number")
    date_hierarchy = "created_at"
    fields = (
        "created_at",
        "actor",
        "actor_email",
        "organization",
        "action",
        "object_type",
        "object_id",
        "details",
        "ip_address",
        "prev_hash",
        "hash",
        "hash_ok",
    )
    readonly_fields = fields
    actions = None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("organization", "actor")

    @admin.display(description=_("hash valid"), boolean=True)
    def hash_ok(self, obj: AuditEvent) -> bool:
        return obj.compute_hash() == obj.hash

    @admin.display(description=_("details"))
    def details(self, obj: AuditEvent) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.data, indent=2, sort_keys=True, ensure_ascii=False))

    def get_urls(self):
        verify = path(
            "verify/",
            self.admin_site.admin_view(self.verify_view),
            name=f"{self.opts.app_label}_{self.opts.model_name}_verify",
        )
        return [verify, *super().get_urls()]

    def verify_view(self, request):
        """Walk the whole chain; the result is a message on the list."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        broken_at = audit_chain_broken_at()
        if broken_at is None:
            self.message_user(
                request,
                gettext("The hash chain is intact: no event was changed, removed or inserted."),
                messages.SUCCESS,
            )
        else:
            self.message_user(
                request,
                gettext("The hash chain is broken at event %(id)s: the log was tampered with from there on.")
                % {"id": broken_at},
                messages.ERROR,
            )
        return HttpResponseRedirect(reverse("admin:audit_auditevent_changelist"))
