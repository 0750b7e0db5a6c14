"""Login strength: what a person must have shown in this session, and what they have shown.

The policy (README, "Second factor per level"), for every person:

- the highest level of the means they log in with decides: EH2 a password; EH2+ and
  EH3 a second factor (an authenticator app or a security key); EH4 a security key
  (WebAuthn) and nothing weaker;
- staff (support, superusers) always need a second factor;
- confirming a sensitive step (signing; changing the email address, the password or the
  second factor) asks again for the strongest factor the person has, at most
  ``ACCOUNT_REAUTHENTICATION_TIMEOUT`` seconds ago.

Manager rights need an active means at the role's level (organizations.rules and
``Organization.objects.managed_by``), so the means alone decides for managers too.
Nothing is cached in the session: the level is read on every request, so an upgraded
means asks for the stronger factor on the very next request.
"""

import enum
import time

from allauth.account.internal.flows.login import get_authentication_records, record_authentication
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.utils import timezone

from reconi.levels import AssuranceLevel


class Strength(enum.IntEnum):
    NONE = -1  # nothing shown (in the time asked about)
    PASSWORD = 0
    SECOND_FACTOR = 1  # an authenticator app (TOTP), a recovery code, or a security key
    SECURITY_KEY = 2  # WebAuthn only


# Second factors by what they prove; any other login record (password, email code) proves a password at most.
_FACTOR_STRENGTH = {
    Authenticator.Type.WEBAUTHN: Strength.SECURITY_KEY,
    Authenticator.Type.TOTP: Strength.SECOND_FACTOR,
    Authenticator.Type.RECOVERY_CODES: Strength.SECOND_FACTOR,
}


def strength_for_level(level: str | None) -> Strength:
    if level is None:
        return Strength.PASSWORD
    if AssuranceLevel.rank(level) >= AssuranceLevel.rank(AssuranceLevel.EH4):
        return Strength.SECURITY_KEY
    if AssuranceLevel.needs_second_factor(level):
        return Strength.SECOND_FACTOR
    return Strength.PASSWORD


def means_level(user) -> str | None:
    """The level of the person's active means today (one active means per person), or None."""
    from users.models import Means

    levels = Means.objects.active(timezone.localdate()).filter(owner=user).values_list("level", flat=True)
    return AssuranceLevel.highest(levels)


def required_strength(user) -> Strength:
    """What this person must show at login, by their means level and whether they are staff."""
    if not getattr(user, "is_authenticated", False):
        return Strength.PASSWORD
    strength = strength_for_level(means_level(user))
    if user.is_staff or user.is_superuser:
        strength = max(strength, Strength.SECOND_FACTOR)
    return strength


def record_strength(record: dict) -> Strength:
    if record.get("method") == "mfa":
        return _FACTOR_STRENGTH.get(record.get("type"), Strength.NONE)
    return Strength.PASSWORD


def session_strength(request, *, within: int | None = None) -> Strength:
    """The strongest factor this session has shown (within the last ``within`` seconds)."""
    now = time.time()
    strengths = [
        record_strength(record)
        for record in get_authentication_records(request, request.user)
        if within is None or now - record.get("at", 0) <= within
    ]
    return max(strengths, default=Strength.NONE)


def factors_of(user) -> set[str]:
    return set(Authenticator.objects.filter(user_id=user.pk).values_list("type", flat=True))


def confirmation_strength(user, factors: set[str] | None = None) -> Strength:
    """What confirming a sensitive step asks for: the strongest factor the level needs that the person has."""
    factors = factors_of(user) if factors is None else factors
    if Authenticator.Type.WEBAUTHN in factors and required_strength(user) == Strength.SECURITY_KEY:
        return Strength.SECURITY_KEY
    if factors & {Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN}:
        return Strength.SECOND_FACTOR
    return Strength.PASSWORD


def recently_confirmed(request) -> bool:
    """Did this session show the factor ``confirmation_strength`` asks for, within the re-authentication timeout?"""
    needed = confirmation_strength(request.user)
    return session_strength(request, within=settings.ACCOUNT_REAUTHENTICATION_TIMEOUT) >= needed


def record_enrolment(request, authenticator) -> None:
    """Setting up a factor proves it (a valid code, a verified key): the session counts it as used."""
    if authenticator.type in (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN) and request is not None:
        record_authentication(request, authenticator.user, "mfa", id=authenticator.pk, type=authenticator.type)


def confirm_url(user) -> str:
    """The page that confirms the strongest factor the person has (the adapter's first method)."""
    from allauth.account.adapter import get_adapter
    from django.urls import reverse

    methods = get_adapter().get_reauthentication_methods(user)
    return methods[0]["url"] if methods else reverse("account_login")


def strength_missing_response(request, needed: Strength):
    """Send someone who lacks the factor their level needs to set it up, or to use it."""
    from django.contrib import messages
    from django.shortcuts import redirect
    from django.urls import reverse
    from django.utils.http import urlencode
    from django.utils.translation import gettext as _

    factors = factors_of(request.user)
    query = urlencode({"next": request.get_full_path()})
    if needed == Strength.SECURITY_KEY and Authenticator.Type.WEBAUTHN not in factors:
        messages.warning(request, _("Your EH4 means needs a security key. Add your security key to continue."))
        return redirect(f"{reverse('mfa_add_webauthn')}?{query}")
    if needed == Strength.SECURITY_KEY:
        messages.info(request, _("At EH4 you confirm with your security key; a code from an app is not enough."))
        return redirect(f"{reverse('mfa_reauthenticate_webauthn')}?{query}")
    if not factors & {Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN}:
        messages.warning(
            request,
            _("Your account needs a second factor. Set up an authenticator app (or add a security key) to continue."),
        )
        return redirect(f"{reverse('mfa_activate_totp')}?{query}")
    messages.info(request, _("Confirm with your second factor to continue."))
    return redirect(f"{confirm_url(request.user)}?{query}")
