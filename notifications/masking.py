"""What support sees of an email: the rendered body with every live secret masked.

The outbox row keeps the real body (it is what gets delivered), but nobody reads
a signing link, a password link or a one-time code off the admin: one of those
is enough to sign in a director's name or to take over an account.
"""

import re

MASK = "••••••"

# The secret part of a link: the signing token, the password-reset key, the email confirmation key.
_SECRET_LINK = re.compile(
    r"(/(?:[a-z]{2}/)?(?:sign|accounts/password/reset/key|accounts/confirm-email)/)([^\s\"'<>/]+)"
)
# One-time codes are six digits standing on their own (not part of a form number or a date).
_CODE = re.compile(r"(?<![\w\-/.:])\d{6}(?![\w\-/.:])")
# The kinds of email whose body carries a one-time code.
CODE_KINDS = frozenset({"signing_code"})


def mask_secrets(text: str, *, kind: str = "") -> str:
    if not text:
        return text
    text = _SECRET_LINK.sub(lambda match: match.group(1) + MASK, text)
    if kind in CODE_KINDS:
        text = _CODE.sub(MASK, text)
    return text
