"""Every named URL, for every persona. A URL name missing here fails the suite,
so a new view cannot ship without its row.

Expectations: an int is the status code; LOGIN is a redirect to the login page;
NOT_LOGIN is any 2xx/3xx that is not the login redirect (a form posted and
redirected, for example).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.conftest import login
from tests.factories import AuthorizationFactory

LOGIN = "login"
NOT_LOGIN = "ok"
PERSONAS = ["anonymous", "plain", "manager", "other_manager", "support"]


@dataclass
class Case:
    expect: dict
    method: str = "get"
    kwargs: Callable = lambda world: {}  # noqa: E731
    data: Callable = lambda world: {}  # noqa: E731
    query: str = ""
    query_of: Callable | None = None


def everyone(status):
    return {persona: status for persona in PERSONAS}


def signed_in(status, anonymous=LOGIN):
    return {"anonymous": anonymous, **{p: status for p in PERSONAS if p != "anonymous"}}


MANAGER_ONLY = {"anonymous": LOGIN, "plain": 403, "manager": 200, "other_manager": 200, "support": 403}


def own_object(manager_status):
    """An object of the manager's organisation: outsiders get 404, non-managers 403."""
    return {"anonymous": LOGIN, "plain": 403, "manager": manager_status, "other_manager": 404, "support": 403}


MATRIX: dict[str, Case] = {
    "healthz": Case(expect=everyone(200)),
    # Prometheus scrape target: only from METRICS_ALLOWED_IPS or with the token, never for a login
    # (tests/test_metrics.py covers the address and the token).
    "metrics": Case(expect=everyone(403)),
    "set_language": Case(method="post", data=lambda w: {"language": "en", "next": "/"}, expect=everyone(302)),
    "home": Case(expect=signed_in(200)),
    "profile": Case(expect=signed_in(200)),
    "manage_overview": Case(expect=MANAGER_ONLY),
    "permission_new": Case(expect=MANAGER_ONLY),
    "permission_list": Case(expect=MANAGER_ONLY),
    "permission_revoke": Case(method="post", kwargs=lambda w: {"pk": w.authorization.pk}, expect=own_object(NOT_LOGIN)),
    "permission_renew": Case(
        method="post",
        kwargs=lambda w: {"pk": w.authorization.pk},
        data=lambda w: {"period": "1"},
        expect=own_object(NOT_LOGIN),
    ),
    "permission_renew_many": Case(
        method="post", data=lambda w: {"ids": [w.authorization.pk], "period": "1"}, expect=own_object(NOT_LOGIN)
    ),
    "permission_activate": Case(
        method="post",
        kwargs=lambda w: {"pk": w.expired.pk},
        data=lambda w: {"period": "1"},
        expect=own_object(NOT_LOGIN),
    ),
    "become_manager": Case(expect=signed_in(200)),
    # Public signing pages: a tampered token gives the clear error page (404) to everyone.
    "sign": Case(kwargs=lambda w: {"token": "tampered.token"}, expect=everyone(404)),
    "sign_pdf": Case(kwargs=lambda w: {"token": "tampered.token"}, expect=everyone(404)),
    "verify": Case(expect=everyone(200)),
    # Users and Requests (issue 4).
    "users_list": Case(expect=MANAGER_ONLY),
    "users_add": Case(expect=MANAGER_ONLY),
    "users_add_preview": Case(expect={**MANAGER_ONLY, "manager": NOT_LOGIN, "other_manager": NOT_LOGIN}),
    # Means lifecycle (issue 12): the holder's own renewal page; managers renew means from Users.
    "means_renew": Case(
        kwargs=lambda w: {"pk": w.pim_means.pk},
        expect={"anonymous": LOGIN, "plain": 200, "manager": 404, "other_manager": 404, "support": 404},
    ),
    "branch_list": Case(expect=MANAGER_ONLY),
    "users_means_renew": Case(query_of=lambda w: f"?ids={w.bram.pk}", expect=own_object(200)),
    "users_upgrade": Case(kwargs=lambda w: {"pk": w.bram.pk}, expect=own_object(200)),
    "request_list": Case(expect=MANAGER_ONLY),
    "request_new": Case(expect=MANAGER_ONLY),
    "request_detail": Case(kwargs=lambda w: {"pk": w.means_request.pk}, expect=own_object(200)),
    # A link request is answered only by the user it is addressed to (the plain persona here).
    "link_accept": Case(
        method="post",
        kwargs=lambda w: {"pk": w.link_request.pk},
        expect={"anonymous": LOGIN, "plain": NOT_LOGIN, "manager": 404, "other_manager": 404, "support": 404},
    ),
    "link_decline": Case(
        method="post",
        kwargs=lambda w: {"pk": w.link_request.pk},
        expect={"anonymous": LOGIN, "plain": NOT_LOGIN, "manager": 404, "other_manager": 404, "support": 404},
    ),
}

# URL names served by django.contrib.admin and allauth: their own permission
# model (staff login, allauth's login flow) applies; the admin gets its own tests.
EXTERNAL_PREFIXES = ("admin:",)
EXTERNAL_MODULES = ("allauth.",)


def _walk(resolver, namespace=""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern, ns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            module = getattr(pattern.callback, "__module__", "") or ""
            yield f"{namespace}{pattern.name}", module


def project_url_names() -> set[str]:
    names = set()
    for name, module in _walk(get_resolver()):
        if name.startswith(EXTERNAL_PREFIXES) or module.startswith(EXTERNAL_MODULES):
            continue
        names.add(name)
    return names


def test_every_url_name_is_in_the_matrix():
    unknown = project_url_names() - set(MATRIX)
    assert not unknown, f"URL names without a row in the permission matrix: {sorted(unknown)}"


def test_matrix_has_no_stale_rows():
    stale = set(MATRIX) - project_url_names()
    assert not stale, f"Rows for URL names that no longer exist: {sorted(stale)}"


@dataclass
class World:
    personas: dict = field(default_factory=dict)
    objects: dict = field(default_factory=dict)

    def __getattr__(self, name):
        try:
            return self.objects[name]
        except KeyError:
            raise AttributeError(name) from None


@pytest.fixture
def world(anna, bram, daan, pim, support, org, other_org, service_eh2):
    authorization = AuthorizationFactory(user=bram, organization=org, service=service_eh2)
    expired = AuthorizationFactory(user=bram, organization=org, service=service_eh2, expired=True)
    return World(
        personas={"plain": pim, "manager": anna, "other_manager": daan, "support": support},
        objects={
            "org": org,
            "other_org": other_org,
            "bram": bram,
            "anna": anna,
            "authorization": authorization,
            "expired": expired,
            "pim_means": pim.means.get(),
            **_request_objects(anna, pim, org, other_org),
        },
    )


def _request_objects(anna, pim, org, other_org) -> dict:
    """A draft new-means request of org, and a link request to other_org waiting for pim's answer."""
    from requests_app.models import Request
    from requests_app.services import means_request_create, request_create
    from tests.factories import minimal_payload

    person = {"first_name": "Jan", "last_name": "de Vries", "date_of_birth": "1980-04-12", "level": "EH3"}
    means_request = means_request_create(
        actor=anna, organization=org, people=[{**person, "email": "jan.devries@voorbeeld-bv1.nl", "years": 3}]
    )
    link = request_create(
        actor=None,
        kind=Request.Kind.LINK_USER,
        organization=other_org,
        subject_user=pim,
        payload=minimal_payload(Request.Kind.LINK_USER, from_organization_id=org.pk),
    )
    Request.objects.filter(pk=link.pk).update(status=Request.Status.AWAITING_SIGNATURE)
    return {"means_request": means_request, "link_request": link}


def _outcome(response) -> int | str:
    if response.status_code in (301, 302) and "/accounts/login/" in response.get("Location", ""):
        return LOGIN
    return response.status_code


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("url_name", sorted(MATRIX))
def test_permission_matrix(client, world, url_name, persona):
    case = MATRIX[url_name]
    if persona != "anonymous":
        login(client, world.personas[persona])
    url = reverse(url_name, kwargs=case.kwargs(world)) + (case.query_of(world) if case.query_of else case.query)
    response = getattr(client, case.method)(url, data=case.data(world))
    expected = case.expect[persona]
    outcome = _outcome(response)
    if expected == NOT_LOGIN:
        assert outcome != LOGIN and response.status_code < 400, (url_name, persona, response.status_code)
    else:
        assert outcome == expected, (url_name, persona, response.status_code)
