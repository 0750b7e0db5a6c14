"""Support's view of requests: the form, its signatures and the signed PDF; approving appointments.

Status changes go through the services only (never a saved form field).
"""

from django.contrib import admin, messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from reconi.admin import NoDeleteMixin, ReadOnlyInline, run_for_each
from reconi.roles import is_support

from .admin_actions import IDENTITY_FIELDS, SUPPORT_ACTIONS, SupportQueueFilter
from .models import Request, Signature, SigningToken
from .services import appointment_approve


class SignatureInline(ReadOnlyInline):
    model = Signature
    fields = ("signer_name", "capacity", "signed_at", "ip_address", "pdf_sha256", "consent_text")


class SigningTokenInline(ReadOnlyInline):
    model = SigningToken
    fields = ("representative", "created_at", "expires_at", "used_at", "revoked_at", "codes_sent")
    verbose_name_plural = _("signing links")


@admin.register(Request)
class RequestAdmin(NoDeleteMixin, admin.ModelAdmin):
    delete_instead = _("Reject or cancel it instead; every step stays in the audit log.")
    list_display = ("number", "kind", "organization", "subject_user", "level", "status", "created_at", "submitted_at")
    list_filter = (SupportQueueFilter, "status", "kind", "level")
    search_fields = ("number", "organization__name", "=organization__kvk_number", "subject_user__email")
    list_select_related = ("organization", "subject_user")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    inlines = [SignatureInline, SigningTokenInline]
    actions = ["approve_appointments", *SUPPORT_ACTIONS]
    readonly_fields = (
        "number",
        "kind",
        "organization",
        "created_by",
        "status",
        "subject_user",
        "level",
        "language",
        "payload",
        "reason",
        "rejection_reason",
        "signatures_required",
        *IDENTITY_FIELDS,
        "signed_pdf_link",
        "signed_pdf_sha256",
        "created_at",
        "submitted_at",
        "decided_at",
        "decided_by",
        "fulfilled_at",
        "cancelled_at",
    )

    def has_add_permission(self, request):
        return False

    def get_urls(self):
        urls = super().get_urls()
        return [
            path(
                "<int:pk>/pdf/",
                self.admin_site.admin_view(self.pdf_view),
                name="requests_app_request_pdf",
            ),
            *urls,
        ]

    def pdf_view(self, request, pk):
        if not is_support(request.user) and not request.user.is_superuser:
            return HttpResponse(status=403)
        obj = get_object_or_404(Request, pk=pk)
        content = obj.current_pdf
        if content is None:
            return HttpResponse(gettext("This request has no PDF yet."), status=404, content_type="text/plain")
        response = HttpResponse(content, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{obj.number}.pdf"'
        return response

    @admin.display(description=_("form (PDF)"))
    def signed_pdf_link(self, obj):
        if obj.pk is None or (obj.pdf is None and obj.signed_pdf is None):
            return "—"
        label = gettext("Signed PDF") if obj.signed_pdf else gettext("PDF (not signed yet)")
        return format_html('<a href="{}">{}</a>', reverse("admin:requests_app_request_pdf", args=[obj.pk]), label)

    @admin.action(description=_("Approve appointment: grant the manager role"), permissions=["change"])
    def approve_appointments(self, request, queryset):
        done = run_for_each(self, request, queryset, lambda obj: appointment_approve(actor=request.user, request=obj))
        if done:
            self.message_user(
                request, gettext("%(count)d appointment(s) approved.") % {"count": done}, messages.SUCCESS
            )


@admin.register(Signature)
class SignatureAdmin(NoDeleteMixin, admin.ModelAdmin):
    delete_instead = _("A signature is evidence of a signed form.")
    list_display = ("request", "signer_name", "capacity", "signed_at")
    list_filter = ("capacity",)
    search_fields = ("request__number", "signer_name")
    list_select_related = ("request__organization",)
    readonly_fields = [f.name for f in Signature._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
