"""/verify/: valid only when this portal signed the file and nothing changed since."""

import io
import shutil

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from reconi import pdf
from requests_app.forms import MAX_VERIFY_BYTES

from .conftest import apply, en_url, sign_as


@pytest.fixture
def signed_pdf(client, eva, org, carla):
    request = apply(eva, org)
    sign_as(client, request, carla)
    request.refresh_from_db()
    return request.signed_pdf_content()


def _verify(client, content: bytes, name="form.pdf"):
    return client.post(en_url("verify"), {"file": SimpleUploadedFile(name, content, "application/pdf")})


def test_valid_signed_form_shows_who_signed_and_when(client, signed_pdf):
    response = _verify(client, signed_pdf)
    assert response.status_code == 200
    assert b'data-valid="1"' in response.content
    assert b"Carla Smit" in response.content
    assert b"RC-" in response.content


def test_one_flipped_byte_makes_the_file_invalid(client, signed_pdf):
    # Flip one byte in the signed content, well away from the signature value itself.
    tampered = bytearray(signed_pdf)
    position = len(signed_pdf) // 5
    tampered[position] ^= 0x01
    response = _verify(client, bytes(tampered))
    assert b'data-valid="0"' in response.content
    assert pdf.verify_pdf(bytes(tampered)).valid is False


def test_flipped_bytes_anywhere_in_the_file_are_all_caught(client, signed_pdf):
    # Positions spread over the whole file, plus ones inside the signature value (CMS), which pyHanko's
    # lenient parser may accept: the portal's record of the exact document catches those.
    gap_start = signed_pdf.index(b"/Contents <") + len(b"/Contents <")
    positions = [*range(0, len(signed_pdf), max(len(signed_pdf) // 50, 1)), *range(gap_start, gap_start + 400, 7)]
    for position in positions:
        tampered = bytearray(signed_pdf)
        tampered[position] ^= 0x01
        response = _verify(client, bytes(tampered))
        assert b'data-valid="0"' in response.content, position


def test_a_change_appended_after_signing_is_reported_as_modified(signed_pdf):
    writer = IncrementalPdfFileWriter(io.BytesIO(signed_pdf))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    page[generic.NameObject("/Rotate")] = generic.NumberObject(90)
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    result = pdf.verify_pdf(out.getvalue())
    assert not result.valid
    assert result.reason == "modified"


def test_not_a_pdf_is_rejected_with_the_reason(client):
    response = _verify(client, b"Hello, this is a text file", name="notes.pdf")
    assert b'data-reason="not_pdf"' in response.content


def test_an_unsigned_pdf_is_not_valid(client, eva, org, carla):
    request = apply(eva, org)
    response = _verify(client, request.pdf_content())
    assert b'data-reason="not_signed"' in response.content


def test_signed_by_someone_else_is_not_valid(client, settings, signed_pdf, tmp_path, eva, org, carla):
    portal_key, portal_cert = settings.SIGNING_KEY_FILE, settings.SIGNING_CERT_FILE
    # Another party with its own certificate signs a form.
    settings.SIGNING_KEY_FILE = str(tmp_path / "other" / "key.pem")
    settings.SIGNING_CERT_FILE = str(tmp_path / "other" / "cert.pem")
    rendered = pdf.render_pdf("<html><body><p>Fake form</p></body></html>").content
    forged = pdf.sign_pdf(
        rendered,
        field_name="forger",
        signer_name="Carla Smit",
        capacity_label="Authorized representative",
        reason="fake",
        signed_at=__import__("django.utils.timezone", fromlist=["now"]).now(),
    )
    settings.SIGNING_KEY_FILE, settings.SIGNING_CERT_FILE = portal_key, portal_cert
    result = pdf.verify_pdf(forged)
    assert not result.valid and result.reason == "untrusted"
    response = _verify(client, forged)
    assert b'data-reason="untrusted"' in response.content
    shutil.rmtree(tmp_path / "other")


def test_an_empty_upload_gets_a_clear_message(client):
    response = client.post(en_url("verify"), {"file": SimpleUploadedFile("x.pdf", b"", "application/pdf")})
    assert response.status_code == 200
    assert b'data-testid="verify-result"' not in response.content


def test_upload_larger_than_the_limit_is_refused(client):
    big = b"%PDF-1.7\n" + b"0" * (MAX_VERIFY_BYTES + 1)
    response = _verify(client, big)
    assert response.status_code in (200, 413)
    assert b"larger than 10 MB" in response.content
    assert b'data-testid="verify-result"' not in response.content
