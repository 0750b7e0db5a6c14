"""The hash chain outside the database: signed anchors of its head, verification, export.

An anchor is a small JSON document (the id and hash of the newest event and how many
events there are up to it), signed with the portal's signing key (reconi/pdf.py) and
written as a file to ``AUDIT_ANCHOR_DIR`` (and, when ``AUDIT_ANCHOR_EMAIL`` is set,
mailed there straight away, not through the outbox, which lives in the database).
Whoever rewrites the database cannot rewrite the anchors already made: a changed,
inserted or deleted event up to an anchor, and events cut off the end of the log
(up to a whole TRUNCATE), no longer match it.
"""

import base64
import datetime
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection
from django.utils import timezone

from .models import AuditEvent
from .services import GENESIS_HASH

ANCHOR_VERSION = 1


# Signing with the portal key ---------------------------------------------------------------------


def _private_key():
    from cryptography.hazmat.primitives import serialization

    from reconi.pdf import ensure_signing_certificate

    key_path, _cert_path = ensure_signing_certificate()
    return serialization.load_pem_private_key(Path(key_path).read_bytes(), password=None)


def _certificate():
    from cryptography import x509

    from reconi.pdf import ensure_signing_certificate

    _key_path, cert_path = ensure_signing_certificate()
    return x509.load_pem_x509_certificate(Path(cert_path).read_bytes())


def _sign(payload: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    key = _private_key()
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(payload, padding.PKCS1v15(), hashes.SHA256())
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(payload, ec.ECDSA(hashes.SHA256()))
    return key.sign(payload)  # Ed25519 / Ed448


def _signature_valid(payload: bytes, signature: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    public_key = _certificate().public_key()
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, payload, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, payload, ec.ECDSA(hashes.SHA256()))
        else:
            public_key.verify(signature, payload)
    except InvalidSignature:
        return False
    return True


def _canonical(document: dict) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


# Anchors ---------------------------------------------------------------------------------------------


def anchor_dir() -> Path:
    return Path(settings.AUDIT_ANCHOR_DIR)


def chain_head() -> dict:
    last = AuditEvent.objects.order_by("-id").values("id", "hash").first()
    return {
        "last_id": last["id"] if last else 0,
        "last_hash": last["hash"] if last else GENESIS_HASH,
        "count": AuditEvent.objects.filter(id__lte=last["id"]).count() if last else 0,
    }


def audit_anchor_create(*, now: datetime.datetime | None = None) -> tuple[Path, dict]:
    """Sign the chain head and write it to a new file (and mail it when configured)."""
    now = now or timezone.now()
    head = {
        "version": ANCHOR_VERSION,
        "database": connection.settings_dict.get("NAME", ""),
        "anchored_at": now.isoformat(),
        **chain_head(),
    }
    document = {**head, "signature": base64.b64encode(_sign(_canonical(head))).decode()}
    directory = anchor_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"audit-anchor-{now:%Y%m%dT%H%M%S%fZ}-{head['last_id']}.json"
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    address = getattr(settings, "AUDIT_ANCHOR_EMAIL", "")
    if address:
        message = EmailMessage(
            subject=f"[Reconi] audit anchor {now:%Y-%m-%d}: event {head['last_id']}",
            body=(
                "The head of the Reconi audit log, signed with the portal's key. Keep this email: "
                "`manage.py audit_verify --anchor <file>` checks the log against it.\n"
            ),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[address],
        )
        message.attach(path.name, path.read_bytes(), "application/json")
        message.send()
    return path, document


def anchor_load(path: Path) -> dict | None:
    """The anchor in ``path`` when its signature is the portal's, else None."""
    try:
        document = json.loads(Path(path).read_text())
        signature = base64.b64decode(document.pop("signature"))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not _signature_valid(_canonical(document), signature):
        return None
    return document


def anchors_latest(paths: list[Path] | None = None) -> tuple[dict | None, list[Path]]:
    """The validly signed anchor that reaches furthest, and the files whose signature failed."""
    paths = paths if paths is not None else sorted(anchor_dir().glob("audit-anchor-*.json"))
    best, bad = None, []
    for path in paths:
        document = anchor_load(path)
        if document is None:
            bad.append(path)
        elif best is None or document["last_id"] > best["last_id"]:
            best = document
    return best, bad


# Verification ----------------------------------------------------------------------------------------


@dataclass
class VerifyResult:
    ok: bool
    events: int = 0
    first_bad_id: int | None = None
    reason: str = ""
    anchor: dict | None = None
    bad_anchor_files: list[Path] = field(default_factory=list)


def audit_verify(*, anchor_paths: list[Path] | None = None) -> VerifyResult:
    """Walk the whole chain, then hold it against the latest signed anchor.

    A changed or inserted event breaks its own hash or the link of the next one; a deleted
    event breaks the link of the next one; events cut off the end (or the whole table
    truncated) leave the anchored head missing or different.
    """
    anchor, bad = anchors_latest(anchor_paths)
    result = VerifyResult(ok=True, anchor=anchor, bad_anchor_files=bad)
    prev = GENESIS_HASH
    anchored_seen = False
    count = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        count += 1
        if event.prev_hash != prev:
            return _bad(
                result,
                count,
                event.pk,
                "the link to the previous event does not match (an event before it was removed or inserted)",
            )
        if event.compute_hash() != event.hash:
            return _bad(result, count, event.pk, "its contents do not match its hash (changed)")
        prev = event.hash
        if anchor and event.pk == anchor["last_id"]:
            anchored_seen = True
            if event.hash != anchor["last_hash"] or count != anchor["count"]:
                return _bad(result, count, event.pk, "the log up to here differs from the signed anchor (rewritten)")
        elif anchor and not anchored_seen and event.pk > anchor["last_id"]:
            return _bad(result, count, event.pk, "the event the signed anchor ends with is missing (removed)")
    result.events = count
    if anchor and anchor["last_id"] and not anchored_seen:
        result.ok = False
        result.first_bad_id = anchor["last_id"]
        result.reason = "events up to the signed anchor are missing at the end of the log (removed or truncated)"
    return result


def _bad(result: VerifyResult, count: int, event_id: int, reason: str) -> VerifyResult:
    result.ok, result.events, result.first_bad_id, result.reason = False, count, event_id, reason
    return result


# Export ----------------------------------------------------------------------------------------------


def hashed_text(event: AuditEvent) -> str:
    """The exact text whose SHA-256 is the event's hash (AuditEvent.compute_hash)."""
    return event.hash_input()


def export_rows(*, organization, date_from: datetime.date, date_to: datetime.date):
    """The organisation's events in the period, with every event of others in between as a
    stub (id and hashes only), so the links can be checked without seeing others' data."""
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(date_from, datetime.time.min, tzinfo=tz)
    end = datetime.datetime.combine(date_to + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
    own = AuditEvent.objects.filter(organization=organization, created_at__gte=start, created_at__lt=end)
    bounds = own.order_by("id").values_list("id", flat=True)
    first, last = bounds.first(), own.order_by("-id").values_list("id", flat=True).first()
    if first is None:
        return
    for event in AuditEvent.objects.filter(id__gte=first, id__lte=last).order_by("id").iterator(chunk_size=2000):
        if event.organization_id == organization.pk and start <= event.created_at < end:
            yield {
                "id": event.pk,
                "included": True,
                "created_at": event.created_at.isoformat(),
                "actor_email": event.actor_email,
                "action": event.action,
                "object_type": event.object_type,
                "object_id": event.object_id,
                "data": event.data,
                "ip_address": event.ip_address,
                "prev_hash": event.prev_hash,
                "hash": event.hash,
                "hashed": hashed_text(event),
            }
        else:
            yield {"id": event.pk, "included": False, "prev_hash": event.prev_hash, "hash": event.hash}


def export_check(rows: list[dict]) -> int | None:
    """What a third party does with an export: the id of the first row that does not check out, or None."""
    prev = None
    for row in rows:
        if prev is not None and row["prev_hash"] != prev:
            return row["id"]
        if row["included"]:
            if hashlib.sha256(row["hashed"].encode()).hexdigest() != row["hash"]:
                return row["id"]
            hashed = json.loads(row["hashed"])
            if hashed["prev"] != row["prev_hash"] or hashed["action"] != row["action"] or hashed["data"] != row["data"]:
                return row["id"]
        prev = row["hash"]
    return None
