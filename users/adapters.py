from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from allauth.mfa.adapter import DefaultMFAAdapter
from django.urls import translate_url
from django.utils import translation
from django.utils.translation import get_language_from_request

from reconi.crypto import decrypt_text, encrypt_text
from reconi.login_strength import Strength, confirmation_strength, recently_confirmed

from .models import User


class AccountAdapter(DefaultAccountAdapter):
    """Accounts are made by support and by fulfilled requests, never by signup."""

    def is_open_for_signup(self, request) -> bool:
        return False

    def get_login_redirect_url(self, request):
        """After login the interface speaks the person's own language, wherever they logged in."""
        url = super().get_login_redirect_url(request)
        language = getattr(request.user, "language", None)
        return translate_url(url, language) if language else url

    def save_user(self, request, user, form, commit=True):
        """A person who signs up gets the language of their browser (should signup ever open)."""
        language = get_language_from_request(request)
        if language in User.Language.values:
            user.language = language
        return super().save_user(request, user, form, commit=commit)

    def send_mail(self, template_prefix, email, context):
        """allauth's emails (password reset, changes to the account) in the recipient's language."""
        user = context.get("user") or User.objects.filter(email__iexact=email).first()
        language = getattr(user, "language", None) or translation.get_language()
        with translation.override(language):
            return super().send_mail(template_prefix, email, context)

    def get_reauthentication_methods(self, user) -> list[dict]:
        """Confirming a sensitive step asks for the strongest factor the person has, never less.

        With a second factor set up the password alone no longer confirms; at EH4 with a
        security key only the key does.
        """
        methods = super().get_reauthentication_methods(user)
        if not getattr(user, "is_authenticated", False):
            return methods
        needed = confirmation_strength(user)
        if needed == Strength.SECURITY_KEY:
            return [method for method in methods if method["id"] == "mfa_reauthenticate:webauthn"]
        if needed == Strength.SECOND_FACTOR:
            return [method for method in methods if method["id"].startswith("mfa_reauthenticate")]
        return methods

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """A login or confirmation with that factor within the timeout counts; anything weaker does not."""
        if not super().is_reauthentication_required(app=app, **kwargs):
            return False
        request = allauth_context.request
        return request is None or not recently_confirmed(request)


class MFAAdapter(DefaultMFAAdapter):
    """Second-factor secrets are stored encrypted: the database, a backup or the admin shows ciphertext."""

    def encrypt(self, text: str) -> str:
        return encrypt_text(text)

    def decrypt(self, encrypted_text: str) -> str:
        return decrypt_text(encrypted_text)
