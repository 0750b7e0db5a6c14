from django import forms
from django.utils.translation import gettext_lazy as _

from organizations.models import Organization
from reconi.levels import LEVEL_HELP, AssuranceLevel
from reconi.validators import kvk_validator

MAX_VERIFY_BYTES = 10 * 1024 * 1024


class BecomeManagerForm(forms.Form):
    """The applicant is always the logged-in user: the form has no field naming anyone else."""

    kvk_number = forms.CharField(
        label=_("KvK number of the organisation"),
        max_length=8,
        validators=[kvk_validator],
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "pattern": "[0-9]{8}"}),
    )
    level = forms.ChoiceField(label=_("Manager level"), choices=AssuranceLevel.choices, help_text=LEVEL_HELP)
    reason = forms.CharField(
        label=_("Note for the representatives (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_kvk_number(self):
        kvk_number = self.cleaned_data["kvk_number"]
        organization = Organization.objects.filter(kvk_number=kvk_number).first()
        if organization is None:
            raise forms.ValidationError(
                _("No organisation with KvK number %(kvk)s is registered with Reconi. Contact Reconi support."),
                params={"kvk": kvk_number},
                code="unknown_organization",
            )
        self.cleaned_data["organization"] = organization
        return kvk_number


class IdentityForm(forms.Form):
    name = forms.CharField(label=_("Your full name, as on the KvK extract"), max_length=200)
    date_of_birth = forms.DateField(
        label=_("Your date of birth"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


class SignForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the email"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9]{6}"}),
    )
    consent = forms.BooleanField(label=_("I agree with the declaration above and sign this form."), required=True)


class VerifyForm(forms.Form):
    file = forms.FileField(label=_("Signed PDF"), help_text=_("At most 10 MB."))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_VERIFY_BYTES:
            raise forms.ValidationError(_("The file is larger than 10 MB."), code="too_large")
        if upload.size == 0:
            raise forms.ValidationError(_("The file is empty."), code="empty")
        return upload
