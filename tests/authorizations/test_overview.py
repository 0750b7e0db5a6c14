"""The Manage overview (issue 3, item 1): per managed organisation users, means per level,
authorizations per status and level, what expires within two months, and a chart of expiries
per month. Every number links into the filtered list, and following the link shows that many rows."""

import datetime
import html as html_lib
import re

import pytest
from dateutil.relativedelta import relativedelta
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from authorizations.models import Authorization
from tests.conftest import login, make_manager
from tests.factories import AuthorizationFactory, MeansFactory, MembershipFactory, OrganizationFactory, UserFactory

URL = "/en/manage/"
COUNT_LINK = re.compile(r'<a href="(/en/manage/permissions/\?[^"]*)" class="link-underline-opacity-25">(\d+)</a>')


def today():
    return timezone.localdate()


def section(html: str, organization) -> str:
    """The card of one organisation."""
    start = html.index(f'aria-labelledby="org-{organization.pk}"')
    end = html.find("<section", start)
    return html[start : end if end != -1 else len(html)]


@pytest.fixture
def manager(client, anna):
    return login(client, anna)


@pytest.fixture
def data(anna, bram, org, service_eh2, service_eh3):
    """A mix of statuses and levels in anna's organisation."""
    eva = UserFactory(email="eva@voorbeeld-bv1.nl", first_name="Eva", last_name="Jansen")
    MeansFactory(owner=eva, level="EH2")
    MembershipFactory(user=eva, organization=org)
    rows = [
        AuthorizationFactory(user=bram, organization=org, service=service_eh2, level="EH2"),
        AuthorizationFactory(user=bram, organization=org, service=service_eh3, level="EH3"),
        AuthorizationFactory(user=bram, organization=org, service=service_eh3, level="EH3", expiring=True),
        AuthorizationFactory(user=eva, organization=org, service=service_eh2, level="EH2", expiring=True),
        AuthorizationFactory(user=eva, organization=org, service=service_eh2, level="EH2", pending=True),
        AuthorizationFactory(user=eva, organization=org, service=service_eh2, level="EH2", expired=True),
        AuthorizationFactory(user=bram, organization=org, service=service_eh3, level="EH3", revoked=True),
        AuthorizationFactory(
            user=bram, organization=org, service=service_eh2, level="EH2", valid_until=today() + relativedelta(months=5)
        ),
    ]
    return {"eva": eva, "rows": rows}


def test_overview_shows_users_means_statuses_levels_and_expiring_numbers(manager, data, org):
    html = section(manager.get(URL).content.decode(), org)
    # users: anna (manager), bram, eva
    assert re.search(r'Users</div>\s*<div class="fs-3 fw-semibold">(<a [^>]*>)?3<', html)
    # active means: anna EH3, bram EH3, eva EH2
    means = dict(re.findall(r'<dt class="col-6 fw-normal">(EH[0-9+]+)</dt>\s*<dd[^>]*>(?:<a [^>]*>)?(\d+)', html))
    assert means == {"EH2": "1", "EH2+": "0", "EH3": "2", "EH4": "0"}
    assert re.search(r'data-testid="expiring-count">(<a [^>]*>)?2<', html)
    assert re.search(r'Permissions in total</div>\s*<div class="fs-3 fw-semibold">(<a [^>]*>)?8<', html)


def test_every_number_links_to_a_list_with_exactly_that_many_rows(manager, data, org):
    html = section(manager.get(URL).content.decode(), org)
    links = COUNT_LINK.findall(html)
    assert len(links) >= 4 * 5 + 5 + 2  # the status x level table with totals, the total and the expiring count
    for href, count in links:
        response = manager.get(html_lib.unescape(href))
        shown = re.findall(r'data-testid="permission-row"', response.content.decode())
        assert len(shown) == int(count), href


def test_status_level_table_counts(manager, data, org):
    html = section(manager.get(URL).content.decode(), org)
    cells = {
        (params.get("status"), params.get("level")): int(count)
        for href, count in COUNT_LINK.findall(html)
        for params in [dict(re.findall(r"(\w+)=([^&]+)", html_lib.unescape(href).replace("%2B", "+")))]
        if "month" not in params and "expiring" not in params
    }
    assert cells[("active", "EH2")] == 3
    assert cells[("active", "EH3")] == 2
    assert cells[("pending", "EH2")] == 1
    assert cells[("expired", "EH2")] == 1
    assert cells[("revoked", "EH3")] == 1
    assert cells[("active", None)] == 5
    assert cells[(None, "EH3")] == 3
    assert cells[(None, None)] == 8


def test_inactive_links_include_show_inactive(manager, data, org):
    html = html_lib.unescape(section(manager.get(URL).content.decode(), org))
    assert re.search(r"status=expired[^\"]*show_inactive=1", html)
    assert re.search(r"status=revoked[^\"]*show_inactive=1", html)


def test_chart_has_twelve_months_and_each_bar_counts_that_month(manager, data, org):
    html = section(manager.get(URL).content.decode(), org)
    months = re.findall(r'month=(\d{4}-\d{2})" tabindex="-1">\s*<title>', html)
    first = today().replace(day=1)
    assert months == [(first + relativedelta(months=i)).strftime("%Y-%m") for i in range(12)]
    table = dict(re.findall(r'<td><a href="/en/manage/permissions/\?[^"]*month=(\d{4}-\d{2})">(\d+)</a></td>', html))
    expected: dict[str, int] = {}
    for authorization in data["rows"]:
        stored = Authorization.objects.get(pk=authorization.pk)
        if stored.revoked_at is None and today() <= stored.valid_until < first + relativedelta(months=12):
            key = stored.valid_until.strftime("%Y-%m")
            expected[key] = expected.get(key, 0) + 1
    assert {k: int(v) for k, v in table.items() if int(v)} == expected
    for month, count in table.items():
        response = manager.get("/en/manage/permissions/", {"organization": org.pk, "month": month})
        assert len(re.findall(r'data-testid="permission-row"', response.content.decode())) == int(count)
    assert "<svg" in html and 'class="chart-bar"' in html


def test_each_managed_organisation_has_its_own_card_and_others_are_absent(client, anna, bram, org, other_org, daan):
    second = OrganizationFactory(name="Voorbeeld BV 2")
    make_manager(anna, second)
    login(client, anna)
    html = client.get(URL).content.decode()
    assert html.count('data-testid="overview-organization"') == 2
    assert "Voorbeeld BV 2" in html and "Voorbeeld BV 1" in html
    assert "Andere BV" not in html


def test_queries_do_not_grow_with_organisations_or_rows(client, anna, bram, org, service_eh2):
    login(client, anna)
    with CaptureQueriesContext(connection) as small:
        assert client.get(URL).status_code == 200
    for _ in range(3):
        extra = OrganizationFactory()
        make_manager(anna, extra)
        MembershipFactory(user=bram, organization=extra)
        Authorization.objects.bulk_create(
            [
                Authorization(
                    user=bram,
                    organization=extra,
                    scope="service",
                    service=service_eh2,
                    level="EH2",
                    valid_from=today() - relativedelta(years=2),
                    valid_until=today() + datetime.timedelta(days=i) - relativedelta(years=1 if i % 4 == 0 else 0),
                )
                for i in range(1, 300)
            ]
        )
    with CaptureQueriesContext(connection) as large:
        assert client.get(URL).status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries)
    assert len(large.captured_queries) <= 16


def test_plain_user_gets_403(client, pim):
    login(client, pim)
    assert client.get(URL).status_code == 403


def test_support_staff_get_403(client, support):
    login(client, support)
    assert client.get(URL).status_code == 403


def test_manager_without_second_factor_in_the_session_is_sent_to_the_mfa_step(client, anna):
    login(client, anna, second_factor=False)
    response = client.get(URL)
    assert response.status_code == 302
    assert "/accounts/2fa/" in response["Location"]


def test_expiring_card_offers_to_renew_these(manager, data, org):
    html = html_lib.unescape(section(manager.get(URL).content.decode(), org))
    assert f"/en/manage/permissions/renew/?expiring=1&organization={org.pk}" in html


def test_renew_expiring_of_one_organisation_lists_only_that_organisation(client, anna, bram, org, service_eh2):
    second = OrganizationFactory(name="Voorbeeld BV 2")
    make_manager(anna, second)
    MembershipFactory(user=bram, organization=second)
    here = AuthorizationFactory(user=bram, organization=org, service=service_eh2, expiring=True)
    there = AuthorizationFactory(user=bram, organization=second, service=service_eh2, expiring=True)
    login(client, anna)
    html = client.get("/en/manage/permissions/renew/", {"expiring": "1", "organization": second.pk}).content.decode()
    shown = [int(pk) for pk in re.findall(r'data-testid="renew-row" data-id="(\d+)"', html)]
    assert shown == [there.pk]
    assert here.pk not in shown
    every = client.get("/en/manage/permissions/renew/", {"expiring": "1"}).content.decode()
    assert sorted(int(pk) for pk in re.findall(r'data-testid="renew-row" data-id="(\d+)"', every)) == sorted(
        [here.pk, there.pk]
    )


def test_renew_expiring_of_an_organisation_i_do_not_manage_is_404(manager, other_org):
    assert (
        manager.get("/en/manage/permissions/renew/", {"expiring": "1", "organization": other_org.pk}).status_code == 404
    )


def test_overview_links_to_becoming_an_authorization_manager(client, anna):
    from django.urls import reverse

    from tests.conftest import login

    login(client, anna)
    html = client.get(reverse("manage_overview")).content.decode()
    assert f'href="{reverse("become_manager")}"' in html


def test_chart_geometry_is_plain_svg_numbers_in_dutch(manager, data, org):
    """Dutch formats 10.8 as "10,8"; SVG accepts only "10.8" (the chart was empty in Dutch)."""
    html = manager.get("/manage/").content.decode()

    svg = html[html.index("<svg") : html.index("</svg>")].replace('width="100%"', "")
    numbers = re.findall(r'\s(?:x|y|x1|x2|y1|y2|width|height)="([^"]*)"', svg)
    assert numbers
    assert all(re.fullmatch(r"-?\d+(\.\d+)?", number) for number in numbers), numbers
    assert 'viewBox="0 0 720 220"' in svg
