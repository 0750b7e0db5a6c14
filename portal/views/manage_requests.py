"""Manage tab, Requests: the list, a new link request, and one request's page (review, sign, submit, cancel).

Every view is for managers only and looks objects up through querysets scoped
to the organisations the manager manages (rule 9): another organisation's
request is a 404.
"""

import logging

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from reconi.navigation import back_to_permissions, with_next
from requests_app import services
from requests_app.models import Request, Signature
from requests_app.services import SIGNED_KINDS, link_request_create, request_submit
from requests_app.signing import form_html

from ..forms import add_service_errors
from ..forms.manage_requests import CancelForm, LinkRequestForm, RequestFilterForm
from ..guards import (
    confirmed_recently,
    get_scoped_or_404,
    managed_organizations,
    manager_required,
    reauthenticate_url_name,
)

PAGE_SIZE = 25
logger = logging.getLogger(__name__)


def _requests_of(request):
    return Request.objects.filter(organization__in=managed_organizations(request)).select_related(
        "organization", "created_by", "subject_user"
    )


@manager_required
def request_list(request):
    form = RequestFilterForm(request.GET or None, manager=request.user)
    requests = _requests_of(request).defer("pdf", "signed_pdf")
    if form.is_valid():
        data = form.cleaned_data
        if data.get("organization"):
            requests = requests.filter(organization=data["organization"])
        if data.get("status"):
            requests = requests.filter(status=data["status"])
        if data.get("kind"):
            requests = requests.filter(kind=data["kind"])
        for word in (data.get("q") or "").split():
            requests = requests.filter(
                Q(number__icontains=word)
                | Q(subject_user__first_name__icontains=word)
                | Q(subject_user__last_name__icontains=word)
                | Q(subject_user__email__icontains=word)
                | Q(created_by__email__icontains=word)
                | Q(payload__icontains=word)
            )
    page = Paginator(requests, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "requests_app/request_list.html", {"form": form, "page": page, "query": query.urlencode()})


@manager_required
@require_http_methods(["GET", "POST"])
def request_new(request):
    """Link a user I see in one of my organisations to another one I manage (the seed's BV 1 → BV 2)."""
    if request.method == "POST":
        form = LinkRequestForm(request.POST, manager=request.user)
        if form.is_valid():
            try:
                link = link_request_create(
                    actor=request.user,
                    user=form.cleaned_data["user"],
                    organization=form.cleaned_data["organization"],
                    reason=form.cleaned_data["reason"],
                )
            except PermissionDenied:
                form.add_error("user", _("Choose a user of one of your organisations."))
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("%(user)s was asked by email to accept the link to %(organization)s.")
                    % {"user": link.subject_user, "organization": link.organization.name},
                )
                return redirect("request_detail", pk=link.pk)
    else:
        # Preselection from the permissions wizard ("show users not linked").
        initial = {key: request.GET[key] for key in ("user", "organization") if request.GET.get(key, "").isdigit()}
        form = LinkRequestForm(initial=initial, manager=request.user)
    return render(request, "requests_app/request_new.html", {"form": form})


def _reauthenticate(request, url_name: str):
    next_url = with_next(
        reverse("request_detail", kwargs={"pk": request.resolver_match.kwargs["pk"]}), back_to_permissions(request)
    )
    messages.info(request, _("Confirm it is you, then click “Sign” again."))
    return redirect(f"{reverse(url_name)}?{urlencode({'next': next_url})}")


@manager_required
@require_http_methods(["GET", "POST"])
def request_detail(request, pk):
    obj = get_scoped_or_404(request, _requests_of(request), pk=pk)
    if request.method == "GET" and request.GET.get("format") == "pdf":
        pdf = obj.current_pdf
        if pdf is None:
            messages.info(request, _("The PDF is made when the form is signed or sent for signature."))
            return redirect("request_detail", pk=obj.pk)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{obj.number}.pdf"'
        return response

    signable = obj.kind in SIGNED_KINDS and obj.status in (Request.Status.DRAFT, Request.Status.AWAITING_SIGNATURE)
    manager_signed = obj.signatures.filter(capacity=Signature.Capacity.MANAGER).exists()
    cancel_form = CancelForm(request.POST or None)
    back = back_to_permissions(request)  # started from "Request new means" on the Permissions page
    if request.method == "POST":
        action = request.POST.get("action")
        done = False
        try:
            if action == "sign" and signable and not manager_signed:
                if not confirmed_recently(request):
                    return _reauthenticate(request, reauthenticate_url_name(request.user))
                services.request_sign_as_manager(
                    actor=request.user, request=obj, ip_address=request.META.get("REMOTE_ADDR")
                )
                obj.refresh_from_db()
                request_submit(actor=request.user, request=obj)
                messages.success(
                    request, _("You signed form %(number)s; it was sent to Reconi.") % {"number": obj.number}
                )
                done = True
            elif action == "approve_renewal" and obj.kind == Request.Kind.MEANS_RENEWAL:
                services.means_renewal_approve(actor=request.user, request=obj)
                obj.refresh_from_db()
                messages.success(
                    request,
                    _("The means of %(user)s was renewed until %(date)s.")
                    % {"user": obj.subject_user, "date": obj.payload_for_means_renewal().renewed_until},
                )
            elif action == "send" and signable and obj.status == Request.Status.DRAFT:
                services.request_send_for_signature(actor=request.user, request=obj)
                messages.success(request, _("The representative(s) received a link to sign the form by email."))
                done = True
            elif action == "submit" and signable:
                request_submit(actor=request.user, request=obj)
                messages.success(request, _("Form %(number)s was sent to Reconi.") % {"number": obj.number})
            elif action == "cancel" and obj.status in (
                Request.Status.DRAFT,
                Request.Status.AWAITING_SIGNATURE,
                Request.Status.SUBMITTED,
            ):
                if cancel_form.is_valid():
                    services.request_cancel(actor=request.user, request=obj, reason=cancel_form.cleaned_data["reason"])
                    messages.success(request, _("Request %(number)s was cancelled.") % {"number": obj.number})
            else:
                messages.error(request, _("This action is not possible for this request (any more)."))
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        except PermissionDenied:
            messages.error(request, _("You cannot do this for this request."))
        if done and back:
            return redirect(back)
        return redirect(with_next(reverse("request_detail", kwargs={"pk": obj.pk}), back))

    try:
        form_preview = mark_safe(form_html(obj, for_pdf=False))  # noqa: S308 — our own template, autoescaped
    except Exception:  # the preview is a convenience; the page works without it
        logger.exception("form preview of request %s failed", obj.pk)
        form_preview = ""
    return render(
        request,
        "requests_app/request_detail.html",
        {
            "obj": obj,
            "signatures": obj.signatures.all(),
            "back": back,
            "can_sign": signable and not manager_signed,
            "can_approve_renewal": obj.kind == Request.Kind.MEANS_RENEWAL
            and obj.status == Request.Status.AWAITING_SIGNATURE,
            "can_send": signable and obj.status == Request.Status.DRAFT,
            "can_cancel": obj.status
            in (Request.Status.DRAFT, Request.Status.AWAITING_SIGNATURE, Request.Status.SUBMITTED),
            "cancel_form": cancel_form,
            "form_preview": form_preview,
            "payload": obj.payload_data,
        },
    )
