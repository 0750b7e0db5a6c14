"""Signing links and one-time codes.

A link carries ``signing.dumps({"t": <row id>, "n": <nonce>})``: the signature
makes it tamper-proof, its timestamp gives the 14-day lifetime, and the
SigningToken row (unique nonce, ``used_at``, ``revoked_at``) makes it single-use.
The one-time code confirms that the person holding the link reads the
representative's mailbox; only its HMAC is stored.
"""

import datetime
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.utils import timezone

from .models import SigningToken

SALT = "requests_app.sign"
LIFETIME = datetime.timedelta(days=14)
CODE_LIFETIME = datetime.timedelta(minutes=10)
CODE_MAX_ATTEMPTS = 5  # wrong codes per sent code
CODES_MAX = 5  # codes per link
CODE_RESEND_AFTER = datetime.timedelta(seconds=60)
IDENTITY_MAX_ATTEMPTS = 5  # wrong name/date of birth per link


class TokenError(Exception):
    """The link cannot be used. ``reason``: invalid, expired, used, revoked, locked."""

    def __init__(self, reason: str, token: SigningToken | None = None):
        super().__init__(reason)
        self.reason = reason
        self.token = token


def token_issue(*, request, representative, now: datetime.datetime | None = None) -> tuple[SigningToken, str]:
    """Create the row and return it with the value for the URL. Call inside the service's transaction."""
    now = now or timezone.now()
    SigningToken.objects.filter(
        request=request, representative=representative, used_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)
    token = SigningToken.objects.create(
        request=request,
        representative=representative,
        nonce=secrets.token_urlsafe(24),
        created_at=now,
        expires_at=now + LIFETIME,
    )
    return token, token_value(token)


def token_value(token: SigningToken) -> str:
    return signing.dumps({"t": token.pk, "n": token.nonce}, salt=SALT, compress=True)


def token_resolve(value: str, *, for_update: bool = False) -> SigningToken:
    """The usable token behind ``value``, or TokenError. ``for_update`` locks the row."""
    try:
        data = signing.loads(value, salt=SALT, max_age=LIFETIME)
    except signing.SignatureExpired:
        raise TokenError("expired") from None
    except signing.BadSignature:
        raise TokenError("invalid") from None
    if not isinstance(data, dict) or not isinstance(data.get("t"), int) or not isinstance(data.get("n"), str):
        raise TokenError("invalid")
    queryset = SigningToken.objects.select_related("request__organization", "representative")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    token = queryset.filter(pk=data["t"]).first()
    if token is None or not hmac.compare_digest(token.nonce, data["n"]):
        raise TokenError("invalid")
    if token.used_at is not None:
        raise TokenError("used", token)
    if token.revoked_at is not None:
        raise TokenError("revoked", token)
    if token.expires_at <= timezone.now():
        raise TokenError("expired", token)
    if token.identity_attempts >= IDENTITY_MAX_ATTEMPTS:
        raise TokenError("locked", token)
    return token


def _normalise_name(name: str) -> str:
    return " ".join(name.casefold().replace(".", " ").split())


def identity_matches(token: SigningToken, *, name: str, date_of_birth: datetime.date) -> bool:
    representative = token.representative
    return (
        _normalise_name(name) == _normalise_name(representative.name) and date_of_birth == representative.date_of_birth
    )


def _code_hash(token: SigningToken, code: str) -> str:
    key = hashlib.sha256(f"{settings.SECRET_KEY}:{SALT}:code".encode()).digest()
    return hmac.new(key, f"{token.pk}:{token.nonce}:{code}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class CodeIssue:
    code: str | None
    reason: str = ""  # "wait" (too soon after the last one) or "limit" (too many codes)


def code_new(token: SigningToken, now: datetime.datetime) -> CodeIssue:
    """Set a new six-digit code on ``token`` (locked by the caller; saved here), subject to the rate limits."""
    if token.codes_sent >= CODES_MAX:
        return CodeIssue(None, "limit")
    if token.code_sent_at and now - token.code_sent_at < CODE_RESEND_AFTER:
        return CodeIssue(None, "wait")
    code = f"{secrets.randbelow(1_000_000):06d}"
    token.code_hash = _code_hash(token, code)
    token.code_expires_at = now + CODE_LIFETIME
    token.code_attempts = 0
    token.codes_sent += 1
    token.code_sent_at = now
    token.save(update_fields=["code_hash", "code_expires_at", "code_attempts", "codes_sent", "code_sent_at"])
    return CodeIssue(code)


def code_problem(token: SigningToken, code: str, now: datetime.datetime) -> str:
    """ "" when ``code`` is right, or why not: "wrong", "expired", "attempts" (too many wrong tries),
    "none" (no code sent). Counts nothing: the signing service counts a wrong try."""
    if not token.code_hash:
        return "none"
    if token.code_attempts >= CODE_MAX_ATTEMPTS:
        return "attempts"
    if token.code_expires_at is None or token.code_expires_at <= now:
        return "expired"
    right = hmac.compare_digest(token.code_hash, _code_hash(token, (code or "").strip()))
    return "" if right else "wrong"
