"""My Reconi home: the user's own means and authorizations, and the link requests addressed to them.

Only login is needed; a link request addressed to someone else is a 404 (rule 9).
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from authorizations.selectors import authorizations_of_user
from requests_app.models import Request
from requests_app.services import link_request_accept, link_request_decline
from users.selectors import means_of_user

from ..guards import get_scoped_or_404


def home(request):
    return render(
        request,
        "users/home.html",
        {
            "means_list": means_of_user(user=request.user),
            "authorizations": authorizations_of_user(user=request.user),
            "today": timezone.localdate(),
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
