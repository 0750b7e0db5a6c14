"""The Permissions list and its row actions (revoke, renew, activate).

Every object is looked up in the authorizations of the organisations the user
manages today; anything else is a 404 (and logged). Every change is a POST that
goes through ``authorizations.services``; GET only shows a confirmation.
"""

from dateutil.relativedelta import relativedelta
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from authorizations import selectors, services
from authorizations.models import AuthorizationStatus
from reconi.pagination import DeferredJoinPaginator

from ..forms.manage_permissions import PERIOD_CHOICES, PeriodForm, PermissionFilterForm
from ..guards import (
    get_scoped_or_404,
    log_denied,
    managed_organization_ids,
    managed_organizations,
    manager_required,
)
from .permission_rows import PermissionRows, render_rows

PAGE_SIZE = 50
RENEWABLE = (AuthorizationStatus.PENDING, AuthorizationStatus.ACTIVE)


def _scoped(request):
    return selectors.authorizations_managed_by(user=request.user)


def _next_url(request) -> str:
    """Back to where the manager came from (the filtered list), never off-site."""
    candidate = request.POST.get("next") or request.GET.get("next")
    # Only a local path: a bare word ("abc") would be taken for a URL name by redirect().
    if (
        candidate
        and candidate.startswith("/")
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return candidate
    return reverse("permission_list")


def _date(value) -> str:
    return date_format(value, "DATE_FORMAT")


def _error_text(error: ValidationError) -> str:
    return " ".join(str(message) for message in error.messages)


def _new_end_dates(valid_until):
    """What renewing by each period would give: [(years, label, new end date)]."""
    return [(years, label, valid_until + relativedelta(years=years)) for years, label in PERIOD_CHOICES]


def _not_renewable_reason(authorization) -> str:
    if authorization.status_value == AuthorizationStatus.REVOKED:
        return _("Revoked permissions cannot be renewed or reactivated; request a new one instead.")
    return _("Expired: activate it instead, which starts a new period.")


@manager_required
@require_GET
def permission_list(request):
    organizations = managed_organizations(request)
    form = PermissionFilterForm(request.GET or None, organizations=organizations)
    if form.is_bound and not form.is_valid():
        queryset = _scoped(request).none()
    else:
        filters = form.cleaned_data if form.is_bound else {}
        queryset = selectors.authorization_list(organization_ids=managed_organization_ids(request), filters=filters)
    paginator = DeferredJoinPaginator(selectors.ids_only(queryset), PAGE_SIZE, load=selectors.in_order)
    page = paginator.get_page(request.GET.get("page"))
    today = timezone.localdate()
    rows = PermissionRows(
        next_url=request.get_full_path(), expiring_until=selectors.expiring_until(today), renew_options=_new_end_dates
    )
    return render(
        request,
        "authorizations/permission_list.html",
        {
            "form": form,
            "page_obj": page,
            "rows": render_rows(
                [rows.row(authorization) for authorization in page],
                context={
                    "next": request.get_full_path(),
                    "csrf_token": get_token(request),
                    "new_url": reverse("permission_new"),
                    "activate_options": rows.options(_new_end_dates(today)),
                },
            ),
            "show_inactive": form.is_bound and form.is_valid() and form.cleaned_data.get("show_inactive"),
        },
    )


@manager_required
@require_http_methods(["GET", "POST"])
def permission_revoke(request, pk):
    authorization = get_scoped_or_404(request, _scoped(request), pk=pk)
    next_url = _next_url(request)
    if request.method == "POST":
        try:
            services.authorization_revoke(actor=request.user, authorization=authorization)
        except ValidationError as error:
            messages.error(request, _error_text(error))
        else:
            messages.success(
                request,
                _("Permission revoked: %(user)s can no longer log in for %(organization)s with it.")
                % {"user": authorization.user, "organization": authorization.organization.name},
            )
        return HttpResponseRedirect(next_url)
    return render(
        request,
        "authorizations/permission_revoke.html",
        {"authorization": authorization, "next": next_url},
    )


def _period_action(request, pk, *, act, success: str, template: str, context):
    """Renew or activate one row: GET shows the choice of period, POST calls ``act``.

    ``act(authorization, years)`` is the service; ``context(authorization)`` adds
    what the confirmation page shows besides the form.
    """
    authorization = get_scoped_or_404(request, _scoped(request), pk=pk)
    next_url = _next_url(request)
    form = PeriodForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            act(authorization, form.cleaned_data["period"])
        except ValidationError as error:
            form.add_error(None, _error_text(error))
        else:
            authorization.refresh_from_db()
            messages.success(request, success % {"user": authorization.user, "date": _date(authorization.valid_until)})
            return HttpResponseRedirect(next_url)
    return render(
        request,
        template,
        {"authorization": authorization, "form": form, "next": next_url, **context(authorization)},
    )


@manager_required
@require_http_methods(["GET", "POST"])
def permission_renew(request, pk):
    return _period_action(
        request,
        pk,
        act=lambda authorization, years: services.authorization_renew(
            actor=request.user, authorization=authorization, years=years
        ),
        success=_("Permission of %(user)s renewed until %(date)s."),
        template="authorizations/permission_renew.html",
        context=lambda authorization: {
            "renewable": authorization.status_value in RENEWABLE,
            "reason": _not_renewable_reason(authorization),
            "new_end_dates": _new_end_dates(authorization.valid_until),
        },
    )


@manager_required
@require_http_methods(["GET", "POST"])
def permission_activate(request, pk):
    today = timezone.localdate()
    return _period_action(
        request,
        pk,
        act=lambda authorization, years: services.authorization_reactivate(
            actor=request.user, authorization=authorization, years=years
        ),
        success=_("Permission of %(user)s activated until %(date)s."),
        template="authorizations/permission_activate.html",
        context=lambda authorization: {
            "revoked": authorization.status_value == AuthorizationStatus.REVOKED,
            "expired": authorization.status_value == AuthorizationStatus.EXPIRED,
            "today": today,
            "new_end_dates": _new_end_dates(today),
        },
    )


def _selected_ids(values) -> list[int]:
    ids = []
    for value in values:
        for part in str(value).split(","):
            part = part.strip()
            if part:
                ids.append(int(part))  # ValueError: caller answers 404
    return sorted(set(ids))


@manager_required
@require_http_methods(["GET", "POST"])
def permission_renew_many(request):
    """The "Renew permissions" button: a selection (ids) or everything expiring within two months."""
    data = request.POST if request.method == "POST" else request.GET
    next_url = _next_url(request)
    scoped = _scoped(request)
    try:
        ids = _selected_ids(data.getlist("ids"))
    except ValueError:
        raise Http404 from None
    if ids:
        selection = list(scoped.filter(pk__in=ids).order_by("valid_until", "id"))
        missing = sorted(set(ids) - {a.pk for a in selection})
        if missing:
            # One id outside my organisations refuses the whole request, as it would for a single row.
            log_denied(request, "authorizations.authorization", pk=",".join(map(str, missing)))
            raise Http404
    elif data.get("expiring") == "1":
        filters = {"expiring": True}
        organization_id = data.get("organization")
        if organization_id:
            filters["organization"] = get_scoped_or_404(request, managed_organizations(request), pk=organization_id)
        ids = selectors.authorization_list(organization_ids=managed_organization_ids(request), filters=filters)
        selection = selectors.in_order(list(selectors.ids_only(ids)))
    else:
        messages.warning(request, _("Select the permissions you want to renew first."))
        return redirect(next_url)

    renewable = [a for a in selection if a.status_value in RENEWABLE]
    not_renewable = [(a, _not_renewable_reason(a)) for a in selection if a.status_value not in RENEWABLE]
    form = PeriodForm(request.POST or None)
    failed_pk = None
    if request.method == "POST" and form.is_valid():
        if not_renewable:
            form.add_error(None, _("Some of the selected permissions cannot be renewed; nothing was renewed."))
        else:
            years = form.cleaned_data["period"]
            current = None
            try:
                # All or nothing: one failing row leaves every row as it was.
                with transaction.atomic():
                    for authorization in renewable:
                        current = authorization
                        services.authorization_renew(actor=request.user, authorization=authorization, years=years)
            except ValidationError as error:
                failed_pk = current.pk
                form.add_error(
                    None,
                    _("%(user)s, %(scope)s: %(error)s Nothing was renewed.")
                    % {"user": current.user, "scope": current.scope_label, "error": _error_text(error)},
                )
            else:
                messages.success(
                    request,
                    ngettext("%(count)d permission renewed.", "%(count)d permissions renewed.", len(renewable))
                    % {"count": len(renewable)},
                )
                return HttpResponseRedirect(next_url)
    rows = [(a, _new_end_dates(a.valid_until)) for a in renewable]
    return render(
        request,
        "authorizations/permission_renew_many.html",
        {
            "rows": rows,
            "not_renewable": not_renewable,
            "form": form,
            "next": next_url,
            "period_choices": PERIOD_CHOICES,
            "expiring": data.get("expiring") == "1" and not ids,
            "failed_pk": failed_pk,
        },
    )
