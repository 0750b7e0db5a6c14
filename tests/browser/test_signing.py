"""Browser test for the signed forms, on the demo data in a real Chromium.

Bram (EH3 means) applies to become manager of Voorbeeld BV 2; Carla, its director,
opens the emailed link, confirms who she is, enters the emailed code and signs;
the signed PDF then passes /verify/ and a changed copy does not.
"""

import re
import tempfile
from pathlib import Path

from django.core.cache import cache

from notifications.models import OutboxEmail
from organizations.models import Organization, Representative
from requests_app.models import Request
from tests.browser.conftest import log_in

BRAM = "bram.visser@voorbeeld-bv1.nl"


def test_apply_sign_by_the_director_and_verify(page):
    bv2 = Organization.objects.get(name="Voorbeeld BV 2")
    log_in(page, BRAM, totp=False)
    page.goto("/en/become-manager/")
    page.get_by_label("KvK number of the organisation").fill(bv2.kvk_number)
    page.get_by_label("Manager level").select_option("EH3")
    page.shots("become_manager")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state("networkidle")
    request = Request.objects.get(kind=Request.Kind.APPOINT_MANAGER, organization=bv2)
    assert request.number in page.content()

    # Carla is not logged in: a fresh browser state, as when she clicks the link in her mail.
    page.context.clear_cookies()
    cache.clear()
    carla = Representative.objects.get(organization=bv2, name="Carla Smit")
    invitation = OutboxEmail.objects.filter(kind="signing_request", to__iexact=carla.email).latest("id")
    link = re.search(r"https?://\S+/sign/\S+/", invitation.body_text).group(0)
    page.goto(link[link.index("/", 8) :])
    assert "Bram Visser" in page.get_by_test_id("form-html").inner_text()
    page.shots("sign_identify")
    page.locator("input[name=id-name]").fill("Carla Smit")
    page.locator("input[name=id-date_of_birth]").fill(carla.date_of_birth.isoformat())
    page.locator("input[name=action][value=identify] ~ button").click()
    page.wait_for_load_state("networkidle")
    code_mail = OutboxEmail.objects.filter(kind="signing_code", to__iexact=carla.email).latest("id")
    code = re.search(r"(?<![\d-])(\d{6})(?!\d)", code_mail.body_text).group(1)
    page.locator("input[name=sign-code]").fill(code)
    page.locator("input[name=sign-consent]").check()
    page.shots("sign_code")
    page.locator("input[name=action][value=sign] ~ button").click()
    page.wait_for_selector("[data-testid=sign-done]")
    page.shots("signed")
    request.refresh_from_db()
    assert request.status == Request.Status.SUBMITTED

    with tempfile.TemporaryDirectory() as tmp:
        signed = Path(tmp) / f"{request.number}.pdf"
        signed.write_bytes(request.signed_pdf_content())
        page.goto("/en/verify/")
        page.set_input_files("input[type=file]", str(signed))
        page.locator("form button[type=submit]").last.click()
        page.wait_for_selector("[data-testid=verify-result]")
        assert page.get_by_test_id("verify-result").get_attribute("data-valid") == "1"
        assert "Carla Smit" in page.get_by_test_id("verify-result").inner_text()
        page.shots("verify_valid")

        changed = bytearray(signed.read_bytes())
        changed[len(changed) // 3] ^= 0x01
        signed.write_bytes(bytes(changed))
        page.set_input_files("input[type=file]", str(signed))
        page.locator("form button[type=submit]").last.click()
        page.wait_for_selector("[data-testid=verify-result][data-valid='0']")
        page.shots("verify_invalid")
