"""A user answers a link request addressed to them (shown on their home page).

Only login is needed; a link request addressed to someone else is a 404.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from reconi.permissions import get_scoped_or_404
from requests_app.models import Request
from requests_app.services import link_request_accept, link_request_decline


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
