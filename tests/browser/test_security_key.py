"""EH4 in a real Chromium: a security key is set up at the first login and is then the only way in.

The key is Chromium's virtual authenticator, switched on through the DevTools WebAuthn domain
(``WebAuthn.enable`` and ``WebAuthn.addVirtualAuthenticator`` on a CDP session of the page):
a CTAP2 USB key that is always present and verifies its user, so allauth's own WebAuthn
JavaScript registers and uses it without a person touching anything. The demo's EH4 person,
Femke Dekker, has no key in the seed; she adds one like this at her first login.
"""

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.core.cache import cache

from reconi.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET, totp_now
from tests.browser.conftest import log_in
from users.models import User

FEMKE = "femke.dekker@voorbeeld-bv1.nl"


def virtual_security_key(page) -> tuple:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": False,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


def submit_password(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("form").filter(has=page.locator("input[name=password]")).locator("[type=submit]").first.click()
    page.wait_for_load_state("networkidle")


def test_eh4_person_adds_a_security_key_at_first_login_and_only_the_key_lets_her_in_later(page):
    cdp, authenticator_id = virtual_security_key(page)

    # First login: the password, then straight to adding the security key; nothing else opens.
    log_in(page, FEMKE, totp=False)
    assert "/accounts/2fa/webauthn/add/" in page.url, page.url
    page.shots("add_key")
    assert page.goto("/").url.endswith("/accounts/2fa/webauthn/add/?next=%2F")
    page.click("#mfa_webauthn_add")
    page.wait_for_load_state("networkidle")
    assert Authenticator.objects.filter(user__email=FEMKE, type=Authenticator.Type.WEBAUTHN).count() == 1
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]
    assert len(credentials) == 1 and credentials[0]["rpId"] == "localhost"
    page.goto("/")
    assert page.locator("[data-testid=user-name]").inner_text() == "Femke Dekker"
    page.shots("in_with_the_new_key")

    # She also has an authenticator app (set up before her means became EH4): at EH4 its code is refused.
    TOTP.activate(User.objects.get(email=FEMKE), DEMO_TOTP_SECRET)
    page.context.clear_cookies()
    cache.clear()
    submit_password(page, FEMKE)
    assert "/accounts/2fa/authenticate/" in page.url, page.url
    page.fill("input[name=code]", totp_now(DEMO_TOTP_SECRET))
    page.locator("form").filter(has=page.locator("input[name=code]")).locator("[type=submit]").first.click()
    page.wait_for_load_state("networkidle")
    assert "/accounts/2fa/authenticate/" in page.url, "the code did not let her in"
    assert "Op EH4" in page.locator("form").filter(has=page.locator("input[name=code]")).inner_text()
    assert page.locator("[data-testid=user-name]").count() == 0
    page.shots("code_refused_at_eh4")

    # The security key does.
    page.click("#mfa_webauthn_authenticate")
    page.wait_for_url("**/")
    assert page.locator("[data-testid=user-name]").inner_text() == "Femke Dekker"
    sign_count = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"][0]
    assert sign_count["signCount"] >= 1
    page.shots("in_with_the_key")
