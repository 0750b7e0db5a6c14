"""The audit log in the admin: read-only for everyone, superusers included.

The hash chain is verified on request ("Verify the hash chain" on the list), against
the latest signed anchor too (audit/chain.py): walking the whole log is linear in its
size, too slow for every page view.
Each row's own hash is checked in the list, which costs no query.
"""

import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from reconi.admin import NoDeleteMixin

from .chain import audit_verify
from .labels import ACTION_LABELS, action_label
from .models import AuditEvent


class ActionFilter(admin.SimpleListFilter):
    """The action filter by name, not by code."""

    title = _("what")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return sorted(((code, label) for code, label in ACTION_LABELS.items()), key=lambda item: str(item[1]))

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(NoDeleteMixin, admin.ModelAdmin):
    delete_instead = _("The audit log is append-only.")
    list_display = (
        "created_at",
        "actor_email",
        "organization",
        "action_name",
        "object_type",
        "object_id",
        "ip_address",
        "hash_ok",
    )
    list_select_related = ("organization",)
    list_filter = (ActionFilter, "organization")  # action is indexed: its distinct values stay cheap
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

    @admin.display(description=_("what"), ordering="action")
    def action_name(self, obj):
        return action_label(obj.action)

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
        """Walk the whole chain and hold it against the latest signed anchor; the result is a message on the list."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        result = audit_verify()
        if result.ok:
            message = gettext("The hash chain is intact: no event was changed, removed or inserted.")
            if result.anchor:
                message += " " + gettext("It matches the signed anchor of %(when)s (event %(id)s).") % {
                    "when": result.anchor["anchored_at"][:16].replace("T", " "),
                    "id": result.anchor["last_id"],
                }
            self.message_user(request, message, messages.SUCCESS)
        else:
            self.message_user(
                request,
                gettext("The hash chain is broken at event %(id)s: the log was tampered with from there on.")
                % {"id": result.first_bad_id},
                messages.ERROR,
            )
        if result.bad_anchor_files:
            self.message_user(
                request,
                gettext("%(count)s anchor file(s) do not carry the portal's signature.")
                % {"count": len(result.bad_anchor_files)},
                messages.ERROR,
            )
        return HttpResponseRedirect(reverse("admin:audit_auditevent_changelist"))
