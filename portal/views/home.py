"""My Reconi home: the user's own means and authorizations, and the link requests addressed to them.

Only login is needed; a link request addressed to someone else is a 404 (rule 9).
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from authorizations.selectors import authorizations_of_user
from requests_app.models import Request
from requests_app.selectors import requests_about
from requests_app.services import (
    link_request_accept,
    link_request_decline,
    means_renewal_request_create,
    open_renewal_for,
)
from users.models import Means
from users.rules import means_renewable_refusal, renewal_end, renewal_periods, renewal_price
from users.selectors import means_of_user

from ..forms import add_service_errors
from ..forms.home import MeansRenewalForm
from ..guards import get_scoped_or_404


def home(request):
    """My Reconi home: the user's own means and authorizations, and what is under way about them."""
    return render(
        request,
        "users/home.html",
        {
            "means_list": means_of_user(user=request.user),
            "authorizations": authorizations_of_user(user=request.user),
            "requests_about_me": requests_about(user=request.user),
            "today": timezone.localdate(),
        },
    )


@require_http_methods(["GET", "POST"])
def means_renew(request, pk):
    """The link in the renewal reminder: the holder asks to renew their own means (nobody else's: 404)."""
    means = get_scoped_or_404(request, Means.objects.filter(owner=request.user), pk=pk)
    today = timezone.localdate()
    periods = renewal_periods(valid_until=means.valid_until, today=today)
    refusal = means_renewable_refusal(means)
    pending = open_renewal_for(means)
    form = MeansRenewalForm(request.POST or None, holder=request.user, periods=periods)
    if request.method == "POST" and refusal is None and pending is None and form.is_valid():
        try:
            renewal = means_renewal_request_create(
                actor=request.user,
                means=means,
                organization=form.cleaned_data["organization"],
                years=form.cleaned_data["period"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if renewal.payload_for_means_renewal().approvers:
                text = _("Request %(number)s was sent to your authorization manager for approval.")
            else:
                text = _("Request %(number)s was sent to your organisation's representative to sign.")
            messages.success(request, text % {"number": renewal.number})
            return redirect("home")
    elif request.method == "POST" and (refusal is not None or pending is not None):
        form.is_valid()
        form.add_error(
            None,
            refusal.message
            if refusal is not None
            else _("You already asked to renew this means (request %(number)s); it is being handled.")
            % {"number": pending.number},
        )
    options = [
        {
            "years": years,
            "valid_until": renewal_end(valid_until=means.valid_until, years=years, today=today),
            "price": renewal_price(level=means.level, years=years),
        }
        for years in periods
    ]
    return render(
        request,
        "users/means_renew.html",
        {
            "means": means,
            "form": form,
            "options": options,
            "refusal": refusal,
            "pending": pending,
            "expired": means.valid_until < today,
            "today": today,
        },
    )


def _own_link(request, pk):
    links = Request.objects.filter(kind=Request.Kind.LINK_USER, subject_user=request.user).select_related(
        "organization"
    )
    return get_scoped_or_404(request, links, pk=pk)


def _answer(request, pk, service, done_message):
    link = _own_link(request, pk)
    try:
        service(actor=request.user, request=link)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, done_message % {"organization": link.organization.name})
    return redirect("home")


@require_POST
def link_accept(request, pk):
    return _answer(
        request,
        pk,
        link_request_accept,
        _("You are now linked to %(organization)s. Its authorization managers can authorize you."),
    )


@require_POST
def link_decline(request, pk):
    return _answer(request, pk, link_request_decline, _("You declined the link to %(organization)s."))
