"""The person's language preference (issue: the chosen language was forgotten): set by the header's
switch and on the settings page, used for the interface after login and for the emails to them."""

import pytest

from audit.models import AuditEvent
from notifications.services import email_queue
from tests.conftest import login
from users.models import User


def test_switching_to_english_is_remembered_on_the_user(client, bram):
    login(client, bram)

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})

    assert response.status_code == 302 and response["Location"] == "/en/"
    bram.refresh_from_db()
    assert bram.language == "en"
    assert AuditEvent.objects.filter(action="user.language_set", actor=bram).exists()


def test_a_user_who_chose_english_gets_english_pages_on_unprefixed_urls(client, bram):
    bram.language = "en"
    bram.save()
    login(client, bram)

    response = client.get("/manage/users/?page=2")
    assert response.status_code == 302 and response["Location"] == "/en/manage/users/?page=2"

    response = client.get("/", follow=True)
    assert response.redirect_chain == [("/en/", 302)]
    assert '<html lang="en">' in response.content.decode()


def test_a_dutch_user_is_not_redirected_and_explicit_english_links_still_work(client, bram):
    login(client, bram)

    assert client.get("/").status_code == 200
    assert '<html lang="en">' in client.get("/en/").content.decode()


def test_posts_are_never_redirected(client, bram):
    bram.language = "en"
    bram.save()
    login(client, bram)

    response = client.post("/links/999999/accept/")

    assert response.status_code == 404


def test_anonymous_visitor_who_chose_english_stays_in_english(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})

    response = client.get("/accounts/login/")

    assert response.status_code == 302 and response["Location"] == "/en/accounts/login/"


def test_the_settings_page_changes_the_language(client, bram):
    login(client, bram)

    page = client.get("/profile/")
    assert page.status_code == 200 and 'name="language"' in page.content.decode()
    response = client.post("/profile/", {"language": "en"})

    assert response.status_code == 302 and response["Location"] == "/en/profile/"
    bram.refresh_from_db()
    assert bram.language == "en"


def test_the_settings_page_refuses_an_unknown_language(client, bram):
    login(client, bram)

    response = client.post("/profile/", {"language": "de"})

    assert response.status_code == 200
    bram.refresh_from_db()
    assert bram.language == "nl"


def test_after_login_the_interface_follows_the_preference(client, bram):
    bram.language = "en"
    bram.set_password("a-long-password-1")
    bram.save()
    from allauth.account.models import EmailAddress

    EmailAddress.objects.update_or_create(user=bram, email=bram.email, defaults={"verified": True, "primary": True})

    response = client.post("/accounts/login/", {"login": bram.email, "password": "a-long-password-1"})

    assert response.status_code == 302
    assert response["Location"].startswith("/en/"), response["Location"]


@pytest.mark.parametrize(("language", "subject_word"), [("en", "revoked"), ("nl", "ingetrokken")])
def test_emails_to_a_user_follow_their_preference_not_the_active_language(bram, language, subject_word):
    from django.utils import translation

    User.objects.filter(pk=bram.pk).update(language=language)
    bram.refresh_from_db()
    other = "nl" if language == "en" else "en"
    with translation.override(other):
        email = email_queue(
            kind="authorization_revoked",
            to=bram,
            context={"organization": "Voorbeeld BV 1", "service": "Omzetbelasting", "level": "EH2"},
        )

    assert email.language == language
    assert subject_word in email.subject.lower(), email.subject
