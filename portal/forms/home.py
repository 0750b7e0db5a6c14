"""Forms of My Reconi home: the holder's own requests."""

from django import forms
from django.utils.translation import gettext_lazy as _

from organizations.models import Organization

from .manage_users import YEARS_CHOICES


class MeansRenewalForm(forms.Form):
    """The holder's renewal request: which organisation handles it and for how long."""

    organization = forms.ModelChoiceField(label=_("Organisation"), queryset=Organization.objects.none())
    period = forms.TypedChoiceField(
        label=_("Renew for"),
        choices=YEARS_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "invalid_choice": _("Choose a period of 1, 3 or 5 years."),
            "required": _("Choose a period of 1, 3 or 5 years."),
        },
    )

    def __init__(self, *args, holder, periods, **kwargs):
        super().__init__(*args, **kwargs)
        organizations = Organization.objects.filter(memberships__user=holder).order_by("name")
        self.fields["organization"].queryset = organizations
        self.fields["organization"].empty_label = None
        self.fields["organization"].widget.attrs["class"] = "form-select"
        self.fields["organization"].help_text = _(
            "Its authorization manager approves the renewal, or else its representative signs it."
        )
        # Only the periods that fit under the five-year ceiling are offered (rule 5).
        self.fields["period"].choices = [(years, label) for years, label in YEARS_CHOICES if years in periods]
        if periods:
            self.fields["period"].initial = periods[-1] if 3 not in periods else 3
