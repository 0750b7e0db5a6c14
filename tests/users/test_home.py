"""My Reconi home: the user's own means and authorizations, never anyone else's."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from authorizations.models import Authorization
from reconi.levels import AssuranceLevel
from tests.conftest import login
from tests.factories import AuthorizationFactory, MeansFactory, ServiceFactory, ServiceProviderFactory, UserFactory


def rows(response, testid):
    """The table body of one of the home page's tables, as text."""
    html = response.content.decode()
    start = html.index(f'data-testid="{testid}"')
    return html[start : html.index("</table>", start)]


def test_home_shows_own_means_with_level_type_and_status(client, bram):
    login(client, bram)

    response = client.get("/en/")

    assert response.status_code == 200
    means = rows(response, "means-table")
    assert "EH3" in means
    assert "Password and authenticator app" in means
    assert 'data-status="active"' in means


def test_home_marks_an_active_means_past_its_end_date_as_expired(client, db):
    user = UserFactory()
    MeansFactory(owner=user, expired=True)
    login(client, user)

    response = client.get("/en/")

    assert 'data-status="expired"' in rows(response, "means-table")


def test_home_shows_own_authorizations_with_organisation_scope_level_and_status(client, bram, org, service_eh2):
    AuthorizationFactory(user=bram, organization=org, service=service_eh2, level=AssuranceLevel.EH2)
    AuthorizationFactory(
        user=bram,
        organization=org,
        scope=Authorization.Scope.LEVEL,
        service=None,
        level=AssuranceLevel.EH3,
        expired=True,
    )
    login(client, bram)

    response = client.get("/en/")

    table = rows(response, "authorizations-table")
    assert "Voorbeeld BV 1" in table
    assert "Omzetbelasting" in table
    assert "All services at EH3" in table
    assert 'data-status="active"' in table
    assert 'data-status="expired"' in table


@pytest.mark.parametrize("trait", ["revoked", "pending"])
def test_home_shows_the_derived_status_of_each_authorization(client, bram, org, trait):
    AuthorizationFactory(user=bram, organization=org, **{trait: True})
    login(client, bram)

    response = client.get("/en/")

    assert f'data-status="{trait}"' in rows(response, "authorizations-table")


def test_home_never_shows_another_users_means_or_authorizations(client, bram, pim, org, other_org):
    secret_service = ServiceFactory(name="Geheime Dienst van Bram")
    AuthorizationFactory(user=bram, organization=other_org, service=secret_service)
    login(client, pim)

    response = client.get("/en/")

    html = response.content.decode()
    assert "Geheime Dienst van Bram" not in html
    assert "Andere BV" not in html
    assert 'data-testid="authorizations-empty"' in html
    means = rows(response, "means-table")
    assert "EH2" in means and "EH3" not in means  # pim's own EH2, not bram's EH3


def test_home_without_means_or_authorizations_shows_empty_states(client, db):
    login(client, UserFactory())

    response = client.get("/en/")

    html = response.content.decode()
    assert 'data-testid="means-empty"' in html
    assert 'data-testid="authorizations-empty"' in html
    assert "You do not have an eHerkenning means yet" in html


def test_manager_sees_the_manage_menu_and_link(client, anna):
    login(client, anna)

    response = client.get("/en/")

    html = response.content.decode()
    assert 'data-testid="manage-menu"' in html
    assert 'data-testid="manage-link"' in html
    assert 'href="/en/manage/"' in html


def test_plain_user_sees_no_manage_menu(client, pim):
    login(client, pim)

    response = client.get("/en/")

    html = response.content.decode()
    assert 'data-testid="manage-menu"' not in html
    assert 'data-testid="manage-link"' not in html
    assert "/manage/" not in html


def test_header_shows_the_user_a_logout_form_and_the_language_switch(client, bram):
    login(client, bram)

    response = client.get("/")

    html = response.content.decode()
    assert '<html lang="nl">' in html
    assert "Bram Visser" in html
    assert 'action="/accounts/logout/"' in html
    assert 'action="/i18n/setlang/"' in html
    assert 'name="language" value="en"' in html
    assert html.count('name="csrfmiddlewaretoken"') >= 2


def test_anonymous_visitor_is_sent_to_login(client, db):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_home_query_count_does_not_grow_with_authorizations(client, bram, org):
    login(client, bram)

    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/").status_code == 200
        return len(queries)

    AuthorizationFactory.create_batch(2, user=bram, organization=org)
    few = count_queries()
    AuthorizationFactory.create_batch(20, user=bram, organization=org)
    AuthorizationFactory.create_batch(
        5,
        user=bram,
        organization=org,
        scope=Authorization.Scope.PROVIDER,
        service=None,
        provider=ServiceProviderFactory(),
    )
    many = count_queries()

    assert many == few
