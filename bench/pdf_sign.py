"""Benchmark: render one form as PDF (WeasyPrint) and sign it (pyHanko PAdES), median of 10.

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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reconi.settings.dev")
    import django

    django.setup()
    from django.conf import settings
    from django.utils import timezone

    from organizations.models import Organization
    from reconi import pdf
    from requests_app.models import Request
    from requests_app.signing import form_pdf
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

    def once() -> tuple[float, float, float, bytes]:
        start = time.perf_counter()
        rendered = form_pdf(request, signer_blocks=blocks)
        rendered_at = time.perf_counter()
        signed = pdf.sign_pdf(
            rendered,
            field_name="rep-1",
            signer_name="Carla Smit",
            capacity_label="Bestuurder",
            reason="Bestuurder Carla Smit: akkoord",
            signed_at=timezone.localtime(),
        )
        signed_at = time.perf_counter()
        return rendered_at - start, signed_at - rendered_at, signed_at - start, signed

    once()  # warm-up: fonts, imports, the certificate
    renders, signs, totals = [], [], []
    signed = b""
    for _ in range(args.runs):
        render_s, sign_s, total_s, signed = once()
        renders.append(render_s)
        signs.append(sign_s)
        totals.append(total_s)
    start = time.perf_counter()
    result = pdf.verify_pdf(signed)
    verify_s = time.perf_counter() - start
    assert result.valid, result

    def ms(values) -> str:
        return f"{statistics.median(values) * 1000:.0f} ms"

    print(f"date: {datetime.date.today().isoformat()}, runs: {args.runs}, PDF size: {len(signed):,} bytes")
    print(f"render (WeasyPrint + signature fields): median {ms(renders)}")
    print(f"sign (pyHanko PAdES, visible stamp):    median {ms(signs)}")
    print(f"verify (pyHanko, one signature):        {verify_s * 1000:.0f} ms")
    spread = f"min {min(totals) * 1000:.0f} ms, max {max(totals) * 1000:.0f} ms"
    print(f"RESULT: render+sign one form: median {ms(totals)} ({spread})")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
