"""The Permissions list and its row actions (revoke, renew, activate).

Every object is looked up in the authorizations of the organisations the user
manages today; anything else is a 404 (and logged). Every change is a POST that
goes through ``authorizations.services``; GET only shows a confirmation.
"""

import datetime
import functools

from django.contrib import messages
from django.core.exceptions import ValidationError
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

from reconi.pagination import DeferredJoinPaginator
from reconi.permissions import (
    get_scoped_or_404,
    log_denied,
    managed_organization_ids,
    managed_organizations,
    manager_required,
)
from reconi.rules import VALID_PERIODS, new_end, period_label, periods_that_fit

from .. import selectors, services
from ..forms import PeriodForm, PermissionFilterForm
from ..rules import reactivate_refusal, renew_refusal
from .permission_rows import PermissionRows, render_rows

PAGE_SIZE = 50


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


def _options(current_end, today) -> list[tuple[int, str, object]]:
    """The periods offered (those that fit within five years), each with its new end date."""
    return [
        (years, period_label(years), new_end(current_end=current_end, years=years, today=today))
        for years in periods_that_fit(current_end=current_end, today=today)
    ]


def _renew_options(valid_until, *, today):
    return _options(valid_until, today)


def _status_refusal(authorization, *, renewing: bool):
    if renewing:
        return renew_refusal(status=authorization.status_value)
    return reactivate_refusal(status=authorization.status_value)


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
        next_url=request.get_full_path(),
        expiring_until=selectors.expiring_until(today),
        renew_options=functools.partial(_renew_options, today=today),
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
                    "activate_options": rows.options(_options(None, today)),
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


def _period_change(request, form: PeriodForm, service, authorization, success: str) -> None:
    """Renew or activate through ``service`` with the period and the end date the form carried; say how it went."""
    try:
        changed = service(
            actor=request.user,
            authorization=authorization.pk,
            years=form.cleaned_data["period"],
            expected_valid_until=form.cleaned_data["seen_until"],
        )
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, success % {"user": changed.user, "date": _date(changed.valid_until)})


@manager_required
@require_http_methods(["GET", "POST"])
def permission_renew(request, pk):
    authorization = get_scoped_or_404(request, _scoped(request), pk=pk)
    next_url = _next_url(request)
    form = PeriodForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        _period_change(
            request,
            form,
            services.authorization_renew,
            authorization,
            _("Permission of %(user)s renewed until %(date)s."),
        )
        return HttpResponseRedirect(next_url)
    refusal = _status_refusal(authorization, renewing=True)
    return render(
        request,
        "authorizations/permission_renew.html",
        {
            "authorization": authorization,
            "form": form,
            "next": next_url,
            "renewable": refusal is None,
            "reason": refusal,
            "new_end_dates": _options(authorization.valid_until, timezone.localdate()),
        },
    )


@manager_required
@require_http_methods(["GET", "POST"])
def permission_activate(request, pk):
    authorization = get_scoped_or_404(request, _scoped(request), pk=pk)
    next_url = _next_url(request)
    today = timezone.localdate()
    form = PeriodForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        _period_change(
            request,
            form,
            services.authorization_reactivate,
            authorization,
            _("Permission of %(user)s activated until %(date)s."),
        )
        return HttpResponseRedirect(next_url)
    return render(
        request,
        "authorizations/permission_activate.html",
        {
            "authorization": authorization,
            "form": form,
            "next": next_url,
            "reason": _status_refusal(authorization, renewing=False),
            "today": today,
            "new_end_dates": _options(None, today),
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

    today = timezone.localdate()
    refusals = {a.pk: _status_refusal(a, renewing=True) for a in selection}
    renewable = [a for a in selection if refusals[a.pk] is None]
    not_renewable = [(a, refusals[a.pk]) for a in selection if refusals[a.pk] is not None]
    # Only the periods that fit every row are offered.
    fitting = [
        years
        for years in VALID_PERIODS
        if all(years in periods_that_fit(current_end=a.valid_until, today=today) for a in renewable)
    ]
    form = PeriodForm(request.POST or None, seen=False)
    failed = {}
    if request.method == "POST" and form.is_valid():
        if not_renewable:
            form.add_error(None, _("Some of the selected permissions cannot be renewed; nothing was renewed."))
        else:
            try:
                renewed = services.authorization_renew_many(
                    actor=request.user,
                    seen={a.pk: _seen_until(request.POST, a.pk) for a in renewable},
                    years=form.cleaned_data["period"],
                )
            except services.RowsRefused as error:
                failed = error.rows
                form.add_error(None, error.message)
            else:
                messages.success(
                    request,
                    ngettext("%(count)d permission renewed.", "%(count)d permissions renewed.", len(renewed))
                    % {"count": len(renewed)},
                )
                return HttpResponseRedirect(next_url)
    rows = [
        (a, [(years, label, until) for years, label, until in _options(a.valid_until, today) if years in fitting])
        for a in renewable
    ]
    return render(
        request,
        "authorizations/permission_renew_many.html",
        {
            "rows": rows,
            "not_renewable": not_renewable,
            "form": form,
            "next": next_url,
            "period_choices": [(years, period_label(years)) for years in fitting],
            "expiring": data.get("expiring") == "1" and not ids,
            "failed": {pk: " ".join(messages_) for pk, messages_ in failed.items()},
        },
    )


def _seen_until(data, pk: int):
    """The end date the manager saw for row ``pk`` (None when the page did not carry it: refused as stale)."""
    try:
        return datetime.date.fromisoformat(data.get(f"until_{pk}", ""))
    except ValueError:
        return datetime.date.min
