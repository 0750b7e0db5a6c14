"""Forms of the Manage tab's Requests pages, scoped to the acting manager (rule 9)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from organizations.models import Organization
from requests_app.models import Request
from requests_app.services import linkable_users

from .manage_users import ManagedOrganizationField


class RequestFilterForm(forms.Form):
    organization = ManagedOrganizationField(
        label=_("Organisation"),
        queryset=Organization.objects.none(),
        required=False,
        empty_label=_("All my organisations"),
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("Any status")), *Request.Status.choices], required=False
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", _("Any kind")), *Request.Kind.choices], required=False)
    q = forms.CharField(label=_("Search"), required=False, max_length=100)

    def __init__(self, *args, manager, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = Organization.objects.managed_by(manager).order_by("name")
        self.fields["q"].widget.attrs["placeholder"] = _("Form number, name or email")
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-control" if isinstance(field.widget, forms.TextInput) else "form-select"


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.get_full_name() or obj.email} <{obj.email}>"


class LinkRequestForm(forms.Form):
    """Link a user I see in one of my organisations to another organisation I manage."""

    user = UserChoiceField(
        label=_("User"),
        queryset=None,
        error_messages={"invalid_choice": _("Choose a user of one of your organisations.")},
    )
    organization = ManagedOrganizationField(
        label=_("Link to organisation"),
        queryset=Organization.objects.none(),
        error_messages={"invalid_choice": _("Choose an organisation you manage.")},
    )
    reason = forms.CharField(
        label=_("Why (shown to the user)"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, manager, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = linkable_users(manager=manager).order_by("last_name", "first_name", "email")
        self.fields["organization"].queryset = Organization.objects.managed_by(manager).order_by("name")


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason (optional)"), required=False, max_length=500)
