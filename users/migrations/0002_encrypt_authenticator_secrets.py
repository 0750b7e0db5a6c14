"""Authenticator secrets and recovery-code seeds stored in clear are encrypted.

From now on the mfa adapter (users.adapters.MFAAdapter) encrypts on write; this
encrypts what was written before it. Already encrypted values are left alone,
so running it twice changes nothing.
"""

from django.db import migrations


def encrypt_existing(apps, schema_editor):
    from reconi.crypto import authenticator_data_encrypted, encrypt_text, is_encrypted

    def encrypt_once(value: str) -> str:
        return value if is_encrypted(value) else encrypt_text(value)

    Authenticator = apps.get_model("mfa", "Authenticator")
    for authenticator in Authenticator.objects.filter(type__in=["totp", "recovery_codes"]).iterator():
        data = authenticator_data_encrypted(authenticator.type, authenticator.data, transform=encrypt_once)
        if data != authenticator.data:
            Authenticator.objects.filter(pk=authenticator.pk).update(data=data)


def decrypt_existing(apps, schema_editor):
    from reconi.crypto import authenticator_data_encrypted, decrypt_text, is_encrypted

    def decrypt_once(value: str) -> str:
        return decrypt_text(value) if is_encrypted(value) else value

    Authenticator = apps.get_model("mfa", "Authenticator")
    for authenticator in Authenticator.objects.filter(type__in=["totp", "recovery_codes"]).iterator():
        data = authenticator_data_encrypted(authenticator.type, authenticator.data, transform=decrypt_once)
        Authenticator.objects.filter(pk=authenticator.pk).update(data=data)


class Migration(migrations.Migration):
    dependencies = [("users", "0001_initial"), ("mfa", "0003_authenticator_type_uniq")]

    operations = [migrations.RunPython(encrypt_existing, decrypt_existing)]
