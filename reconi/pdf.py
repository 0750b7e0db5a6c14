"""PDF forms: rendering with WeasyPrint, PAdES signatures and their validation with pyHanko.

The portal signs with one certificate (settings.SIGNING_KEY_FILE and
SIGNING_CERT_FILE). In development and tests a self-signed key and certificate
are created on first use (settings.SIGNING_DEV_CERT_AUTOCREATE); in production
the files must exist. Every person who signs gets their own signature in the
document (an incremental update), carrying their name, capacity, time and
consent in the signature dictionary and a visible stamp in their signature box.
"""

import datetime
import functools
import hashlib
import io
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from reconi.metrics import SIGNING_LATENCY

logger = logging.getLogger(__name__)

PX_TO_PT = 0.75  # WeasyPrint lays out in CSS px (1/96 in); PDF user space is 1/72 in.
SIGNATURE_BOX_PREFIX = "sigbox-"

_lock = threading.Lock()
_signer_cache: dict[tuple, tuple[object, int]] = {}

# Signed attributes of a PAdES CMS (content type, digest, signing certificate reference,
# algorithm protection) plus the ASN.1 framing: a few hundred bytes; room for growth.
SIGNED_ATTRIBUTES_ROOM = 4096


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- Rendering -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignatureBox:
    """Where a signature field goes: page index (0-based) and the box in PDF points."""

    name: str
    page: int
    box: tuple[int, int, int, int]


@dataclass
class RenderedPdf:
    content: bytes
    boxes: list[SignatureBox] = field(default_factory=list)


def render_pdf(html: str, *, base_url: str | None = None) -> RenderedPdf:
    """Render HTML to PDF and add an empty signature field on every element whose id starts with ``sigbox-``.

    The element's id (after the prefix) becomes the field name; its position and
    size are read from WeasyPrint's layout.
    """
    from weasyprint import HTML

    base_url = base_url or str(Path(settings.BASE_DIR) / "static") + "/"
    document = HTML(string=html, base_url=base_url).render()
    boxes = []
    for index, page in enumerate(document.pages):
        page_height_pt = page.height * PX_TO_PT
        for anchor, (x1, y1, x2, y2) in page.anchors.items():
            if not anchor.startswith(SIGNATURE_BOX_PREFIX):
                continue
            box = (
                round(x1 * PX_TO_PT),
                round(page_height_pt - y2 * PX_TO_PT),
                round(x2 * PX_TO_PT),
                round(page_height_pt - y1 * PX_TO_PT),
            )
            boxes.append(SignatureBox(name=anchor[len(SIGNATURE_BOX_PREFIX) :], page=index, box=box))
    content = document.write_pdf()
    if boxes:
        content = _add_signature_fields(content, boxes)
    return RenderedPdf(content=content, boxes=boxes)


def _add_signature_fields(content: bytes, boxes: list[SignatureBox]) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields

    writer = IncrementalPdfFileWriter(io.BytesIO(content), strict=False)
    for box in boxes:
        fields.append_signature_field(
            writer, fields.SigFieldSpec(sig_field_name=box.name, on_page=box.page, box=box.box)
        )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_text(content: bytes) -> str:
    """All text of the document (for tests and support)."""
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages)


# --- The portal's signing certificate --------------------------------------------------------------------------


def _paths() -> tuple[Path, Path]:
    return Path(settings.SIGNING_KEY_FILE), Path(settings.SIGNING_CERT_FILE)


def ensure_signing_certificate() -> tuple[Path, Path]:
    """Return the key and certificate files; create a self-signed pair in development."""
    key_path, cert_path = _paths()
    if key_path.exists() and cert_path.exists():
        return key_path, cert_path
    if not getattr(settings, "SIGNING_DEV_CERT_AUTOCREATE", False):
        raise ImproperlyConfigured(
            f"The signing key {key_path} or certificate {cert_path} is missing (SIGNING_KEY_FILE / SIGNING_CERT_FILE)."
        )
    with _lock:
        if not (key_path.exists() and cert_path.exists()):
            _create_dev_certificate(key_path, cert_path)
    return key_path, cert_path


def _create_dev_certificate(key_path: Path, cert_path: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Reconi (development)"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Reconi portal signing (development)"),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_path.parent.mkdir(parents=True, exist_ok=True)
    cert_path.parent.mkdir(parents=True, exist_ok=True)
    # Write to temporary names and rename, so a parallel process never reads half a file.
    key_tmp = key_path.with_suffix(f".{os.getpid()}.tmp")
    cert_tmp = cert_path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(key_tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    cert_tmp.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    if key_path.exists() or cert_path.exists():  # another process was faster
        key_tmp.unlink()
        cert_tmp.unlink()
        return
    os.replace(key_tmp, key_path)
    os.replace(cert_tmp, cert_path)
    logger.warning("Created a self-signed development signing certificate at %s", cert_path)


def signature_room(signer) -> int:
    """Bytes to reserve in the PDF for one CMS signature (hex: two characters a byte).

    Sized from what the CMS embeds: every certificate of the signer's chain, the
    signature value (at most twice the key size, for ECDSA's encoding) and the signed
    attributes. Reserving it up front spares pyHanko a trial signature per document
    just to measure it; the zero padding that is left costs a few kilobytes.
    """
    certificates = {certificate.dump() for certificate in (signer.signing_cert, *signer.cert_registry)}
    signature = 2 * ((signer.signing_cert.public_key.bit_size + 7) // 8)
    return 2 * (sum(len(der) for der in certificates) + signature + SIGNED_ATTRIBUTES_ROOM)


@functools.cache
def _portal_signer_class():
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding
    from pyhanko.sign import signers

    class PortalSigner(signers.SimpleSigner):
        """A SimpleSigner that parses its private key once.

        pyHanko parses (and for RSA validates) the key on every signature: 0.1-0.2 s
        each, as much as the rest of the signing. The two mechanisms a signing
        certificate uses in practice are done here with the parsed key; any other is
        left to pyHanko.
        """

        _private_key = None

        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
            if mechanism not in ("rsassa_pkcs1v15", "ecdsa"):
                return super().sign_raw(data, digest_algorithm)
            if self._private_key is None:
                self._private_key = serialization.load_der_private_key(self.signing_key.dump(), password=None)
            digest = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}[digest_algorithm]()
            if mechanism == "ecdsa":
                return self._private_key.sign(data, ec.ECDSA(digest))
            return self._private_key.sign(data, padding.PKCS1v15(), digest)

    return PortalSigner


def _signer_and_room():
    from pyhanko.sign import signers

    key_path, cert_path = ensure_signing_certificate()
    chain = settings.SIGNING_CHAIN_FILE
    cache_key = (str(key_path), str(cert_path), key_path.stat().st_mtime, cert_path.stat().st_mtime, chain)
    cached = _signer_cache.get(cache_key)
    if cached is None:
        loaded = signers.SimpleSigner.load(str(key_path), str(cert_path), ca_chain_files=(chain,) if chain else None)
        if loaded is None:
            raise ImproperlyConfigured(f"Cannot load the signing key {key_path} and certificate {cert_path}.")
        signer = _portal_signer_class()(
            signing_cert=loaded.signing_cert, signing_key=loaded.signing_key, cert_registry=loaded.cert_registry
        )
        cached = (signer, signature_room(signer))
        _signer_cache.clear()
        _signer_cache[cache_key] = cached
    return cached


def portal_certificate():
    """The portal's certificate (asn1crypto), the trust root for verification."""
    return _signer_and_room()[0].signing_cert


# --- Signing ---------------------------------------------------------------------------------------------------


def sign_pdf(
    content: bytes,
    *,
    field_name: str,
    signer_name: str,
    capacity_label: str,
    reason: str,
    signed_at: datetime.datetime,
    location: str = "Reconi portal",
    stamp_lines: tuple[str, ...] = (),
) -> bytes:
    """Add one PAdES signature to ``content`` as an incremental update.

    ``field_name`` names the signature field (created empty at render time); when
    the document has no such field, an invisible one is created. The signer's
    name, reason (their consent) and location go into the signature dictionary;
    the visible stamp shows the name, capacity and date.
    """
    from pyhanko import stamp
    from pyhanko.pdf_utils import text
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    writer = IncrementalPdfFileWriter(io.BytesIO(content), strict=False)
    existing = {name for name, _value, _ref in fields.enumerate_sig_fields(writer)}
    new_field_spec = None
    if field_name not in existing:
        new_field_spec = fields.SigFieldSpec(sig_field_name=field_name, on_page=0, box=None)
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        name=signer_name,
        reason=reason,
        location=location,
    )
    lines = stamp_lines or (signer_name, capacity_label, signed_at.strftime("%Y-%m-%d %H:%M %Z").strip())
    style = stamp.TextStampStyle(
        stamp_text="\n".join(line.replace("%", "%%") for line in lines),
        text_box_style=text.TextBoxStyle(font_size=8),
        border_width=0,
        background=None,
    )
    signer, room = _signer_and_room()
    pdf_signer = signers.PdfSigner(meta, signer=signer, stamp_style=style, new_field_spec=new_field_spec)
    out = io.BytesIO()
    with SIGNING_LATENCY.time():
        pdf_signer.sign_pdf(writer, output=out, bytes_reserved=room)
    return out.getvalue()


# --- Verification ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignatureInfo:
    field_name: str
    signer_name: str
    reason: str
    location: str
    signed_at: datetime.datetime | None


@dataclass(frozen=True)
class VerifyResult:
    valid: bool
    reason: str = ""  # a code: not_pdf, not_signed, untrusted, modified, invalid
    detail: str = ""
    signatures: tuple[SignatureInfo, ...] = ()


def verify_pdf(content: bytes) -> VerifyResult:
    """Is ``content`` a PDF signed by this portal and unchanged since the last signature?"""
    from pyhanko.pdf_utils.misc import PdfReadError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    if not content.lstrip()[:5].startswith(b"%PDF-"):
        return VerifyResult(False, "not_pdf")
    try:
        reader = PdfFileReader(io.BytesIO(content), strict=False)
        embedded = list(reader.embedded_signatures)
    except Exception as exc:  # noqa: BLE001 - any parse failure means "not a usable PDF"
        return VerifyResult(False, "not_pdf", str(exc))
    if not embedded:
        return VerifyResult(False, "not_signed")
    problem = _structure_problem(content, reader, embedded)
    if problem:
        return VerifyResult(False, "modified", problem)

    portal_cert = portal_certificate()
    infos = []
    last_index = len(embedded) - 1
    for index, sig in enumerate(embedded):
        context = ValidationContext(trust_roots=[portal_cert], allow_fetching=False, revocation_mode="soft-fail")
        try:
            status = validate_pdf_signature(sig, context)
        except (PdfReadError, ValueError, KeyError, TypeError) as exc:
            return VerifyResult(False, "invalid", str(exc))
        except Exception as exc:  # noqa: BLE001 - pyHanko raises many kinds on damaged input
            return VerifyResult(False, "invalid", f"{type(exc).__name__}: {exc}")
        if not status.intact:
            return VerifyResult(False, "modified", "The signed content does not match its signature.")
        if not status.valid:
            return VerifyResult(False, "invalid", "The signature is not cryptographically valid.")
        if status.signing_cert.dump() != portal_cert.dump() or not status.trusted:
            return VerifyResult(False, "untrusted", status.signing_cert.subject.human_friendly)
        if index == last_index:
            if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
                return VerifyResult(False, "modified", "The file was changed after the last signature.")
        else:
            level = status.modification_level
            if status.coverage < SignatureCoverageLevel.ENTIRE_REVISION or (
                level is not None and level > ModificationLevel.FORM_FILLING
            ):
                return VerifyResult(False, "modified", "The file was changed between signatures.")
        if not status.bottom_line:
            return VerifyResult(False, "invalid", status.summary())
        sig_object = sig.sig_object
        infos.append(
            SignatureInfo(
                field_name=sig.field_name or "",
                signer_name=str(sig_object.get("/Name", "")),
                reason=str(sig_object.get("/Reason", "")),
                location=str(sig_object.get("/Location", "")),
                signed_at=sig.self_reported_timestamp,
            )
        )
    return VerifyResult(True, signatures=tuple(infos))


_HEX = frozenset(b"0123456789abcdefABCDEF")


def _structure_problem(content: bytes, reader, embedded) -> str:
    """Byte-level checks that pyHanko's (lenient) parsing lets pass.

    The only bytes a signature does not cover are its own ``/Contents`` value, so
    that value must be a hex string holding one DER object followed by zero
    padding; and every filled signature field must be a signature pyHanko
    actually validated (a damaged /SubFilter makes it skip one). Changes inside
    the DER object that pyHanko tolerates are caught by comparing the file's
    SHA-256 with the documents the portal issued (requests_app.selectors).
    """
    from asn1crypto import parser as asn1_parser
    from pyhanko.sign import fields

    filled = [name for name, value, _ref in fields.enumerate_sig_fields(reader, filled_status=True) if value]
    if len(filled) != len(embedded):
        return "A signature in the file cannot be read."
    for sig in embedded:
        start1, length1, start2, _length2 = (int(v) for v in sig.byte_range)
        gap = content[start1 + length1 : start2]
        if len(gap) < 2 or gap[:1] != b"<" or gap[-1:] != b">" or not set(gap[1:-1]) <= _HEX:
            return "The signature value is damaged."
        raw = bytes.fromhex(gap[1:-1].decode("ascii"))
        try:
            _class, _method, _tag, header, body, _trailer = asn1_parser.parse(raw, strict=False)
        except (ValueError, TypeError) as exc:
            return f"The signature value is damaged ({exc})."
        if raw[len(header) + len(body) :].strip(b"\x00"):
            return "The signature value is damaged."
    return ""
