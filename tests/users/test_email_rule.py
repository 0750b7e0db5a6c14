"""Rule 12: a means is personal — its email address is the person's own or a general one of the organisation."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from requests_app.models import Request
from tests.conftest import login
from users.validators import validate_personal_email


@pytest.fixture(autouse=True)
def english():
    """The reasons are asserted in English (the default language is Dutch)."""
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    "email",
    [
        "jan.devries@voorbeeld-bv1.nl",
        "jan.de.vries@voorbeeld-bv1.nl",
        "j.devries@voorbeeld-bv1.nl",
        "jp.devries@voorbeeld-bv1.nl",
        "jdevries@voorbeeld-bv1.nl",
        "jan_de_vries@voorbeeld-bv1.nl",
        "vries.jan@voorbeeld-bv1.nl",
        "jan@voorbeeld-bv1.nl",
        "jan.devries2@gmail.com",
    ],
)
def test_the_persons_own_address_in_the_usual_patterns_is_accepted(org, email):
    validate_personal_email(email=email, first_name="Jan", initials="J.P.", last_name="de Vries", organization=org)


def test_accents_in_the_name_do_not_matter(org):
    validate_personal_email(email="zoe.muller@voorbeeld-bv1.nl", first_name="Zoë", last_name="Müller", organization=org)


@pytest.mark.parametrize("email", ["info@voorbeeld-bv1.nl", "administratie@voorbeeld-bv1.nl"])
def test_a_general_address_at_the_organisations_own_domain_is_accepted(org, email):
    validate_personal_email(email=email, first_name="Jan", last_name="de Vries", organization=org)


def test_a_general_address_at_another_domain_is_refused_with_the_reason(org):
    with pytest.raises(ValidationError) as info:
        validate_personal_email(email="info@gmail.com", first_name="Jan", last_name="de Vries", organization=org)
    assert "voorbeeld-bv1.nl" in info.value.messages[0]


def test_someone_elses_personal_address_is_refused_with_the_reason(org):
    with pytest.raises(ValidationError) as info:
        validate_personal_email(
            email="piet.jansen@voorbeeld-bv1.nl", first_name="Jan", last_name="de Vries", organization=org
        )
    assert "personal" in info.value.messages[0]


def test_add_users_form_shows_the_rule_and_keeps_what_was_typed(client, anna, org):
    login(client, anna)
    response = client.post(
        "/en/manage/users/add/",
        {
            "action": "single",
            "person-organization": org.pk,
            "person-first_name": "Jan",
            "person-last_name": "de Vries",
            "person-date_of_birth": "1980-04-12",
            "person-email": "anna.dejong@voorbeeld-bv1.nl",
            "person-level": "EH3",
            "person-years": "3",
        },
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "does not look like the own address of Jan de Vries" in html
    assert 'value="anna.dejong@voorbeeld-bv1.nl"' in html
    assert 'value="de Vries"' in html
    assert not Request.objects.exists()
