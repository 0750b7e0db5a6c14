from django import forms
from django.utils.translation import gettext_lazy as _


class LanguageForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language"),
        choices=[("nl", "Nederlands"), ("en", "English")],
        widget=forms.RadioSelect,
        help_text=_("The language of My Reconi after you log in, and of the emails and forms we send you."),
    )
