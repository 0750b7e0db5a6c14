from allauth.mfa.models import Authenticator
from django import template

register = template.Library()


@register.filter
def has_security_key(user) -> bool:
    """Offer "Use your security key" at the second step only to someone who has one."""
    return bool(user and user.pk) and Authenticator.objects.filter(user_id=user.pk, type="webauthn").exists()


@register.filter
def has_code_factor(user) -> bool:
    """An authenticator app or recovery codes: the code field makes sense."""
    types = [Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES]
    return bool(user and user.pk) and Authenticator.objects.filter(user_id=user.pk, type__in=types).exists()
