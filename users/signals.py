from allauth.mfa.signals import authenticator_added
from django.dispatch import receiver

from reconi.login_strength import record_enrolment


@receiver(authenticator_added)
def count_a_new_factor_as_used(sender, request, user, authenticator, **kwargs):
    """A factor just set up was just proven (a valid code, a verified key)."""
    record_enrolment(request, authenticator)
