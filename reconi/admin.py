"""Helpers every app's admin shares.

Writes that carry rules go through the services (with ``request.user`` as actor),
never through a raw ``save()`` of the admin's change form. Changes audited by the
admin itself use ``audit.admin.AuditedSaveMixin``.

Deleting in the admin: nothing audited may disappear (rule 16). ``NoDeleteMixin``
takes the delete button, the delete page and "delete selected" away; a delete URL
typed by hand answers with a message saying why and what to do instead. The few rows
that may go (an unused catalogue entry) use ``audit.admin.AuditedDeleteMixin``.
"""

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("Reconi support")
admin.site.site_title = _("Reconi support")
admin.site.index_title = _("Support")


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
