from django.shortcuts import render

from reconi.permissions import managed_organizations, manager_required


@manager_required
def overview(request):
    return render(request, "authorizations/overview.html", {"organizations": managed_organizations(request)})
