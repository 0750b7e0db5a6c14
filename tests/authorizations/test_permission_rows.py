"""The Permissions list's rows: each shape rendered once, every row byte-for-byte what Django renders."""

import pytest
from django.middleware.csrf import get_token
from django.test import RequestFactory
from django.utils import translation

from authorizations import selectors
from portal.views import permission_rows
from portal.views.manage_permissions import _new_end_dates
from portal.views.permission_rows import PermissionRows, render_rows
from reconi.levels import AssuranceLevel
from tests.conftest import login
from tests.factories import AuthorizationFactory, MembershipFactory, ServiceFactory, UserFactory

NAMES = ['Jan "de Boer"', "<b>Piet</b> & Zn", "O'Brien", "Anne-Marie", "Émile"]


@pytest.fixture
def crowd(anna, org):
    """Users with awkward names, each with a row of every status and a few expiring."""
    services = [ServiceFactory(name=f"Dienst <{n}> & co", minimum_level=AssuranceLevel.EH2) for n in range(3)]
    for index, name in enumerate(NAMES * 2):
        first, _, last = name.partition(" ")
        user = UserFactory(first_name=first, last_name=last or "X")
        MembershipFactory(user=user, organization=org)
        service = services[index % 3]
        AuthorizationFactory(user=user, organization=org, service=service)
        AuthorizationFactory(user=user, organization=org, service=service, expiring=True)
        AuthorizationFactory(user=user, organization=org, service=service, pending=True)
        AuthorizationFactory(user=user, organization=org, service=service, expired=True)
        AuthorizationFactory(user=user, organization=org, service=service, revoked=True)
    return org


@pytest.mark.parametrize("language", ["nl", "en"])
def test_rows_are_what_the_row_template_renders_and_shapes_are_few(client, anna, crowd, language):
    permission_rows._renderers.clear()
    login(client, anna)
    prefix = "" if language == "nl" else "/en"
    html = client.get(f"{prefix}/manage/permissions/", {"show_inactive": "1"}).content.decode()
    assert html.count('data-testid="permission-row"') == 50
    renderer = permission_rows._renderers[language]
    assert renderer.usable and renderer.fallbacks == 0
    assert renderer.shapes <= 12  # status x expiring soon x periods on offer, not one per row

    # Every row, rendered again both ways, in the language of the page.
    request = RequestFactory().get("/manage/permissions/")
    request.user = anna
    with translation.override(language):
        builder = PermissionRows(next_url="/manage/permissions/", expiring_until=None, renew_options=_new_end_dates)
        ids = list(
            selectors.ids_only(
                selectors.authorization_list(organization_ids=[crowd.pk], filters={"show_inactive": True})
            )
        )
        rows = [builder.row(a) for a in selectors.in_order(ids)]
        context = {
            "next": "/x/?a=1&b=<2>",
            "csrf_token": get_token(request),
            "new_url": "/new/",
            "activate_options": [],
        }
        fast = render_rows(rows, context=context)
        plain = [permission_rows._render_row({**context, "row": row})[0] for row in rows]
    assert fast == plain
    assert "&lt;b&gt;Piet&lt;/b&gt; &amp; Zn" in "".join(fast)
