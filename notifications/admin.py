import datetime

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, Q
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from reconi.admin import NoDeleteMixin

from .masking import mask_secrets
from .models import DeliveryAttempt, OutboxAttachment, OutboxEmail, RenewalReminder
from .selectors import outbox_backlog
from .services import email_resend


class RecipientFilter(admin.SimpleListFilter):
    """A text box, not a list: the outbox has as many recipients as there are users."""

    title = _("recipient")
    parameter_name = "recipient"
    template = "notifications/admin/recipient_filter.html"

    def lookups(self, request, model_admin):
        # A filter without lookups is not shown at all; the template draws a text box instead.
        return [("", "")]

    def choices(self, changelist):
        # The other active filters travel along as hidden fields of the text box's form.
        yield {
            "hidden": [
                (name, value)
                for name, values in changelist.filter_params.items()
                if name != self.parameter_name
                for value in values
            ]
        }

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        if not value:
            return queryset
        return queryset.filter(Q(to__iexact=value) | Q(recipient__email__iexact=value))


class OutboxAttachmentInline(admin.TabularInline):
    model = OutboxAttachment
    fields = ["filename", "mimetype", "size"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("size (bytes)"))
    def size(self, obj):
        return len(obj.content or b"")


class DeliveryAttemptInline(admin.TabularInline):
    """Every try to hand the email over: a duplicate shows as an interrupted attempt before another."""

    model = DeliveryAttempt
    fields = ["number", "started_at", "finished_at", "outcome", "smtp_code", "smtp_reply", "worker"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class PossibleDuplicateFilter(admin.SimpleListFilter):
    title = _("possible duplicate")
    parameter_name = "duplicate"

    def lookups(self, request, model_admin):
        return [("yes", _("An attempt was interrupted"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(_interrupted())
        return queryset


def _interrupted():
    return Exists(DeliveryAttempt.objects.filter(email=OuterRef("pk"), outcome=DeliveryAttempt.Outcome.INTERRUPTED))


@admin.register(OutboxEmail)
class OutboxEmailAdmin(NoDeleteMixin, admin.ModelAdmin):
    delete_instead = _("The outbox is the record of what was sent, when and how often.")
    list_display = [
        "created_at",
        "kind",
        "to",
        "language",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "possible_duplicate",
        "short_error",
    ]
    list_filter = ["status", PossibleDuplicateFilter, "kind", "language", RecipientFilter]
    search_fields = ["to", "recipient__email", "subject", "dedupe_key"]
    date_hierarchy = "created_at"
    list_select_related = ["recipient"]
    actions = ["resend"]
    inlines = [DeliveryAttemptInline, OutboxAttachmentInline]
    show_full_result_count = False
    fields = [
        "kind",
        "to",
        "recipient",
        "language",
        "masked_subject",
        "masked_body_text",
        "masked_body_html",
        "dedupe_key",
        "status",
        "attempts",
        "resends",
        "last_error",
        "next_attempt_at",
        "created_at",
        "sent_at",
    ]
    # Bodies are what was rendered and sent: nobody edits them. Change rights only unlock "Resend".
    # They are shown with their signing links, password links and codes masked (masking.py).
    readonly_fields = fields

    @admin.display(description=_("subject"))
    def masked_subject(self, obj):
        return mask_secrets(obj.subject, kind=obj.kind)

    @admin.display(description=_("text body"))
    def masked_body_text(self, obj):
        return format_html("<pre>{}</pre>", mask_secrets(obj.body_text, kind=obj.kind))

    @admin.display(description=_("HTML body"))
    def masked_body_html(self, obj):
        # The markup as text, never rendered: a rendered link would be one click away.
        return format_html("<pre>{}</pre>", mask_secrets(obj.body_html, kind=obj.kind))

    def has_add_permission(self, request):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(interrupted=_interrupted())

    def changelist_view(self, request, extra_context=None):
        backlog = outbox_backlog()
        oldest = backlog["oldest_pending_created_at"]
        backlog["oldest_pending"] = datetime.datetime.fromisoformat(oldest) if oldest else None
        return super().changelist_view(request, {**(extra_context or {}), "outbox_backlog": backlog})

    @admin.display(description=_("possible duplicate"), boolean=True, ordering="interrupted")
    def possible_duplicate(self, obj):
        return obj.interrupted

    @admin.display(description=_("last error"))
    def short_error(self, obj):
        return (obj.last_error[:80] + "…") if len(obj.last_error) > 80 else obj.last_error

    @admin.action(description=_("Resend the selected emails"), permissions=["change"])
    def resend(self, request, queryset):
        count = skipped = 0
        for email in queryset:
            if email.status == OutboxEmail.Status.PENDING:
                skipped += 1
                continue
            try:
                email_resend(actor=request.user, email=email)
            except PermissionDenied:
                self.message_user(request, _("You may not resend emails."), messages.ERROR)
                return
            except ValidationError as error:
                self.message_user(request, f"{email.to}: {' '.join(error.messages)}", messages.ERROR)
                continue
            count += 1
        if count:
            self.message_user(
                request,
                ngettext("%(count)d email queued again.", "%(count)d emails queued again.", count) % {"count": count},
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d email is still pending and was left alone.",
                    "%(count)d emails are still pending and were left alone.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )


@admin.register(RenewalReminder)
class RenewalReminderAdmin(NoDeleteMixin, admin.ModelAdmin):
    delete_instead = _("Without this row the reminder would be due again and sent twice.")
    list_display = ["created_at", "target", "object_id", "valid_until", "stage", "key"]
    list_filter = ["target", "stage"]
    search_fields = ["key"]
    date_hierarchy = "created_at"
    readonly_fields = ["key", "target", "object_id", "valid_until", "stage", "run", "created_at"]
    fields = readonly_fields
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
