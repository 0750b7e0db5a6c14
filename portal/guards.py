"""View guards of the pages: who may open the Manage tab, step-up checks, and scoped lookups.

Rights are read from the database on every request (nothing is cached in the
session), so a withdrawn manager role fails on the very next request.
"""

import functools
import logging

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from audit.services import audit_record
from organizations.models import Membership, Organization
from reconi.authentication import authenticated_within, mfa_enabled
from reconi.levels import AssuranceLevel

security_log = logging.getLogger("reconi.security")

# How recent a second factor must be for signing and other sensitive steps.
STEP_UP_SECONDS = 300


def confirmed_recently(request) -> bool:
    """Sensitive steps (signing) ask again: the second factor, or the password for a user without one."""
    method = "mfa" if mfa_enabled(request.user) else None
    return authenticated_within(request, STEP_UP_SECONDS, method=method)


def reauthenticate_url_name(user) -> str:
    """allauth's page that asks the user to confirm it is them, with the strongest factor they have."""
    return "mfa_reauthenticate" if mfa_enabled(user) else "account_reauthenticate"


def log_denied(request, what: str, **details) -> None:
    """Record a refused attempt on someone else's object, for support to see."""
    user = request.user if request.user.is_authenticated else None
    security_log.warning("denied %s to %s: %s", what, getattr(user, "email", "anonymous"), details)
    with transaction.atomic():
        audit_record(actor=user, action="access.denied", data={"what": what, "path": request.path, **details})


def get_scoped_or_404(request, queryset, **lookup):
    """``get_object_or_404`` on a queryset already scoped to the user; logs a miss."""
    try:
        return queryset.get(**lookup)
    except queryset.model.DoesNotExist:
        log_denied(request, queryset.model._meta.label_lower, **{k: str(v) for k, v in lookup.items()})
        raise Http404 from None
    except (ValueError, TypeError):
        raise Http404 from None


def _manager_levels(request) -> dict[int, str]:
    """{organisation id: manager level} of what the user manages now: worked out once per request, never kept."""
    if not request.user.is_authenticated:
        return {}
    if not hasattr(request, "_manager_levels"):
        request._manager_levels = dict(
            Membership.objects.filter(
                user=request.user, organization__in=Organization.objects.managed_by(request.user)
            ).values_list("organization_id", "manager_level")
        )
    return request._manager_levels


def managed_organization_ids(request) -> list[int]:
    """The ids of the organisations the user manages now."""
    return sorted(_manager_levels(request))


def managed_organizations(request):
    """The organisations the user manages now, on literal ids: no subquery in every query that scopes by them."""
    return Organization.objects.filter(pk__in=managed_organization_ids(request))


def _step_up_response(request):
    """Where a manager goes who lacks the second factor their level needs."""
    if not mfa_enabled(request.user):
        messages.warning(request, _("Your manager role needs a second factor. Set up an authenticator app first."))
        return redirect(f"{reverse('mfa_activate_totp')}?{urlencode({'next': request.get_full_path()})}")
    messages.info(request, _("Confirm with your authenticator app to open the Manage tab."))
    return redirect(f"{reverse('mfa_reauthenticate')}?{urlencode({'next': request.get_full_path()})}")


def manager_required(view):
    """Only for users who manage an organisation today; EH2+ and up need a second factor."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        levels = list(_manager_levels(request).values())
        if not levels:
            raise PermissionDenied(_("You are not an authorization manager."))
        highest = AssuranceLevel.highest(levels)
        if AssuranceLevel.needs_second_factor(highest) and not authenticated_within(request, method="mfa"):
            return _step_up_response(request)
        return view(request, *args, **kwargs)

    return wrapper
