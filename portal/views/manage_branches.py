"""Manage tab, Branches: the known branches (vestigingen) of my organisations, to which an
authorization may be restricted. Managers add them here, support in the admin."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from organizations.models import Branch
from organizations.services import branch_add

from ..guards import managed_organizations, manager_required


class BranchForm(forms.Form):
    organization = forms.ModelChoiceField(
        label=gettext_lazy("Organisation"),
        queryset=None,
        error_messages={"invalid_choice": gettext_lazy("Choose one of the organisations you manage.")},
    )
    number = forms.CharField(label=gettext_lazy("Branch number (12 digits)"), max_length=40)
    name = forms.CharField(label=gettext_lazy("Name or address (optional)"), max_length=200, required=False)

    def __init__(self, *args, organizations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations
        self.fields["organization"].widget.attrs["class"] = "form-select"
        for name in ("number", "name"):
            self.fields[name].widget.attrs["class"] = "form-control"
        self.fields["number"].widget.attrs.update(inputmode="numeric", autocomplete="off")


@manager_required
@require_http_methods(["GET", "POST"])
def branch_list(request):
    organizations = managed_organizations(request).order_by("name")
    form = BranchForm(request.POST or None, organizations=organizations)
    if request.method == "POST" and form.is_valid():
        try:
            branch = branch_add(
                actor=request.user,
                organization=form.cleaned_data["organization"],
                number=form.cleaned_data["number"],
                name=form.cleaned_data["name"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]:
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(
                request,
                _("Branch %(number)s of %(organization)s was added.")
                % {"number": branch.number, "organization": branch.organization.name},
            )
            return redirect("branch_list")
    branches = Branch.objects.filter(organization__in=organizations).select_related("organization")
    return render(request, "authorizations/branch_list.html", {"form": form, "branches": branches})
