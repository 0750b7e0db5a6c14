"""Every login and second-factor page, and the error pages, render in Dutch and English
inside our layout (base.html: the header, the language switch, the right ``lang``)."""

import re
import time

import pytest
from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from allauth.account.utils import user_pk_to_url_str
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import translation

from reconi import views as reconi_views
from tests.conftest import login
from tests.factories import PASSWORD, UserFactory
from users.models import User

TOTP_SECRET = "RECONIDEMOTOTPSECRETRECONIDEMO23"
LANGUAGES = [("nl", ""), ("en", "/en")]


@pytest.fixture
def person(db):
    user = UserFactory(email="eva.jansen@voorbeeld-bv1.nl", first_name="Eva", last_name="Jansen")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


@pytest.fixture
def person_with_totp(person):
    TOTP.activate(person, TOTP_SECRET)
    RecoveryCodes.activate(person)
    return person


def login_recently_reauthenticated(client, user):
    """Logged in and just confirmed the password again, as allauth records it."""
    login(client, user)
    session = client.session
    session[AUTHENTICATION_METHODS_SESSION_KEY].append(
        {"method": "password", "at": time.time(), "reauthenticated": True}
    )
    session.save()
    return client


def assert_our_page(response, language, *key_strings):
    """Rendered in base.html, in the requested language, with the page's key strings."""
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    assert 'data-testid="language-switch"' in html
    assert "vendor/bootstrap/css/bootstrap.min.css" in html
    for key in key_strings:
        assert key in html, f"{key!r} missing"


@pytest.mark.parametrize(("language", "prefix"), LANGUAGES)
def test_login_page_renders_email_and_password_without_signup(client, db, language, prefix):
    response = client.get(f"{prefix}/accounts/login/")

    assert response.status_code == 200
    assert_our_page(response, language, f'action="{prefix}/accounts/login/"', 'name="login"', 'name="password"')
    assert f'href="{prefix}/accounts/password/reset/"' in response.content.decode()
    assert "/accounts/signup/" not in response.content.decode()
    if language == "en":
        assert "Log in to My Reconi" in response.content.decode()


@pytest.mark.parametrize(("language", "prefix"), LANGUAGES)
def test_signup_is_closed(client, db, language, prefix):
    response = client.get(f"{prefix}/accounts/signup/")

    assert response.status_code == 200
    assert_our_page(response, language)
    assert 'name="password1"' not in response.content.decode()


@pytest.mark.parametrize(("language", "prefix"), LANGUAGES)
def test_logout_confirmation_posts_to_logout(client, person, language, prefix):
    login(client, person)

    response = client.get(f"{prefix}/accounts/logout/")

    assert response.status_code == 200
    assert_our_page(response, language, f'action="{prefix}/accounts/logout/"', "Eva Jansen")
    if language == "en":
        assert "Are you sure you want to sign out?" in response.content.decode()


@pytest.mark.parametrize(("language", "prefix"), LANGUAGES)
def test_password_reset_pages_render(client, person, language, prefix):
    form = client.get(f"{prefix}/accounts/password/reset/")
    done = client.get(f"{prefix}/accounts/password/reset/done/")
    key_done = client.get(f"{prefix}/accounts/password/reset/key/done/")

    assert (form.status_code, done.status_code, key_done.status_code) == (200, 200, 200)
    assert_our_page(form, language, 'name="email"', f'action="{prefix}/accounts/password/reset/"')
    assert_our_page(done, language)
    assert_our_page(key_done, language)
    if language == "en":
        assert "Reset My Password" in form.content.decode()
        assert "Your password is now changed." in key_done.content.decode()


@pytest.mark.parametrize(("language", "prefix"), LANGUAGES)
def test_password_reset_from_key_shows_the_new_password_form(client, person, language, prefix):
    key = default_token_generator.make_token(person)
    url = f"{prefix}/accounts/password/reset/key/{user_pk_to_url_str(person)}-{key}/"

    response = client.get(url, follow=True)

    assert response.status_code == 200
    assert_our_page(response, language, 'name="password1"', 'name="password2"')


@pytest.mark.parametrize(("language", "prefix"), LANGUAGES)
def test_password_reset_with_a_bad_key_says_so(client, person, language, prefix):
    response = client.get(f"{prefix}/accounts/password/reset/key/{user_pk_to_url_str(person)}-bad-key/")

    assert response.status_code == 200
    assert_our_page(response, language, f'href="{prefix}/accounts/password/reset/"')
    assert 'name="password1"' not in response.content.decode()
    if language == "en":
        assert "Bad Token" in response.content.decode()


@pytest.mark.parametrize(("language", "prefix"), LANGUAGES)
def test_email_confirmation_page_asks_to_confirm(client, db, language, prefix):
    user = UserFactory(email="nieuw.persoon@voorbeeld-bv1.nl")
    address = EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)
    key = EmailConfirmationHMAC(address).key

    response = client.get(f"{prefix}/accounts/confirm-email/{key}/")

    assert response.status_code == 200
    assert_our_page(response, language, "nieuw.persoon@voorbeeld-bv1.nl", f'action="{prefix}/accounts/confirm-email/')
    if language == "en":
        assert "Confirm Email Address" in response.content.decode()


@pytest.mark.parametrize(("language", "prefix"), LANGUAGES)
def test_login_with_totp_asks_for_the_code(client, person_with_totp, language, prefix):
    response = client.post(
        f"{prefix}/accounts/login/", {"login": person_with_totp.email, "password": PASSWORD}, follow=True
    )

    assert response.redirect_chain[-1][0] == f"{prefix}/accounts/2fa/authenticate/"
    assert response.status_code == 200
    assert_our_page(response, language, 'name="code"', f'action="{prefix}/accounts/2fa/authenticate/"')
    assert 'data-testid="user-name"' not in response.content.decode(), "not logged in before the second factor"
    if language == "en":
        assert "recovery codes" in response.content.decode()


@pytest.mark.parametrize(("language", "prefix"), LANGUAGES)
def test_mfa_reauthenticate_asks_for_the_code(client, person_with_totp, language, prefix):
    login(client, person_with_totp)

    response = client.get(f"{prefix}/accounts/2fa/reauthenticate/")

    assert response.status_code == 200
    assert_our_page(response, language, 'name="code"', f'action="{prefix}/accounts/2fa/reauthenticate/"')


@pytest.mark.parametrize(("language", "prefix"), LANGUAGES)
def test_password_reauthenticate_asks_for_the_password(client, person, language, prefix):
    login(client, person)

    response = client.get(f"{prefix}/accounts/reauthenticate/")

    assert response.status_code == 200
    assert_our_page(response, language, 'name="password"', f'action="{prefix}/accounts/reauthenticate/"')


@pytest.mark.parametrize(("language", "prefix"), LANGUAGES)
def test_totp_activation_redirects_to_reauthenticate_first(client, person, language, prefix):
    login(client, person, second_factor=False)

    response = client.get(f"{prefix}/accounts/2fa/totp/activate/")

    assert response.status_code == 302
    assert response["Location"].startswith(f"{prefix}/accounts/reauthenticate/")


@pytest.mark.parametrize(("language", "prefix"), LANGUAGES)
def test_totp_activation_shows_qr_code_and_secret(client, person, language, prefix):
    login_recently_reauthenticated(client, person)

    response = client.get(f"{prefix}/accounts/2fa/totp/activate/")

    assert response.status_code == 200
    html = response.content.decode()
    assert_our_page(response, language, 'id="authenticator_secret"', 'name="code"', 'class="qr-code')
    assert 'src="data:image/svg+xml;base64,' in html
    secret = response.context["form"].secret
    assert f'value="{secret}"' in html


@pytest.mark.parametrize(("language", "prefix"), LANGUAGES)
def test_totp_deactivation_asks_for_confirmation(client, person_with_totp, language, prefix):
    login_recently_reauthenticated(client, person_with_totp)

    response = client.get(f"{prefix}/accounts/2fa/totp/deactivate/")

    assert response.status_code == 200
    assert_our_page(response, language, f'action="{prefix}/accounts/2fa/totp/deactivate/"', "btn-danger")


@pytest.mark.parametrize(("language", "prefix"), LANGUAGES)
def test_recovery_codes_are_shown(client, person_with_totp, language, prefix):
    login_recently_reauthenticated(client, person_with_totp)
    codes = RecoveryCodes(person_with_totp.authenticator_set.get(type="recovery_codes")).get_unused_codes()

    view = client.get(f"{prefix}/accounts/2fa/recovery-codes/")
    generate = client.get(f"{prefix}/accounts/2fa/recovery-codes/generate/")

    assert (view.status_code, generate.status_code) == (200, 200)
    assert_our_page(view, language, 'id="recovery_codes"', codes[0], codes[-1])
    assert_our_page(generate, language, f'action="{prefix}/accounts/2fa/recovery-codes/generate/"')


@pytest.mark.parametrize(("language", "prefix"), LANGUAGES)
def test_mfa_index_shows_the_state_of_each_factor(client, person_with_totp, language, prefix):
    login(client, person_with_totp)

    response = client.get(f"{prefix}/accounts/2fa/")

    assert response.status_code == 200
    assert_our_page(
        response,
        language,
        f'href="{prefix}/accounts/2fa/totp/deactivate/"',
        f'href="{prefix}/accounts/2fa/recovery-codes/"',
    )
    if language == "en":
        assert "Authentication using an authenticator app is active." in response.content.decode()


@pytest.mark.parametrize(("language", "prefix"), LANGUAGES)
def test_account_pages_render_in_the_manage_layout(client, person, language, prefix):
    login(client, person)

    for path in ["/accounts/password/change/", "/accounts/email/"]:
        response = client.get(f"{prefix}{path}")
        assert response.status_code == 200, path
        assert_our_page(response, language, 'aria-label="', f'href="{prefix}/accounts/2fa/"')


@pytest.mark.parametrize(("language", "prefix"), LANGUAGES)
def test_404_page(client, db, language, prefix):
    response = client.get(f"{prefix}/does-not-exist/")

    assert response.status_code == 404
    assert_our_page(response, language, f'href="{prefix}/"')
    if language == "en":
        assert "Page not found" in response.content.decode()


@pytest.mark.parametrize(("language", "prefix"), LANGUAGES)
def test_403_page_for_a_user_who_manages_nothing(client, pim, language, prefix):
    login(client, pim)

    response = client.get(f"{prefix}/manage/")

    assert response.status_code == 403
    assert_our_page(response, language, "Pim Plain")
    if language == "en":
        assert "You do not have access to this page" in response.content.decode()


@pytest.mark.parametrize(("language", "prefix"), LANGUAGES)
def test_500_page_renders_from_the_handler_without_the_database(language, prefix):
    # No db fixture: pytest-django fails any query, so the page cannot depend on the database.
    request = RequestFactory().get(f"{prefix}/")
    request.user = User(pk=1, email="eva.jansen@voorbeeld-bv1.nl")  # logged in: the Manage check would query
    with translation.override(language):
        response = reconi_views.server_error(request)

    assert response.status_code == 500
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    assert f'href="{prefix}/"' in html
    if language == "en":
        assert "Something went wrong" in html


def test_500_page_needs_no_request_and_no_database():
    with translation.override("en"):
        html = render_to_string("500.html")

    assert "Something went wrong" in html
    assert "vendor/bootstrap/css/bootstrap.min.css" in html


@pytest.mark.parametrize(
    ("page", "language", "lands_on"),
    [
        ("/accounts/2fa/", "en", "/en/accounts/2fa/"),
        ("/en/accounts/2fa/", "nl", "/accounts/2fa/"),
        ("/en/accounts/2fa/?next=%2Fen%2F", "nl", "/accounts/2fa/?next=%2Fen%2F"),
        ("/", "en", "/en/"),
        ("/en/", "nl", "/"),
    ],
)
def test_language_switch_returns_to_the_same_page_in_the_chosen_language(client, person, page, language, lands_on):
    login(client, person)
    html = client.get(page).content.decode()
    next_url = re.search(r'name="next" value="([^"]*)"', html).group(1).replace("&amp;", "&")

    response = client.post("/i18n/setlang/", {"language": language, "next": next_url})

    assert response.status_code == 302
    assert response["Location"] == lands_on
    assert client.get(lands_on).content.decode().count(f'<html lang="{language}">') == 1
