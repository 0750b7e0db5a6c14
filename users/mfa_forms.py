"""allauth's second-factor forms with the login strength of the person's level (reconi.login_strength).

At EH4 only a security key counts: once the person has one, an authenticator code or a
recovery code is refused at login and when confirming, and an authenticator app cannot
be set up as the EH4 factor.
"""

from allauth.mfa.base.forms import AuthenticateForm, ReauthenticateForm
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.forms import ActivateTOTPForm
from django import forms
from django.utils.translation import gettext_lazy as _

from reconi.login_strength import Strength, factors_of, required_strength

CODE_REFUSED_AT_EH4 = _(
    "At EH4 you log in with your security key; a code from an app or a recovery code is not enough."
)


def _codes_refused(user) -> bool:
    """A code proves too little for a person whose EH4 means needs a key they already have."""
    return required_strength(user) == Strength.SECURITY_KEY and Authenticator.Type.WEBAUTHN in factors_of(user)


class LevelAuthenticateForm(AuthenticateForm):
    def clean_code(self) -> str:
        if _codes_refused(self.user):
            raise forms.ValidationError(CODE_REFUSED_AT_EH4, code="code_refused_at_eh4")
        return super().clean_code()


class LevelReauthenticateForm(ReauthenticateForm):
    def clean_code(self) -> str:
        if _codes_refused(self.user):
            raise forms.ValidationError(CODE_REFUSED_AT_EH4, code="code_refused_at_eh4")
        return super().clean_code()


class LevelActivateTOTPForm(ActivateTOTPForm):
    def clean_code(self) -> str:
        if required_strength(self.user) == Strength.SECURITY_KEY:
            raise forms.ValidationError(
                _("At EH4 an authenticator app is not enough: add a security key instead."), code="totp_refused_at_eh4"
            )
        return super().clean_code()
