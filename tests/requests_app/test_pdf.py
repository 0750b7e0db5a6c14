"""The PDF forms and their signatures, checked with pyHanko and pypdf (no mocks)."""

import datetime
import io
import os
import re
import stat

import pytest
from django.core.exceptions import ImproperlyConfigured
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader

from reconi import pdf
from reconi.levels import AssuranceLevel
from requests_app import payloads, services
from requests_app.models import Request
from requests_app.signing import form_pdf
from tests.factories import minimal_payload

from .conftest import apply, sign_as


def _validate_all(content: bytes):
    context = ValidationContext(trust_roots=[pdf.portal_certificate()], allow_fetching=False)
    reader = PdfFileReader(io.BytesIO(content))
    return [(sig, validate_pdf_signature(sig, context)) for sig in reader.embedded_signatures]


def test_appointment_pdf_names_the_organisation_manager_level_and_signers(eva, org, carla):
    request = apply(eva, org, level=AssuranceLevel.EH3)
    text = pdf.pdf_text(request.pdf_content())
    for expected in (request.number, org.name, org.kvk_number, "Eva Jansen", eva.email, "EH3", "Carla Smit"):
        assert expected in text, expected
    assert "Appointment of an authorization manager" in text  # eva's form is in English
    assert re.search(r"Page 1 of \d", text)


def test_the_form_has_an_empty_signature_field_per_required_signer(eva, joint_org):
    request = apply(eva, joint_org)
    reader = PdfReader(io.BytesIO(request.pdf_content()))
    fields = reader.get_fields() or {}
    expected = {f"rep-{r.pk}" for r in joint_org.representatives.all()}
    assert expected <= set(fields)
    assert all(fields[name].get("/FT") == "/Sig" for name in expected)


@pytest.mark.parametrize(
    ("kind", "payload", "expected"),
    [
        (
            Request.Kind.NEW_MEANS,
            {
                "people": tuple(
                    payloads.Person(
                        first_name=first,
                        last_name=last,
                        email=email,
                        level=level,
                        date_of_birth=datetime.date(1990, 1, 1),
                        years=3,
                    )
                    for first, last, email, level in [
                        ("Fleur", "de Vries", "fleur.devries@x.nl", "EH2+"),
                        ("Gijs", "Bakker", "gijs.bakker@x.nl", "EH3"),
                    ]
                )
            },
            ["Application for eHerkenning means", "Fleur de Vries", "Gijs Bakker", "EH2+"],
        ),
        (
            Request.Kind.UPGRADE,
            {"from_level": "EH2", "to_level": "EH4"},
            ["Upgrade of an eHerkenning means", "Bram Visser", "EH2", "EH4"],
        ),
        (Request.Kind.LINK_USER, {}, ["Link a user to an organisation", "Bram Visser", "bram.visser"]),
    ],
)
def test_each_kind_of_form_renders_its_content(anna, bram, org, kind, payload, expected):
    request = services.request_create(
        actor=anna,
        kind=kind,
        organization=org,
        subject_user=bram,
        payload=minimal_payload(kind, **payload),
        language="en",
    )
    text = pdf.pdf_text(form_pdf(request))
    for snippet in [request.number, org.name, *expected]:
        assert snippet in text, snippet


def test_signature_validates_with_pyhanko_and_carries_name_capacity_and_consent(client, eva, org, carla):
    request = apply(eva, org)
    sign_as(client, request, carla)
    request.refresh_from_db()
    [(sig, status)] = _validate_all(request.signed_pdf_content())
    assert status.bottom_line and status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert sig.field_name == f"rep-{carla.pk}"
    assert str(sig.sig_object["/Name"]) == "Carla Smit"
    reason = str(sig.sig_object["/Reason"])
    assert "Authorized representative" in reason and "Eva Jansen" in reason and "EH3" in reason
    assert sig.self_reported_timestamp is not None
    assert pdf.sha256(request.signed_pdf_content()) == request.signed_pdf_sha256


def test_several_signers_give_several_signatures_as_incremental_updates(client, eva, limited_org):
    request = apply(eva, limited_org)
    first, second, _third = list(limited_org.representatives.order_by("name"))
    sign_as(client, request, first)
    request.refresh_from_db()
    after_first = request.signed_pdf_content()
    sign_as(client, request, second)
    request.refresh_from_db()
    final = request.signed_pdf_content()
    # Incremental: every earlier revision is a prefix of the final file.
    assert final.startswith(after_first) and after_first.startswith(request.pdf_content())
    results = _validate_all(final)
    assert [str(sig.sig_object["/Name"]) for sig, _status in results] == [first.name, second.name]
    assert all(status.bottom_line for _sig, status in results)
    assert results[0][1].coverage == SignatureCoverageLevel.ENTIRE_REVISION
    assert results[1][1].coverage == SignatureCoverageLevel.ENTIRE_FILE
    shas = list(request.signatures.order_by("signed_at").values_list("pdf_sha256", flat=True))
    assert shas == [pdf.sha256(after_first), pdf.sha256(final)]


def test_visible_stamp_shows_the_signer(client, eva, org, carla):
    request = apply(eva, org)
    sign_as(client, request, carla)
    request.refresh_from_db()
    reader = PdfReader(io.BytesIO(request.signed_pdf_content()))
    widgets = [
        annotation.get_object()
        for page in reader.pages
        for annotation in page.get("/Annots", [])
        if annotation.get_object().get("/FT") == "/Sig" or annotation.get_object().get("/Subtype") == "/Widget"
    ]
    signed = [w for w in widgets if w.get("/T") == f"rep-{carla.pk}"]
    assert signed, widgets
    rect = [float(v) for v in signed[0]["/Rect"]]
    assert rect[2] - rect[0] > 100 and rect[3] - rect[1] > 30  # a real, visible box
    appearance = signed[0]["/AP"]["/N"].get_object().get_data()
    assert appearance  # pyHanko drew the stamp


def test_dev_certificate_is_created_on_first_use_with_a_private_key_file(settings, tmp_path):
    settings.SIGNING_KEY_FILE = str(tmp_path / "new" / "key.pem")
    settings.SIGNING_CERT_FILE = str(tmp_path / "new" / "cert.pem")
    key_path, cert_path = pdf.ensure_signing_certificate()
    assert key_path.exists() and cert_path.exists()
    assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
    assert b"BEGIN CERTIFICATE" in cert_path.read_bytes()
    first = cert_path.read_bytes()
    pdf.ensure_signing_certificate()
    assert cert_path.read_bytes() == first  # reused, not replaced


def test_without_autocreate_a_missing_certificate_is_an_error(settings, tmp_path):
    settings.SIGNING_KEY_FILE = str(tmp_path / "key.pem")
    settings.SIGNING_CERT_FILE = str(tmp_path / "cert.pem")
    settings.SIGNING_DEV_CERT_AUTOCREATE = False
    with pytest.raises(ImproperlyConfigured):
        pdf.ensure_signing_certificate()
    assert not (tmp_path / "key.pem").exists()


def test_forms_render_when_optional_details_are_missing(anna, org):
    """A subject without an active means, a payload without optional keys: the form still renders."""
    from tests.factories import UserFactory

    nobody = UserFactory(email="no.means@voorbeeld-bv1.nl", first_name="", last_name="")
    for kind in Request.Kind.values:
        request = services.request_create(
            actor=anna,
            kind=kind,
            organization=org,
            subject_user=nobody,
            payload=minimal_payload(kind),
            language="en",
        )
        text = pdf.pdf_text(form_pdf(request))
        assert request.number in text, kind
