"""The Permissions list (issue 3, item 2): columns, filters, search, inactive rows, paging, query count."""

import datetime
import re

import pytest
from dateutil.relativedelta import relativedelta
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from authorizations.models import Authorization
from organizations.models import Membership
from portal.forms.manage_permissions import USER_SELECT_LIMIT
from reconi.levels import AssuranceLevel
from tests.conftest import login, make_manager
from tests.factories import (
    AuthorizationFactory,
    MeansFactory,
    MembershipFactory,
    OrganizationFactory,
    ServiceProviderFactory,
    UserFactory,
)
from users.models import User

URL = "/en/manage/permissions/"
# Session, user, guardian/means look-ups of the manager check and the menu, the two filter choice lists,
# COUNT and one page of rows, the session save: none of them depends on the number of rows.
MAX_QUERIES = 9  # session, user, the managed organisations (2), the form's choices, count, ids, rows
ROW = re.compile(r'data-testid="permission-row" data-id="(\d+)" data-status="(\w+)"')


def rows(response) -> list[int]:
    assert response.status_code == 200
    return [int(pk) for pk, _status in ROW.findall(response.content.decode())]


def statuses(response) -> dict[int, str]:
    return {int(pk): status for pk, status in ROW.findall(response.content.decode())}


def today():
    return timezone.localdate()


@pytest.fixture
def manager(client, anna):
    return login(client, anna)


@pytest.fixture
def mixed(anna, bram, org, service_eh2):
    """One row of each status in anna's organisation."""
    return {
        "active": AuthorizationFactory(user=bram, organization=org, service=service_eh2),
        "pending": AuthorizationFactory(user=bram, organization=org, service=service_eh2, pending=True),
        "expired": AuthorizationFactory(user=bram, organization=org, service=service_eh2, expired=True),
        "revoked": AuthorizationFactory(user=bram, organization=org, service=service_eh2, revoked=True),
    }


def test_default_list_shows_pending_and_active_only(manager, mixed):
    shown = statuses(manager.get(URL))
    assert shown == {mixed["active"].pk: "active", mixed["pending"].pk: "pending"}


def test_show_inactive_adds_expired_and_revoked(manager, mixed):
    shown = statuses(manager.get(URL, {"show_inactive": "1"}))
    assert shown == {a.pk: status for status, a in mixed.items()}


def test_status_filter_picks_one_status_even_without_show_inactive(manager, mixed):
    assert rows(manager.get(URL, {"status": "expired"})) == [mixed["expired"].pk]
    assert rows(manager.get(URL, {"status": "pending"})) == [mixed["pending"].pk]


def test_columns_show_user_organisation_scope_level_end_date_and_status(manager, mixed, bram, org):
    html = manager.get(URL).content.decode()
    active = mixed["active"]
    assert "Bram Visser" in html and bram.email in html
    assert org.name in html
    assert "Omzetbelasting" in html
    assert active.valid_until.strftime("%Y-%m-%d") in html
    assert 'data-status="active">Active</span>' in html
    assert 'data-status="pending">Pending</span>' in html


def test_scope_labels_for_provider_and_level_scopes(manager, bram, org, provider):
    AuthorizationFactory(
        user=bram, organization=org, scope=Authorization.Scope.PROVIDER, service=None, provider=provider, level="EH2"
    )
    AuthorizationFactory(user=bram, organization=org, scope=Authorization.Scope.LEVEL, service=None, level="EH3")
    html = manager.get(URL).content.decode()
    assert "All services of Belastingdienst" in html
    assert "All services at EH3" in html


def test_rows_are_sorted_by_end_date(manager, bram, org, service_eh2):
    late = AuthorizationFactory(
        user=bram, organization=org, service=service_eh2, valid_until=today() + relativedelta(years=3)
    )
    soon = AuthorizationFactory(user=bram, organization=org, service=service_eh2, expiring=True)
    middle = AuthorizationFactory(user=bram, organization=org, service=service_eh2)
    assert rows(manager.get(URL)) == [soon.pk, middle.pk, late.pk]


def test_rows_of_an_organisation_i_do_not_manage_are_never_listed(manager, mixed, daan, other_org, service_eh2):
    theirs = AuthorizationFactory(user=daan, organization=other_org, service=service_eh2)
    assert theirs.pk not in rows(manager.get(URL, {"show_inactive": "1"}))
    assert rows(manager.get(URL, {"q": "daan"})) == []


def test_filter_by_organisation(client, anna, bram, org, service_eh2):
    second = OrganizationFactory(name="Voorbeeld BV 2")
    make_manager(anna, second)
    MembershipFactory(user=bram, organization=second)
    here = AuthorizationFactory(user=bram, organization=org, service=service_eh2)
    there = AuthorizationFactory(user=bram, organization=second, service=service_eh2)
    login(client, anna)
    assert set(rows(client.get(URL))) == {here.pk, there.pk}
    assert rows(client.get(URL, {"organization": second.pk})) == [there.pk]


def test_filter_on_an_organisation_i_do_not_manage_shows_nothing_and_says_why(manager, mixed, other_org):
    response = manager.get(URL, {"organization": other_org.pk})
    assert rows(response) == []
    assert "Select a valid choice" in response.content.decode()


def test_filter_by_user(manager, anna, bram, org, service_eh2):
    eva = UserFactory(email="eva@voorbeeld-bv1.nl", first_name="Eva", last_name="Jansen")
    MembershipFactory(user=eva, organization=org)
    evas = AuthorizationFactory(user=eva, organization=org, service=service_eh2)
    AuthorizationFactory(user=bram, organization=org, service=service_eh2)
    assert rows(manager.get(URL, {"user": eva.pk})) == [evas.pk]


def test_filter_by_level(manager, bram, org, service_eh2):
    AuthorizationFactory(user=bram, organization=org, service=service_eh2, level="EH2")
    eh3 = AuthorizationFactory(user=bram, organization=org, service=service_eh2, level="EH3")
    assert rows(manager.get(URL, {"level": "EH3"})) == [eh3.pk]


@pytest.mark.parametrize("text", ["visser", "Bram Visser", "BRAM.VISSER@voorbeeld", "omzet", "belastingdienst"])
def test_search_matches_user_name_email_service_and_provider(manager, bram, org, service_eh2, service_eh3, text):
    eva = UserFactory(email="eva@voorbeeld-bv1.nl", first_name="Eva", last_name="Jansen")
    MembershipFactory(user=eva, organization=org)
    other_provider = ServiceProviderFactory(name="UWV")
    from tests.factories import ServiceFactory

    wg = ServiceFactory(provider=other_provider, name="Werkgeversportaal")
    match = AuthorizationFactory(user=bram, organization=org, service=service_eh2)
    AuthorizationFactory(user=eva, organization=org, service=wg)
    assert rows(manager.get(URL, {"q": text})) == [match.pk]


def test_search_words_must_all_match(manager, bram, org, service_eh2):
    AuthorizationFactory(user=bram, organization=org, service=service_eh2)
    assert rows(manager.get(URL, {"q": "Bram Jansen"})) == []


def test_expiring_filter_lists_running_rows_ending_within_two_months(manager, bram, org, service_eh2):
    soon = AuthorizationFactory(user=bram, organization=org, service=service_eh2, expiring=True)
    AuthorizationFactory(user=bram, organization=org, service=service_eh2)  # a year away
    AuthorizationFactory(user=bram, organization=org, service=service_eh2, expiring=True, revoked=True)
    AuthorizationFactory(user=bram, organization=org, service=service_eh2, expired=True)
    assert rows(manager.get(URL, {"expiring": "1", "show_inactive": "1"})) == [soon.pk]


def test_month_filter_lists_rows_ending_in_that_month(manager, bram, org, service_eh2):
    month = (today() + relativedelta(months=3)).replace(day=1)
    inside = AuthorizationFactory(
        user=bram, organization=org, service=service_eh2, valid_until=month + datetime.timedelta(days=9)
    )
    AuthorizationFactory(
        user=bram, organization=org, service=service_eh2, valid_until=month - datetime.timedelta(days=1)
    )
    AuthorizationFactory(user=bram, organization=org, service=service_eh2, valid_until=month + relativedelta(months=1))
    assert rows(manager.get(URL, {"month": month.strftime("%Y-%m")})) == [inside.pk]


def test_filter_form_keeps_its_values(manager, mixed, org):
    html = manager.get(
        URL, {"organization": org.pk, "level": "EH2", "status": "active", "q": "bram", "show_inactive": "1"}
    ).content.decode()
    assert re.search(rf'<option value="{org.pk}" selected>', html)
    assert '<option value="EH2" selected>' in html
    assert '<option value="active" selected>' in html
    assert 'value="bram"' in html
    assert re.search(r'name="show_inactive"[^>]*checked', html)


def test_fifty_rows_per_page_and_page_links_keep_the_filters(manager, bram, org, service_eh2):
    Authorization.objects.bulk_create(
        [
            Authorization(
                user=bram,
                organization=org,
                scope="service",
                service=service_eh2,
                level="EH2",
                valid_from=today() - relativedelta(months=1),
                valid_until=today() + datetime.timedelta(days=10 + i),
            )
            for i in range(60)
        ]
    )
    first = manager.get(URL, {"q": "bram", "level": "EH2"})
    second = manager.get(URL, {"q": "bram", "level": "EH2", "page": "2"})
    assert len(rows(first)) == 50
    assert len(rows(second)) == 10
    assert set(rows(first)).isdisjoint(rows(second))
    html = first.content.decode()
    assert 'href="?q=bram&amp;level=EH2&amp;page=2"' in html
    assert "60 permissions" in html


def _bulk(bram, org, service, count):
    levels = [AssuranceLevel.EH2, AssuranceLevel.EH2_PLUS, AssuranceLevel.EH3]
    Authorization.objects.bulk_create(
        [
            Authorization(
                user=bram,
                organization=org,
                scope="service",
                service=service,
                level=levels[i % 3],
                # every fifth row expired (shown with show_inactive), the others running
                valid_from=today() - relativedelta(years=3),
                valid_until=today() + datetime.timedelta(days=1 + i % 700) - relativedelta(years=0 if i % 5 else 2),
            )
            for i in range(count)
        ]
    )


def _queries(client, params) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(URL, params)
    assert response.status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize("params", [{}, {"show_inactive": "1", "q": "bram visser", "level": "EH2"}])
def test_queries_per_page_do_not_grow_with_the_rows(
    manager, bram, org, service_eh2, provider, django_assert_max_num_queries, params
):
    _bulk(bram, org, service_eh2, 10)
    AuthorizationFactory(user=bram, organization=org, scope="provider", service=None, provider=provider)
    AuthorizationFactory(user=bram, organization=org, service=service_eh2, revoked=True)
    with django_assert_max_num_queries(MAX_QUERIES):
        small = manager.get(URL, params)
    assert len(rows(small)) >= 3
    small_count = _queries(manager, params)

    _bulk(bram, org, service_eh2, 1000)
    with django_assert_max_num_queries(MAX_QUERIES):
        large = manager.get(URL, params)
    assert len(rows(large)) == 50
    assert _queries(manager, params) == small_count


def test_row_actions_per_status(manager, mixed):
    html = manager.get(URL, {"show_inactive": "1"}).content.decode()
    active, expired, revoked = mixed["active"], mixed["expired"], mixed["revoked"]
    assert reverse("permission_revoke", args=[active.pk]) in html
    assert reverse("permission_renew", args=[active.pk]) in html
    assert f'name="ids" value="{active.pk}" form="renew-selection"' in html
    assert reverse("permission_activate", args=[expired.pk]) in html
    assert reverse("permission_revoke", args=[expired.pk]) not in html
    assert f'name="ids" value="{expired.pk}"' not in html
    assert reverse("permission_activate", args=[revoked.pk]) not in html
    assert reverse("permission_renew", args=[revoked.pk]) not in html
    assert "cannot be reactivated; request a new one instead" in html


def test_renew_icon_offers_one_three_and_five_years_with_their_end_dates(manager, mixed):
    html = manager.get(URL).content.decode()
    until = mixed["active"].valid_until
    for years in (1, 3, 5):
        assert f'name="period" value="{years}"' in html
        assert (until + relativedelta(years=years)).strftime("%d-%m-%Y") in html


def test_bottom_of_the_page_has_the_renew_buttons(manager, mixed):
    html = manager.get(URL).content.decode()
    assert 'id="renew-selection" method="get" action="/en/manage/permissions/renew/"' in html
    assert "Renew permissions" in html
    assert "/en/manage/permissions/renew/?expiring=1" in html


def test_plain_user_gets_403(client, pim):
    login(client, pim)
    assert client.get(URL).status_code == 403


def test_manager_without_second_factor_in_the_session_is_sent_to_the_mfa_step(client, anna, mixed):
    login(client, anna, second_factor=False)
    response = client.get(URL)
    assert response.status_code == 302
    assert "/accounts/2fa/" in response["Location"]


def test_dutch_is_the_default_language(manager, mixed):
    response = manager.get("/manage/permissions/")
    assert response.status_code == 200
    assert '<html lang="nl">' in response.content.decode()


def test_a_manager_of_two_organisations_gets_users_of_both_in_the_user_filter(client, anna, bram, org):
    second = OrganizationFactory(name="Voorbeeld BV 2")
    make_manager(anna, second)
    carla = UserFactory(email="carla@voorbeeld-bv2.nl", first_name="Carla", last_name="Smit")
    MeansFactory(owner=carla, level="EH3")
    MembershipFactory(user=carla, organization=second)
    stranger = UserFactory(email="x@andere-bv.nl")
    login(client, anna)
    html = client.get(URL).content.decode()
    assert f'<option value="{carla.pk}">Carla Smit &lt;carla@voorbeeld-bv2.nl&gt;</option>' in html
    assert f'<option value="{bram.pk}">' in html
    assert f'<option value="{stranger.pk}">' not in html


def test_rows_expiring_within_two_months_are_marked(manager, bram, org, service_eh2):
    soon = AuthorizationFactory(user=bram, organization=org, service=service_eh2, expiring=True)
    later = AuthorizationFactory(user=bram, organization=org, service=service_eh2)
    html = manager.get(URL).content.decode()
    marked = re.findall(r'data-id="(\d+)"[^>]*>(?:(?!</tr>).)*data-testid="expiring-soon"', html, re.S)
    assert marked == [str(soon.pk)]
    assert str(later.pk) not in marked


# Many linked users: the user filter searches instead of listing everyone ---------------


def link_many(organization, count: int) -> None:
    """``count`` people linked to ``organization``, inserted in two queries."""
    people = User.objects.bulk_create(
        User(email=f"mens{i:04d}@voorbeeld-bv1.nl", first_name="Mens", last_name=f"Nummer {i:04d}", password="!")
        for i in range(count)
    )
    Membership.objects.bulk_create(Membership(user=person, organization=organization) for person in people)


@pytest.fixture
def crowded(org, bram, service_eh2):
    """More linked users than the dropdown holds, and Eva with one authorization."""
    link_many(org, USER_SELECT_LIMIT)
    eva = UserFactory(email="eva.groen@voorbeeld-bv1.nl", first_name="Eva", last_name="Groen")
    MembershipFactory(user=eva, organization=org)
    AuthorizationFactory(user=bram, organization=org, service=service_eh2)
    return {"eva": eva, "evas": AuthorizationFactory(user=eva, organization=org, service=service_eh2)}


def test_with_many_linked_users_the_user_filter_is_a_search_field_not_a_dropdown(
    manager, crowded, django_assert_max_num_queries
):
    with django_assert_max_num_queries(MAX_QUERIES):
        response = manager.get(URL)
    html = response.content.decode()
    assert 'name="user_q"' in html
    assert '<select name="user"' not in html
    assert html.count("<option") <= 20  # organisation, level and status only
    assert len(rows(response)) == 2


def test_few_linked_users_keep_the_dropdown(manager, bram, org):
    html = manager.get(URL).content.decode()
    assert '<select name="user"' in html
    assert 'name="user_q"' not in html


def test_user_search_field_finds_the_person_by_name_or_email(manager, crowded):
    assert rows(manager.get(URL, {"user_q": "eva groen"})) == [crowded["evas"].pk]
    assert rows(manager.get(URL, {"user_q": "eva.groen@"})) == [crowded["evas"].pk]
    assert rows(manager.get(URL, {"user_q": "nobody-by-this-name"})) == []


def test_user_id_from_a_link_still_filters_and_names_the_person(manager, crowded):
    eva = crowded["eva"]
    response = manager.get(URL, {"user": eva.pk})
    assert rows(response) == [crowded["evas"].pk]
    chosen = re.search(r'data-testid="chosen-user">(.*?)</p>', response.content.decode(), re.S).group(1)
    assert "Eva Groen" in chosen and eva.email in chosen
    assert f'<input type="hidden" name="user" value="{eva.pk}"' in response.content.decode()


@pytest.mark.parametrize("many", [False, True], ids=["dropdown", "search"])
def test_a_user_id_outside_my_organisations_is_refused_with_no_rows(
    manager, org, bram, daan, other_org, service_eh2, many
):
    if many:
        link_many(org, USER_SELECT_LIMIT + 1)
    AuthorizationFactory(user=bram, organization=org, service=service_eh2)
    AuthorizationFactory(user=daan, organization=other_org, service=service_eh2)
    for foreign in (daan.pk, "not-a-number"):
        response = manager.get(URL, {"user": foreign})
        assert rows(response) == []
        assert "Choose a user linked to one of your organisations." in response.content.decode()
