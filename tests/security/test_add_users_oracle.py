"""Issue 11, finding 7 (deliverable 5): the Add-users checks are no oracle over other organisations.

A manager learns nothing from them about people and requests outside the organisations it
manages: an existing outsider gives the same answer as an unknown person (whatever date of
birth is guessed), no other organisation's request number shows, and attempts are counted per
manager, rate-limited and written to the audit log.
"""

import datetime
import re

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from audit.models import AuditEvent
from reconi.levels import AssuranceLevel
from requests_app.services import means_request_create, people_check
from tests.conftest import login
from tests.factories import MeansFactory, MembershipFactory, UserFactory

HEADER = "first_name,initials,last_name,date_of_birth,email,phone,level,years\n"
CARLA_DOB = datetime.date(1968, 3, 14)


@pytest.fixture(autouse=True)
def fresh_cache(db):
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def carla_user(org):
    """A person of Voorbeeld BV 1 with an active means: daan (Andere BV) must learn nothing about her."""
    user = UserFactory(
        email="carla.smit@voorbeeld-bv1.nl", first_name="Carla", last_name="Smit", date_of_birth=CARLA_DOB
    )
    MeansFactory(owner=user, level=AssuranceLevel.EH3)
    MembershipFactory(user=user, organization=org)
    return user


def carla_row(dob: datetime.date, email="carla.smit@voorbeeld-bv1.nl") -> dict:
    return {
        "first_name": "Carla",
        "last_name": "Smit",
        "date_of_birth": dob.isoformat(),
        "email": email,
        "level": "EH3",
        "years": "3",
    }


def guesses() -> list[datetime.date]:
    """28 guesses around the real date, the real one among them."""
    return [CARLA_DOB + datetime.timedelta(days=offset) for offset in range(-14, 14)]


def test_an_outsider_answers_like_an_unknown_person_whatever_the_date_of_birth(daan, other_org, carla_user):
    rows = [carla_row(dob) for dob in guesses()]
    unknown = [carla_row(dob, email="carla.smit@nergens-bekend.nl") for dob in guesses()]
    results = people_check(actor=daan, people=rows, organization=other_org, manager_level="EH3")
    baseline = people_check(actor=daan, people=unknown, organization=other_org, manager_level="EH3")
    answers = {repr(sorted(errors.items())).replace("voorbeeld-bv1.nl", "X") for _c, errors in results}
    expected = {repr(sorted(errors.items())).replace("nergens-bekend.nl", "X") for _c, errors in baseline}
    assert answers == expected
    assert "active" not in repr(results) and "someone else" not in repr(results)


def preview_of(client, organization, domain: str) -> tuple[list[str], str]:
    content = HEADER + "".join(f"Carla,,Smit,{dob.isoformat()},carla.smit@{domain},,EH3,3\n" for dob in guesses())
    client.post(
        "/en/manage/users/add/",
        {
            "action": "upload",
            "csv-organization": organization.pk,
            "csv-file": SimpleUploadedFile("p.csv", content.encode(), content_type="text/csv"),
        },
    )
    html = client.get("/en/manage/users/add/preview/").content.decode()
    return re.findall(r'data-testid="preview-row" data-valid="(\d)"', html), html


def test_a_csv_of_date_of_birth_guesses_singles_out_nobody(client, daan, other_org, carla_user):
    login(client, daan)
    validity, html = preview_of(client, other_org, "voorbeeld-bv1.nl")
    unknown_validity, unknown_html = preview_of(client, other_org, "nergens-bekend.nl")
    assert len(validity) == 28 and validity == unknown_validity
    assert "active means" not in html and "someone else" not in html


def test_the_manager_of_the_person_still_gets_the_clear_answer(anna, org, carla_user, english):
    [(_cleaned, errors)] = people_check(
        actor=anna, people=[carla_row(CARLA_DOB)], organization=org, manager_level="EH3"
    )
    assert "already has an active means" in " ".join(errors["email"])
    [(_cleaned, errors)] = people_check(
        actor=anna, people=[carla_row(CARLA_DOB.replace(year=1970))], organization=org, manager_level="EH3"
    )
    assert "belongs to someone else" in " ".join(errors["email"])


def test_no_request_number_of_another_organisation_shows(anna, org, daan, other_org, english):
    jan = {**carla_row(datetime.date(1980, 4, 12), email="jan.devries@voorbeeld-bv1.nl"), "first_name": "Jan"}
    jan["last_name"] = "de Vries"
    request = means_request_create(actor=anna, organization=org, people=[jan])
    [(_cleaned, errors)] = people_check(actor=daan, people=[jan], organization=other_org, manager_level="EH3")
    assert request.number not in repr(errors) and not errors
    [(_cleaned, errors)] = people_check(actor=anna, people=[jan], organization=org, manager_level="EH3")
    assert request.number in " ".join(errors["email"])


def test_attempts_are_rate_limited_per_manager_and_logged(client, settings, daan, anna, other_org, org, caplog):
    settings.PEOPLE_CHECK_RATE = "2/h"
    content = HEADER + "Jan,,Jansen,1980-01-01,jan.jansen@andere-bv.nl,,EH2,1\n"

    def upload(organization):
        return client.post(
            "/en/manage/users/add/",
            {
                "action": "upload",
                "csv-organization": organization.pk,
                "csv-file": SimpleUploadedFile("p.csv", content.encode(), content_type="text/csv"),
            },
        )

    login(client, daan)
    assert upload(other_org).status_code == 302
    assert upload(other_org).status_code == 302
    refused = upload(other_org)
    assert refused.status_code == 200
    assert "try again" in refused.content.decode()
    assert AuditEvent.objects.filter(action="people.check", actor=daan, organization=other_org).count() == 2
    assert AuditEvent.objects.filter(action="people.check_limited", actor=daan).count() == 1
    assert any("rate-limited" in record.getMessage() for record in caplog.records)

    # Per manager: anna is not held back by daan's attempts.
    client.logout()
    login(client, anna)
    assert upload(org).status_code == 302
