"""Forms of the Manage tab's Users pages. They validate; the services decide.

Each form receives the acting manager so its choices are scoped to the
organisations they manage (rule 9).
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from authorizations.models import Service
from organizations.models import Organization
from reconi.levels import AssuranceLevel
from requests_app.csv_import import MAX_BYTES
from users.rules import upgrade_levels, upgrade_needs_representative

YEARS_CHOICES = [(1, _("1 year")), (3, _("3 years")), (5, _("5 years"))]


class ManagedOrganizationField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.kvk_number})"


def _managed(manager):
    return Organization.objects.managed_by(manager).order_by("name")


class UserFilterForm(forms.Form):
    class MeansStatus:
        ACTIVE = "active"
        EXPIRED = "expired"
        NONE = "none"

    STATUS_CHOICES = [
        ("", _("Any status")),
        (MeansStatus.ACTIVE, _("Active means")),
        (MeansStatus.EXPIRED, _("No active means (expired or ended)")),
        (MeansStatus.NONE, _("No means yet")),
    ]

    organization = ManagedOrganizationField(
        label=_("Organisation"),
        queryset=Organization.objects.none(),
        required=False,
        empty_label=_("All my organisations"),
    )
    level = forms.ChoiceField(label=_("Level"), choices=[("", _("Any level")), *AssuranceLevel.choices], required=False)
    status = forms.ChoiceField(label=_("Means"), choices=STATUS_CHOICES, required=False)
    q = forms.CharField(label=_("Search"), required=False, max_length=100)

    def __init__(self, *args, manager, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = _managed(manager)
        self.fields["q"].widget.attrs["placeholder"] = _("Name or email")
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-control" if isinstance(field.widget, forms.TextInput) else "form-select"


class PersonForm(forms.Form):
    """One new person: the "Add users" single form."""

    organization = ManagedOrganizationField(label=_("Organisation"), queryset=Organization.objects.none())
    first_name = forms.CharField(label=_("First name"), max_length=100)
    initials = forms.CharField(label=_("Initials"), max_length=20, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    date_of_birth = forms.DateField(label=_("Date of birth"), widget=forms.DateInput(attrs={"type": "date"}))
    email = forms.EmailField(
        label=_("Email address"),
        help_text=_("The person's own (company) address, or a general address of the organisation such as info@."),
    )
    phone = forms.CharField(label=_("Mobile phone"), max_length=32, required=False)
    level = forms.ChoiceField(label=_("Level of the means"), choices=AssuranceLevel.choices, initial=AssuranceLevel.EH3)
    years = forms.TypedChoiceField(label=_("Valid for"), choices=YEARS_CHOICES, coerce=int, initial=3)
    all_services = forms.BooleanField(
        label=_("First authorization: all services at the level of the means"), required=False
    )
    services = forms.ModelMultipleChoiceField(
        label=_("First authorizations: specific services"),
        queryset=Service.objects.select_related("provider").order_by("provider__name", "name"),
        required=False,
        help_text=_("Optional. Hold Ctrl (or Cmd) to choose several."),
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    reason = forms.CharField(
        label=_("Note for support (optional)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, manager, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = _managed(manager)
        self.fields["services"].label_from_instance = lambda s: f"{s.name} — {s.provider.name} ({s.minimum_level})"

    def person(self) -> dict:
        """The person as the workflow takes it (a dict, the payload's shape)."""
        data = self.cleaned_data
        level = data["level"]
        authorizations = [
            {"scope": "service", "service_id": s.pk, "level": level, "years": data["years"]} for s in data["services"]
        ]
        if data["all_services"]:
            authorizations.insert(0, {"scope": "level", "level": level, "years": data["years"]})
        return {
            "first_name": data["first_name"],
            "initials": data["initials"],
            "last_name": data["last_name"],
            "date_of_birth": data["date_of_birth"].isoformat(),
            "email": data["email"],
            "phone": data["phone"],
            "level": level,
            "years": data["years"],
            "authorizations": authorizations,
        }

    def add_person_errors(self, errors: dict) -> None:
        for field, messages in errors.items():
            target = field if field in self.fields else None
            if field == "authorizations":
                target = "services"
            for message in messages:
                self.add_error(target, message)


class CsvUploadForm(forms.Form):
    organization = ManagedOrganizationField(label=_("Organisation"), queryset=Organization.objects.none())
    file = forms.FileField(
        label=_("CSV file"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def __init__(self, *args, manager, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = _managed(manager)
        self.fields["file"].help_text = _("UTF-8, comma or semicolon separated, at most %(limit)s MB.") % {
            "limit": MAX_BYTES // 1024 // 1024
        }


class UpgradeForm(forms.Form):
    organization = ManagedOrganizationField(label=_("On behalf of"), queryset=Organization.objects.none())
    level = forms.ChoiceField(label=_("New level"), choices=AssuranceLevel.choices)
    reason = forms.CharField(
        label=_("Note for support (optional)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, manager, user, current_level, manager_level=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = _managed(manager).filter(memberships__user=user)
        if current_level:
            labels = dict(AssuranceLevel.choices)
            self.fields["level"].choices = [
                (
                    level,
                    _("%(level)s — above your own level: the representative signs, Reconi checks identity in person")
                    % {"level": labels[level]}
                    if upgrade_needs_representative(to_level=level, manager_level=manager_level)
                    else labels[level],
                )
                for level in upgrade_levels(current_level)
            ]
