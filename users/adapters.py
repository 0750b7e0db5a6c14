from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.urls import translate_url
from django.utils import translation
from django.utils.translation import get_language_from_request

from reconi.crypto import decrypt_text, encrypt_text

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


class MFAAdapter(DefaultMFAAdapter):
    """Second-factor secrets are stored encrypted: the database, a backup or the admin shows ciphertext."""

    def encrypt(self, text: str) -> str:
        return encrypt_text(text)

    def decrypt(self, encrypted_text: str) -> str:
        return decrypt_text(encrypted_text)
