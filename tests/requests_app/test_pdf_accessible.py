"""The forms as people read them: tagged PDF/UA (structure tree, language, title) also after
signing, the signature section never split over two pages, every requested item on the form,
and the web preview showing who signed."""

import io

from pypdf import PdfReader

from reconi import pdf
from reconi.levels import AssuranceLevel
from requests_app.models import Request
from requests_app.services import means_request_create
from requests_app.signing import form_html, form_pdf

from .conftest import apply, sign_as

JAN = {
    "first_name": "Jan",
    "initials": "J.P.",
    "last_name": "de Vries",
    "date_of_birth": "1980-04-12",
    "email": "jan.devries@voorbeeld-bv1.nl",
    "phone": "+31612345678",
    "level": "EH3",
    "years": 3,
    "authorizations": [{"scope": "level", "level": "EH3", "years": 3}],
}


def catalog(content: bytes) -> dict:
    return PdfReader(io.BytesIO(content)).trailer["/Root"]


def assert_tagged(content: bytes, language: str):
    root = catalog(content)
    assert "/StructTreeRoot" in root, "the PDF is not tagged"
    assert bool(root["/MarkInfo"]["/Marked"])
    assert root["/Lang"] == language
    assert "/Metadata" in root  # PDF/UA identification lives in the XMP metadata


def test_the_form_and_the_signed_form_are_tagged_pdf_ua(client, eva, org, carla):
    request = apply(eva, org, level=AssuranceLevel.EH3)
    assert_tagged(bytes(request.pdf), request.language or "nl")

    sign_as(client, request, carla)
    request.refresh_from_db()

    assert_tagged(bytes(request.signed_pdf), request.language or "nl")


def test_the_signature_section_is_on_one_page_with_its_heading(eva, joint_org):
    """Joint authority: several signature blocks; none may land on the page after the heading."""
    request = apply(eva, joint_org, level=AssuranceLevel.EH3)
    content = bytes(request.pdf)
    pages = [page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages]
    heading_pages = [index for index, text in enumerate(pages) if "Declaration and signatures" in text]
    assert len(heading_pages) == 1
    rendered = pdf.render_pdf(form_html(request, for_pdf=True))
    assert rendered.boxes and {box.page for box in rendered.boxes} == set(heading_pages)


def test_the_new_means_form_lists_the_first_authorizations_requested(anna, org):
    request = means_request_create(actor=anna, organization=org, people=[JAN])

    text = pdf.pdf_text(form_pdf(request))

    assert "Jan J.P. de Vries" in text and "12-04-1980" in text
    assert "First authorizations for Jan de Vries" in text or "Eerste machtigingen voor Jan de Vries" in text
    assert "EH3" in text and ("All services at EH3" in text or "Alle diensten op EH3" in text)


def test_the_web_preview_shows_who_signed(client, eva, org, carla):
    request = apply(eva, org, level=AssuranceLevel.EH3)
    assert 'data-testid="signed-box"' not in form_html(request, for_pdf=False)

    sign_as(client, request, carla)
    request = Request.objects.get(pk=request.pk)

    preview = form_html(request, for_pdf=False)
    assert 'data-testid="signed-box"' in preview and "Carla Smit" in preview
