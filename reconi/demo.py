"""Demo constants shared by seed_demo, the README and the browser tests."""

import base64
import hashlib
import hmac
import struct
import time

DEMO_PASSWORD = "reconi-demo"
DEMO_TOTP_SECRET = "RECONIDEMOTOTPSECRETRECONIDEMO23"


def totp_now(secret: str, *, at: float | None = None, period: int = 30, digits: int = 6) -> str:
    """RFC 6238 TOTP, as an authenticator app computes it from the demo secret."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    counter = int((at if at is not None else time.time()) // period)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 10**digits:0{digits}d}"
