"""Confirming a sensitive step with the second factor offers no "use your password" detour, which
only asked for the authenticator code again."""

from allauth.mfa.models import Authenticator

from reconi.demo import DEMO_TOTP_SECRET
from tests.conftest import login


def test_the_code_page_offers_no_password_alternative(client, anna):
    from allauth.mfa.totp.internal.auth import TOTP

    if not Authenticator.objects.filter(user=anna, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(anna, DEMO_TOTP_SECRET)
    login(client, anna)

    response = client.get("/accounts/2fa/reauthenticate/")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="code"' in html
    assert "/accounts/reauthenticate/" not in html
    assert "Uw wachtwoord gebruiken" not in html and "Use your password" not in html
