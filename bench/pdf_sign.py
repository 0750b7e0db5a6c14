"""Benchmark: render one form as PDF (WeasyPrint) and sign it (pyHanko PAdES), against a bare render.

    .venv/bin/python bench/pdf_sign.py [--runs 10]

No database needed: the form is an unsaved appointment request with two signature
boxes, rendered by the same code as the portal (requests_app.signing.form_pdf) and
signed with a development certificate created in a temporary directory. A first,
untimed round warms up fonts and imports, as a running server would be.
"""

import argparse
import datetime
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET = 1.4


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reconi.settings.dev")
    import django

    django.setup()
    from django.conf import settings
    from django.utils import timezone
    from pyhanko.sign.signers import SimpleSigner
    from weasyprint import HTML

    from organizations.models import Organization
    from reconi import pdf
    from requests_app.models import Request
    from requests_app.signing import form_html, form_pdf
    from users.models import User

    workdir = Path(tempfile.mkdtemp(prefix="reconi-bench-"))
    settings.SIGNING_KEY_FILE = str(workdir / "key.pem")
    settings.SIGNING_CERT_FILE = str(workdir / "cert.pem")
    settings.SIGNING_DEV_CERT_AUTOCREATE = True

    organization = Organization(name="Voorbeeld BV 1", kvk_number="12345678")
    request = Request(
        kind=Request.Kind.APPOINT_MANAGER,
        organization=organization,
        subject_user=User(email="bram.visser@voorbeeld-bv1.nl", first_name="Bram", last_name="Visser"),
        level="EH3",
        language="nl",
        number="RC-2026-000123",
        payload={
            "manager": {"name": "Bram Visser", "email": "bram.visser@voorbeeld-bv1.nl", "date_of_birth": "1985-05-17"},
            "means_level": "EH3",
        },
    )
    blocks = [
        {"field": "rep-1", "name": "Carla Smit", "capacity": "Bestuurder", "authority": "Gezamenlijk bevoegd"},
        {"field": "rep-2", "name": "Dirk de Boer", "capacity": "Bestuurder", "authority": "Gezamenlijk bevoegd"},
    ]

    html = form_html(request, for_pdf=True, signer_blocks=blocks)

    def sign(rendered: bytes) -> bytes:
        return pdf.sign_pdf(
            rendered,
            field_name="rep-1",
            signer_name="Carla Smit",
            capacity_label="Bestuurder",
            reason="Bestuurder Carla Smit: akkoord",
            signed_at=timezone.localtime(),
        )

    def bare() -> bytes:
        """The floor: WeasyPrint alone, on the same HTML."""
        return HTML(string=html, base_url=str(ROOT / "static") + "/").write_pdf()

    def portal() -> bytes:
        """What the portal does: render with signature fields, then sign (room reserved up front)."""
        return sign(form_pdf(request, signer_blocks=blocks))

    def before() -> bytes:
        """The code before this change: pyHanko's SimpleSigner parses the key on every
        signature and sizes the container with a trial signature (bytes_reserved=None)."""
        plain = SimpleSigner.load(settings.SIGNING_KEY_FILE, settings.SIGNING_CERT_FILE)
        current = pdf._signer_and_room
        pdf._signer_and_room = lambda: (plain, None)
        try:
            return portal()
        finally:
            pdf._signer_and_room = current

    variants = {"bare render": bare, "render + sign": portal, "render + sign (before)": before}
    for run in variants.values():  # warm-up: fonts, imports, the certificate
        run()
    times: dict[str, list[float]] = {name: [] for name in variants}
    signed = b""
    for _ in range(args.runs):  # interleaved rounds: a busy machine slows every variant alike
        for name, run in variants.items():
            start = time.perf_counter()
            output = run()
            times[name].append(time.perf_counter() - start)
            if name == "render + sign":
                signed = output
    start = time.perf_counter()
    result = pdf.verify_pdf(signed)
    verify_s = time.perf_counter() - start
    assert result.valid, result
    assert pdf.verify_pdf(before()).valid

    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"date: {datetime.date.today().isoformat()}, runs: {args.runs}, load: {os.getloadavg()[0]:.1f}")
    print(f"PDF size: {len(signed):,} bytes (signature room {pdf.signature_room(pdf._signer_and_room()[0]):,})")
    for name, seconds in median.items():
        print(f"{name:<30} median {seconds * 1000:6.0f} ms  ratio {seconds / median['bare render']:.2f}")
    print(f"verify (pyHanko, one signature): {verify_s * 1000:.0f} ms")
    ratio = median["render + sign"] / median["bare render"]
    before = median["render + sign (before)"] / median["bare render"]
    verdict = "meets" if ratio <= TARGET else "MISSES"
    print(f"RESULT: render+sign / bare render {ratio:.2f} (before: {before:.2f}); target <= {TARGET}: {verdict}")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
