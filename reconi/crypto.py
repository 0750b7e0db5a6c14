"""Secrets at rest: authenticator secrets and recovery-code seeds (allauth's mfa).

Encrypted with Fernet (AES-128-CBC + HMAC-SHA256). The key comes from
``MFA_ENCRYPTION_KEYS`` (reconi/settings/env.py): the first key encrypts, every key
decrypts, so a new key can be put in front and the old one removed once the
rows are re-encrypted (``manage.py mfa_reencrypt``). Anything that reads the
database without the key (a backup, the admin, a support colleague) sees ciphertext.
"""

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

PREFIX = "fernet:"


class DecryptionError(ValueError):
    """The value is not ours (stored in clear, or encrypted with an unknown key)."""


@lru_cache(maxsize=4)
def _box(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ValueError("MFA_ENCRYPTION_KEYS is empty")
    # Any string is a key: derived to the 32 bytes Fernet wants.
    return MultiFernet([Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest())) for key in keys])


def _current() -> MultiFernet:
    return _box(tuple(settings.MFA_ENCRYPTION_KEYS))


def is_encrypted(value: str) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def encrypt_text(text: str) -> str:
    return PREFIX + _current().encrypt(text.encode()).decode()


def decrypt_text(value: str) -> str:
    if not is_encrypted(value):
        raise DecryptionError("not an encrypted value")
    try:
        return _current().decrypt(value[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        raise DecryptionError("encrypted with an unknown key") from None


def reencrypt_text(value: str) -> str:
    """With the first key; a clear value is encrypted."""
    return encrypt_text(decrypt_text(value) if is_encrypted(value) else value)


# The secret-bearing fields of allauth's Authenticator.data, per type.
SECRET_FIELDS = {"totp": ("secret",), "recovery_codes": ("seed",)}
SECRET_LISTS = {"recovery_codes": ("migrated_codes",)}


def authenticator_data_encrypted(kind: str, data: dict, *, transform=encrypt_text) -> dict:
    """``data`` with every secret of an authenticator of type ``kind`` passed through ``transform``."""
    data = dict(data)
    for name in SECRET_FIELDS.get(kind, ()):
        if isinstance(data.get(name), str):
            data[name] = transform(data[name])
    for name in SECRET_LISTS.get(kind, ()):
        if isinstance(data.get(name), list):
            data[name] = [transform(item) for item in data[name]]
    return data
