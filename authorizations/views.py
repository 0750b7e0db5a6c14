from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from organizations.models import Organization


def overview(request):
    organizations = Organization.objects.managed_by(request.user)
    if not organizations.exists():
        raise PermissionDenied
    return render(request, "authorizations/overview.html", {"organizations": organizations})
