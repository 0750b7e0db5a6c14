"""Support's queue actions on requests in the Django admin.

Each action calls a ``requests_app.services`` service per selected request (one
transaction each); a refusal is reported by name and changes nothing. Rejecting
and recording an identity check ask for their input on an intermediate page.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from reconi.admin import run_for_each

from .models import Request
from .services import (
    identity_check_record,
    request_approve,
    request_email_resend,
    request_fulfil,
    request_reject,
)


class SupportQueueFilter(admin.SimpleListFilter):
    """The queue: what waits for support, oldest first in the admin's own ordering."""

    title = _("queue")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [
            ("todo", _("Waiting for support (submitted or approved)")),
            ("submitted", _("Submitted: to check")),
            ("approved", _("Approved: to fulfil")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "todo":
            return queryset.filter(status__in=[Request.Status.SUBMITTED, Request.Status.APPROVED])
        if self.value() in ("submitted", "approved"):
            return queryset.filter(status=self.value())
        return queryset


def _report(modeladmin, request, done: int, message: str) -> None:
    if done:
        modeladmin.message_user(request, message % {"count": done}, messages.SUCCESS)


@admin.action(description=_("Approve the selected requests"))
def approve_requests(modeladmin, request, queryset):
    done = run_for_each(modeladmin, request, queryset, lambda obj: request_approve(actor=request.user, request=obj))
    _report(modeladmin, request, done, gettext("%(count)d request(s) approved."))


@admin.action(description=_("Fulfil: create the accounts, means, links and authorizations"))
def fulfil_requests(modeladmin, request, queryset):
    done = run_for_each(modeladmin, request, queryset, lambda obj: request_fulfil(actor=request.user, request=obj))
    _report(modeladmin, request, done, gettext("%(count)d request(s) fulfilled; the emails are on their way."))


@admin.action(description=_("Send the latest email again"))
def resend_request_email(modeladmin, request, queryset):
    done = run_for_each(
        modeladmin, request, queryset, lambda obj: request_email_resend(actor=request.user, request=obj)
    )
    _report(modeladmin, request, done, gettext("Sent again for %(count)d request(s)."))


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the rejection (the manager reads it)"), widget=forms.Textarea(attrs={"rows": 4})
    )


class IdentityCheckForm(forms.Form):
    method = forms.ChoiceField(label=_("Identity checked by"), choices=Request.IdentityMethod.choices)
    document_type = forms.ChoiceField(label=_("Document type"), choices=Request.DocumentType.choices)
    document_last4 = forms.CharField(
        label=_("Document number, last four characters"), min_length=4, max_length=4, strip=True
    )
    person_index = forms.TypedChoiceField(label=_("Person"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, people=(), **kwargs):
        super().__init__(*args, **kwargs)
        if len(people) > 1:
            self.fields["person_index"].choices = [
                (index, f"{p.first_name} {p.last_name} ({p.level})") for index, p in enumerate(people)
            ]
            self.fields["person_index"].required = True
        else:
            del self.fields["person_index"]


def _intermediate(modeladmin, request, queryset, *, form, template, title, action):
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "form": form,
        "queryset": queryset,
        "opts": modeladmin.model._meta,
        "action": action,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": modeladmin.media,
    }
    return TemplateResponse(request, template, context)


@admin.action(description=_("Reject the selected requests (with a reason)"))
def reject_requests(modeladmin, request, queryset):
    form = RejectForm(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and form.is_valid():
        reason = form.cleaned_data["reason"]
        done = run_for_each(
            modeladmin, request, queryset, lambda obj: request_reject(actor=request.user, request=obj, reason=reason)
        )
        _report(modeladmin, request, done, gettext("%(count)d request(s) rejected; the manager was emailed."))
        return None
    return _intermediate(
        modeladmin,
        request,
        queryset,
        form=form,
        template="requests_app/request_admin_reject.html",
        title=gettext("Reject requests"),
        action="reject_requests",
    )


@admin.action(description=_("Record the identity check"))
def record_identity_check(modeladmin, request, queryset):
    if queryset.count() != 1:
        modeladmin.message_user(request, gettext("Record an identity check for one request at a time."), messages.ERROR)
        return None
    obj = queryset.get()
    people = obj.payload_for_new_means().people if obj.kind == Request.Kind.NEW_MEANS else ()
    form = IdentityCheckForm(request.POST if "apply" in request.POST else None, people=people)
    if "apply" in request.POST and form.is_valid():
        data = form.cleaned_data
        done = run_for_each(
            modeladmin,
            request,
            queryset,
            lambda o: identity_check_record(
                actor=request.user,
                request=o,
                method=data["method"],
                document_type=data["document_type"],
                document_last4=data["document_last4"],
                person_index=data.get("person_index"),
            ),
        )
        _report(modeladmin, request, done, gettext("Identity check recorded for %(count)d request(s)."))
        return None
    return _intermediate(
        modeladmin,
        request,
        queryset,
        form=form,
        template="requests_app/request_admin_identity.html",
        title=gettext("Record the identity check"),
        action="record_identity_check",
    )


SUPPORT_ACTIONS = [record_identity_check, approve_requests, reject_requests, fulfil_requests, resend_request_email]
IDENTITY_FIELDS = (
    "identity_method",
    "identity_document_type",
    "identity_document_last4",
    "identity_checked_by",
    "identity_checked_at",
)
