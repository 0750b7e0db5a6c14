"""View guards shared by the apps: who may open the Manage tab, and scoped lookups.

Rights are read from the database on every request (nothing is cached in the
session), so a withdrawn manager role fails on the very next request.
"""

import functools
import logging

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from organizations.models import Membership, Organization

security_log = logging.getLogger("reconi.security")


def log_denied(request, what: str, **details) -> None:
    """Record a refused attempt on someone else's object, for support to see."""
    from audit.services import audit_record

    user = request.user if request.user.is_authenticated else None
    security_log.warning("denied %s to %s: %s", what, getattr(user, "email", "anonymous"), details)
    with transaction.atomic():
        audit_record(actor=user, action="access.denied", data={"what": what, "path": request.path, **details})


def get_scoped_or_404(request, queryset, **lookup):
    """Rule 9: a manager acts only within the organisations it manages; everything else is a 404.

    ``get_object_or_404`` on a queryset already scoped to the user; logs a miss.
    """
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
            Membership.objects.working_managers()
            .filter(user=request.user)
            .values_list("organization_id", "manager_level")
        )
    return request._manager_levels


def managed_organization_ids(request) -> list[int]:
    """The ids of the organisations the user manages now."""
    return sorted(_manager_levels(request))


def managed_organizations(request):
    """The organisations the user manages now, on literal ids: no subquery in every query that scopes by them."""
    return Organization.objects.filter(pk__in=managed_organization_ids(request))


def manager_required(view):
    """Only for users who manage an organisation today.

    The second factor their level needs is asked for every page by
    ``reconi.middleware.LoginStrengthMiddleware`` before this runs.
    """

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not _manager_levels(request):
            raise PermissionDenied(_("You are not an authorization manager."))
        return view(request, *args, **kwargs)

    return wrapper
