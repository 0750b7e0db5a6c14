"""The one module that talks to allauth about how a session was authenticated.

Reads go through allauth's public API (``allauth.account.authentication``,
``allauth.mfa.adapter``). Writing records (tests, benchmarks) has no public API:
the user key below is allauth's internal one, used here and nowhere else.
"""

import time

from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY, get_authentication_records
from allauth.account.internal.flows.login import _AUTHENTICATION_METHODS_USER_SESSION_KEY
from allauth.mfa.adapter import get_adapter as get_mfa_adapter


def mfa_enabled(user) -> bool:
    """Has the user set up a second factor (TOTP or a security key)?"""
    return get_mfa_adapter().is_mfa_enabled(user)


def authenticated_within(request, seconds: float | None = None, *, method: str | None = None) -> bool:
    """Did this session authenticate (with ``method``, e.g. ``"mfa"``) within ``seconds``; ever if None?"""
    now = time.time()
    return any(
        (method is None or record.get("method") == method) and (seconds is None or now - record.get("at", 0) <= seconds)
        for record in get_authentication_records(request, request.user)
    )


def authentication_records_store(session, user, records: list[dict]) -> None:
    """Put login records in a session as allauth keeps them (tests and benchmarks log in this way)."""
    session[AUTHENTICATION_METHODS_SESSION_KEY] = records
    session[_AUTHENTICATION_METHODS_USER_SESSION_KEY] = str(user.pk)
