"""Forms of the Permissions pages. They validate; the views hand cleaned data to services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from authorizations.models import AuthorizationStatus
from authorizations.selectors import users_linked_to
from organizations.rules import branch_format_refusal
from reconi.levels import AssuranceLevel

PERIOD_CHOICES = [(1, _("1 year")), (3, _("3 years")), (5, _("5 years"))]
PERIOD_ERROR = _("Choose a period of 1, 3 or 5 years.")
# Up to this many linked users the Permissions filter offers a dropdown; above it a search
# field (5,000 options were 400 KB of HTML and ~250 ms of rendering on every list page).
USER_SELECT_LIMIT = 200


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        name = obj.get_full_name()
        return f"{name} <{obj.email}>" if name else obj.email


class MonthHiddenInput(forms.DateInput):
    """A month (YYYY-MM) carried along by the filter form: set by the overview's expiry chart."""

    input_type = "hidden"


class PermissionFilterForm(forms.Form):
    """The GET filters above the Permissions list; choices limited to the manager's organisations."""

    organization = forms.ModelChoiceField(
        label=_("Organisation"), queryset=None, required=False, empty_label=_("All organisations")
    )
    user = UserChoiceField(
        label=_("User"),
        queryset=None,
        required=False,
        empty_label=_("All users"),
        error_messages={"invalid_choice": _("Choose a user linked to one of your organisations.")},
    )
    user_q = forms.CharField(
        label=_("User"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name or email")}),
    )
    level = forms.ChoiceField(
        label=_("Level"), required=False, choices=[("", _("All levels")), *AssuranceLevel.choices]
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *AuthorizationStatus.choices]
    )
    branch = forms.CharField(
        label=_("Branch"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"placeholder": _("12 digits"), "inputmode": "numeric"}),
    )
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name, email or service")}),
    )
    show_inactive = forms.BooleanField(label=_("Show inactive permissions too"), required=False)
    expiring = forms.BooleanField(label=_("Only those expiring within two months"), required=False)
    month = forms.DateField(required=False, input_formats=["%Y-%m"], widget=MonthHiddenInput(format="%Y-%m"))

    def __init__(self, *args, organizations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations
        users = users_linked_to(organizations=organizations)
        user_field = self.fields["user"]
        user_field.queryset = users  # validates an id from a link (?user=<id>) whichever widget shows
        first = list(users.only("pk", "first_name", "last_name", "email")[: USER_SELECT_LIMIT + 1])
        # Many users: the id travels hidden (the chosen person is named above the list) and a
        # text field searches names and emails instead.
        self.user_search = len(first) > USER_SELECT_LIMIT
        if self.user_search:
            user_field.widget = forms.HiddenInput()
        else:
            del self.fields["user_q"]
            user_field.widget.choices = [("", user_field.empty_label)] + [
                (person.pk, user_field.label_from_instance(person)) for person in first
            ]
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select")
            elif isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.TextInput):
                widget.attrs.setdefault("class", "form-control")

    def clean_branch(self):
        branch = self.cleaned_data["branch"].strip()
        refusal = branch_format_refusal(branch) if branch else None
        if refusal is not None:
            raise forms.ValidationError(refusal.message, code=refusal.code)
        return branch

    def chosen_user(self):
        """The person the list is narrowed to, when the form is valid."""
        if self.is_bound and self.is_valid():
            return self.cleaned_data.get("user")
        return None


class PeriodForm(forms.Form):
    """1, 3 or 5 years (rule 5): renew and activate."""

    period = forms.TypedChoiceField(
        label=_("Period"),
        choices=PERIOD_CHOICES,
        coerce=int,
        initial=1,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": PERIOD_ERROR, "required": PERIOD_ERROR},
    )
