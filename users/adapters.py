from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter

from reconi.crypto import decrypt_text, encrypt_text


class AccountAdapter(DefaultAccountAdapter):
    """Accounts are made by support and by fulfilled requests, never by signup."""

    def is_open_for_signup(self, request) -> bool:
        return False


class MFAAdapter(DefaultMFAAdapter):
    """Second-factor secrets are stored encrypted: the database, a backup or the admin shows ciphertext."""

    def encrypt(self, text: str) -> str:
        return encrypt_text(text)

    def decrypt(self, encrypted_text: str) -> str:
        return decrypt_text(encrypted_text)
