"""Admin helpers shared by every app's admin.

Deleting in the admin: nothing audited may disappear. ``NoDeleteMixin``
takes the delete button, the delete page and "delete selected" away; a delete URL
typed by hand answers with a message saying why and what to do instead, never a
403 page or a 500. ``AuditedDeleteMixin`` is for the few rows that may go (an
unused catalogue entry): the deletion is recorded in the audit log, in the same
transaction. A test walks every registered admin: each one either refuses deletes
or is listed as deletable on purpose.
"""

from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class NoDeleteMixin:
    """Rows of this admin are never deleted; ``delete_instead`` tells support what to do."""

    delete_instead = _("It stays as a record; the audit log refers to it.")

    def has_delete_permission(self, request, obj=None):
        return False

    def delete_view(self, request, object_id, extra_context=None):
        opts = self.opts
        self.message_user(
            request,
            gettext("%(name)s cannot be deleted. %(instead)s")
            % {"name": str(opts.verbose_name).capitalize(), "instead": self.delete_instead},
            messages.ERROR,
        )
        obj = self.get_object(request, admin.utils.unquote(object_id))
        if obj is not None and self.has_view_or_change_permission(request, obj):
            return HttpResponseRedirect(
                reverse(
                    f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk], current_app=self.admin_site.name
                )
            )
        return HttpResponseRedirect(
            reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist", current_app=self.admin_site.name)
        )


class AuditedDeleteMixin:
    """Rows that may be deleted; each deletion is an audit event in the deleting transaction.

    Rows something else still protects (``on_delete=PROTECT``) are refused by the admin's own
    "cannot delete" page.
    """

    def audit_organization(self, obj):
        return None

    def _audit_delete(self, request, obj) -> None:
        from audit.services import audit_record

        audit_record(
            actor=request.user,
            action=f"{self.opts.model_name}.delete",
            obj=obj,
            organization=self.audit_organization(obj),
            data={"deleted": str(obj)},
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
