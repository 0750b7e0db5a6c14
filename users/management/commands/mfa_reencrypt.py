"""Key rotation for the second-factor secrets: put the new key first in MFA_ENCRYPTION_KEYS, keep
the old one after it, run this, then remove the old key."""

from allauth.mfa.models import Authenticator
from django.core.management.base import BaseCommand
from django.db import transaction

from reconi.crypto import authenticator_data_encrypted, reencrypt_text


class Command(BaseCommand):
    help = "Re-encrypt every authenticator secret and recovery seed with the first key of MFA_ENCRYPTION_KEYS."

    def handle(self, *args, **options):
        changed = 0
        with transaction.atomic():
            for authenticator in Authenticator.objects.select_for_update().filter(type__in=["totp", "recovery_codes"]):
                data = authenticator_data_encrypted(authenticator.type, authenticator.data, transform=reencrypt_text)
                Authenticator.objects.filter(pk=authenticator.pk).update(data=data)
                changed += 1
        self.stdout.write(f"Re-encrypted {changed} second factors with the first key.")
