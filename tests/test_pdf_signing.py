"""Signing a PDF: one signature per signer, room reserved for the whole certificate chain (no mocks)."""

import datetime
import io

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from django.utils import timezone
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from reconi import pdf

FORM = "<html><body><h1>Formulier</h1><div id='sigbox-rep-1' style='width:200px;height:60px'></div></body></html>"


def _key(kind: str):
    if kind == "ec":
        return ec.generate_private_key(ec.SECP384R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=4096)


def _certificate(subject: str, key, issuer_name: x509.Name | None, issuer_key, *, ca: bool) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject), x509.NameAttribute(NameOID.COUNTRY_NAME, "NL")])
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name or name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=not ca,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(issuer_key or key, hashes.SHA256())
    )


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


@pytest.fixture
def chain_of_four(tmp_path, settings, request):
    """A production-like chain: root -> two intermediates -> the portal's certificate (4096-bit RSA or P-384)."""
    kind = request.param
    root_key, first_key, second_key, leaf_key = (_key(kind) for _ in range(4))
    root = _certificate("Staat der Nederlanden Root (test)", root_key, None, None, ca=True)
    first = _certificate("Domein Organisatie (test)", first_key, root.subject, root_key, ca=True)
    second = _certificate("Organisatie Services CA (test)", second_key, first.subject, first_key, ca=True)
    leaf = _certificate("Reconi portal signing (test)", leaf_key, second.subject, second_key, ca=False)
    key_file, cert_file, chain_file = tmp_path / "key.pem", tmp_path / "cert.pem", tmp_path / "chain.pem"
    key_file.write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    cert_file.write_bytes(_pem(leaf))
    chain_file.write_bytes(_pem(second) + _pem(first) + _pem(root))
    settings.SIGNING_KEY_FILE, settings.SIGNING_CERT_FILE = str(key_file), str(cert_file)
    settings.SIGNING_CHAIN_FILE = str(chain_file)
    return root


def _sign(content: bytes, name: str = "Carla Smit") -> bytes:
    return pdf.sign_pdf(
        content,
        field_name="rep-1",
        signer_name=name,
        capacity_label="Bestuurder",
        reason=f"Bestuurder {name}: akkoord",
        signed_at=timezone.localtime(),
    )


@pytest.mark.parametrize("chain_of_four", ["rsa", "ec"], indirect=True)
def test_the_reserved_room_holds_a_four_certificate_chain_and_the_signature_validates(chain_of_four):
    from asn1crypto import x509 as asn1_x509

    signed = _sign(pdf.render_pdf(FORM).content)

    root = asn1_x509.Certificate.load(chain_of_four.public_bytes(serialization.Encoding.DER))
    (signature,) = PdfFileReader(io.BytesIO(signed)).embedded_signatures
    status = validate_pdf_signature(signature, ValidationContext(trust_roots=[root], allow_fetching=False))
    assert status.intact and status.valid and status.trusted
    assert len(signature.signed_data["certificates"]) == 4  # leaf, both intermediates and the root
    contents_hex = 2 * len(signature.pkcs7_content)
    assert contents_hex <= pdf.signature_room(pdf._signer_and_room()[0])


def test_one_signature_computes_one_signature_value():
    """No trial signature to size the container: the private key is used once per signer."""
    signer, _room = pdf._signer_and_room()
    uses = []
    sign_raw = signer.sign_raw

    def counting(*args, **kwargs):
        uses.append(1)
        return sign_raw(*args, **kwargs)

    signer.sign_raw = counting
    try:
        signed = _sign(pdf.render_pdf(FORM).content)
    finally:
        del signer.sign_raw
    assert len(uses) == 1
    assert pdf.verify_pdf(signed).valid
