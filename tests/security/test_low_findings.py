"""Issue 11, the low findings (11): a too large upload to /verify/, a bare ``next``,
the Content-Security-Policy and formula cells in the CSV export."""

import csv
import io
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from organizations.models import Membership
from requests_app.forms import MAX_VERIFY_BYTES
from tests.conftest import login
from tests.factories import MeansFactory, UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def test_verify_upload_over_the_limit_is_413_with_a_message(client):
    big = b"%PDF-1.7\n" + b"0" * (MAX_VERIFY_BYTES + 200 * 1024)
    with translation.override("en"):
        response = client.post(reverse("verify"), {"file": SimpleUploadedFile("big.pdf", big, "application/pdf")})
    assert response.status_code == 413
    assert b"larger than 10 MB" in response.content
    assert b'data-testid="verify-result"' not in response.content


@pytest.mark.parametrize("next_url", ["abc", "permission_list", "//evil.example/", "https://evil.example/"])
def test_a_next_that_is_no_local_path_falls_back_to_the_list(client, anna, next_url):
    login(client, anna)
    response = client.get(reverse("permission_renew_many"), {"next": next_url})
    assert response.status_code == 302
    assert response["Location"] == reverse("permission_list")


def test_a_local_next_is_kept(client, anna):
    login(client, anna)
    response = client.get(reverse("permission_renew_many"), {"next": "/manage/permissions/?status=active"})
    assert response["Location"] == "/manage/permissions/?status=active"


def test_pages_carry_a_content_security_policy_without_unsafe_inline(client, anna):
    login(client, anna)
    for url in [reverse("account_login"), reverse("home"), reverse("manage_overview"), reverse("verify")]:
        policy = client.get(url)["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "style-src 'self'" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert "object-src 'none'" in policy and "frame-ancestors 'none'" in policy


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/(?:ld\+)?json)[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=\"|\son[a-z]+=\"", re.I)


def test_templates_of_web_pages_hold_no_inline_script_style_or_handler():
    """The policy would block them; emails and the PDF document are no web pages."""
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        relative = path.relative_to(ROOT / "templates").as_posix()
        if relative.startswith(("notifications/email/", "requests_app/pdf/form_document")):
            continue
        text = path.read_text()
        if INLINE_SCRIPT.search(text) or INLINE_STYLE.search(text):
            offenders.append(relative)
    assert offenders == []


@pytest.mark.parametrize(
    "name",
    ["=1+1", "+31", "-2", "@SUM(A1)", "\t=1", "\r=1", " =1+1", '＝HYPERLINK("x")', "＋1", "－1", "＠A1", "\u3000=1"],
)
def test_csv_export_neutralises_cells_that_start_like_a_formula(client, anna, org, name):
    person = UserFactory(email="formule@voorbeeld-bv1.nl", first_name=name, last_name="Formule")
    MeansFactory(owner=person)
    Membership.objects.create(user=person, organization=org)
    login(client, anna)
    response = client.get(reverse("users_list"), {"format": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    row = next(row for row in rows if row[2] == person.email)
    assert row[0] == "'" + name


def test_csv_export_leaves_ordinary_names_alone(client, anna, org):
    person = UserFactory(email="jan.de.vries@voorbeeld-bv1.nl", first_name="Jan", last_name="de Vries")
    MeansFactory(owner=person)
    Membership.objects.create(user=person, organization=org)
    login(client, anna)
    rows = list(
        csv.reader(io.StringIO(client.get(reverse("users_list"), {"format": "csv"}).content.decode("utf-8-sig")))
    )
    assert ["Jan", "de Vries"] in [row[:2] for row in rows]
