"""Manage tab, Users: the people of my organisations only, filters, CSV export of what is shown, add, upgrade."""

import csv
import io
import re

import pytest

from organizations.models import Membership
from reconi.levels import AssuranceLevel
from requests_app.models import Request
from tests.conftest import login, make_manager
from tests.factories import AuthorizationFactory, MeansFactory, OrganizationFactory, UserFactory


@pytest.fixture
def manager_client(client, anna):
    return login(client, anna)


def test_list_shows_the_people_of_my_organisations_only(manager_client, anna, bram, daan, org, service_eh2):
    AuthorizationFactory(user=bram, organization=org, service=service_eh2)
    html = manager_client.get("/en/manage/users/").content.decode()

    assert bram.email in html and anna.email in html
    assert daan.email not in html
    assert "Add users" in html


def test_filters_by_level_status_and_search(manager_client, bram, pim, org):
    expired = UserFactory(email="oud.lid@voorbeeld-bv1.nl", first_name="Oud", last_name="Lid")
    MeansFactory(owner=expired, expired=True)
    Membership.objects.create(user=expired, organization=org)

    html = manager_client.get("/en/manage/users/", {"level": "EH2"}).content.decode()
    assert pim.email in html and bram.email not in html

    html = manager_client.get("/en/manage/users/", {"status": "expired"}).content.decode()
    assert expired.email in html and bram.email not in html

    html = manager_client.get("/en/manage/users/", {"q": "visser"}).content.decode()
    assert bram.email in html and pim.email not in html


def test_filtering_on_an_organisation_i_do_not_manage_is_refused(manager_client, daan, other_org):
    response = manager_client.get("/en/manage/users/", {"organization": other_org.pk})
    assert response.status_code == 200
    assert daan.email not in response.content.decode()


def test_csv_export_holds_exactly_what_is_shown(manager_client, bram, pim, anna):
    response = manager_client.get("/en/manage/users/", {"level": "EH3", "format": "csv"})

    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    emails = {row[2] for row in rows[1:]}
    assert emails == {bram.email, anna.email}
    assert rows[1][3] == "EH3"


def _active_counts(client) -> dict[str, str]:
    response = client.get("/en/manage/users/", {"format": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    return {row[2]: row[7] for row in rows[1:]}


def test_active_authorizations_count_only_those_in_force_in_organisations_i_manage(
    manager_client, bram, org, other_org, service_eh2
):
    Membership.objects.create(user=bram, organization=other_org)
    AuthorizationFactory.create_batch(2, user=bram, organization=org, service=service_eh2)
    AuthorizationFactory(user=bram, organization=org, service=service_eh2, expired=True)
    AuthorizationFactory(user=bram, organization=org, service=service_eh2, revoked=True)
    AuthorizationFactory(user=bram, organization=org, service=service_eh2, pending=True)
    AuthorizationFactory.create_batch(3, user=bram, organization=other_org, service=service_eh2)

    counts = _active_counts(manager_client)
    assert counts[bram.email] == "2"
    html = manager_client.get("/en/manage/users/", {"q": "visser"}).content.decode()
    assert re.search(rf"{re.escape(bram.email)}.*?<td class=\"text-end\">2</td>", html, re.S)


def test_a_person_in_two_organisations_i_manage_is_listed_once_with_both_counted(
    manager_client, anna, bram, org, service_eh2
):
    second = OrganizationFactory(name="Voorbeeld BV 2")
    make_manager(anna, second)
    Membership.objects.create(user=bram, organization=second)
    AuthorizationFactory(user=bram, organization=org, service=service_eh2)
    AuthorizationFactory(user=bram, organization=second, service=service_eh2)

    counts = _active_counts(manager_client)
    assert counts[bram.email] == "2"
    html = manager_client.get("/en/manage/users/").content.decode()
    assert html.count(bram.email) == 1


def test_list_query_count_does_not_grow_with_the_people(manager_client, org, django_assert_max_num_queries):
    def add_people(n):
        for _ in range(n):
            user = UserFactory()
            MeansFactory(owner=user, level=AssuranceLevel.EH2)
            Membership.objects.create(user=user, organization=org)

    add_people(3)
    with django_assert_max_num_queries(20) as small:
        manager_client.get("/en/manage/users/")
    add_people(40)
    with django_assert_max_num_queries(len(small.captured_queries)):
        manager_client.get("/en/manage/users/")


def test_add_one_user_makes_a_draft_request_and_shows_it(manager_client, org, service_eh2):
    response = manager_client.post(
        "/en/manage/users/add/",
        {
            "action": "single",
            "person-organization": org.pk,
            "person-first_name": "Jan",
            "person-initials": "J.",
            "person-last_name": "de Vries",
            "person-date_of_birth": "1980-04-12",
            "person-email": "jan.devries@voorbeeld-bv1.nl",
            "person-phone": "+31 6 12345678",
            "person-level": "EH3",
            "person-years": "3",
            "person-all_services": "on",
            "person-services": [service_eh2.pk],
        },
    )
    request = Request.objects.get()
    assert response["Location"].endswith(f"/manage/requests/{request.pk}/")
    person = request.payload_for_new_means().people[0]
    assert [a.scope for a in person.authorizations] == ["level", "service"]

    detail = manager_client.get(response["Location"]).content.decode()
    assert "jan.devries@voorbeeld-bv1.nl" in detail and request.number in detail


def test_add_user_for_an_organisation_i_do_not_manage_is_refused(manager_client, other_org):
    response = manager_client.post(
        "/en/manage/users/add/",
        {
            "action": "single",
            "person-organization": other_org.pk,
            "person-first_name": "Jan",
            "person-last_name": "de Vries",
            "person-date_of_birth": "1980-04-12",
            "person-email": "jan.devries@andere-bv.nl",
            "person-level": "EH2",
            "person-years": "1",
        },
    )
    assert response.status_code == 200
    assert not Request.objects.exists()


def test_upgrade_of_a_user_of_another_organisation_is_404(manager_client, daan):
    assert manager_client.get(f"/en/manage/users/{daan.pk}/upgrade/").status_code == 404


def test_upgrade_request_from_the_users_page(manager_client, org, pim):
    response = manager_client.post(f"/en/manage/users/{pim.pk}/upgrade/", {"organization": org.pk, "level": "EH3"})
    request = Request.objects.get()
    assert request.kind == Request.Kind.UPGRADE and request.subject_user == pim and request.level == "EH3"
    assert response["Location"].endswith(f"/manage/requests/{request.pk}/")
