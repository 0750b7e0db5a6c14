"""Forms of the Permissions pages. They validate; the views hand cleaned data to services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from organizations.rules import branch_format_refusal
from reconi.levels import AssuranceLevel
from reconi.rules import period_choices, period_refusal

from .models import AuthorizationStatus
from .selectors import users_linked_to

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


STALE_PAGE = _("This page was out of date; nothing was changed. Check the permission and try again.")


class PeriodForm(forms.Form):
    """Renew or activate: the period, and the end date the manager saw, so that a
    stale or repeated submit changes nothing. ``seen=False``: the bulk form, whose
    rows carry their own end dates."""

    period = forms.TypedChoiceField(label=_("Period"), choices=(), coerce=int, initial=1, widget=forms.RadioSelect)
    seen_until = forms.DateField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, seen: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["period"]
        field.choices = period_choices()
        message = period_refusal(None).message
        field.error_messages.update(invalid_choice=message, required=message)
        self.seen = seen
        if not seen:
            del self.fields["seen_until"]

    def clean(self):
        cleaned = super().clean()
        if self.seen and not cleaned.get("seen_until"):
            raise forms.ValidationError(STALE_PAGE, code="stale_page")
        return cleaned
