"""Ten simultaneous clicks over HTTP, against the live server on PostgreSQL: one change.

Each click is its own browser: its own session (logged in as after a real login
with the second factor), its own CSRF cookie, its own connection. The ten POSTs
are released together; the server handles them in parallel threads, each with its
own database connection. Each action must give exactly one change, one audit
event and the emails of one click.
"""

import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from audit.selectors import audit_chain_broken_at
from authorizations.models import Authorization
from notifications.models import OutboxEmail
from organizations.models import Membership
from requests_app.models import Request
from requests_app.services import link_request_create
from tests.conftest import login, make_manager
from tests.factories import AuthorizationFactory, OrganizationFactory
from tests.requests_app.test_manage_views import PERSON

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgresql_only")]

CLICKS = 10


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 302 itself is the answer


def _browser(user, *, second_factor=True) -> str:
    """A fresh logged-in session of ``user``; returns its session key."""
    client = login(Client(), user, second_factor=second_factor)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _post_together(live_server, path: str, sessions: list[str], data) -> list[int]:
    """POST ``data`` (a dict, or a callable of the click's index) from every session at once."""
    opener = urllib.request.build_opener(_NoRedirect)
    barrier = threading.Barrier(len(sessions))
    statuses: list = [None] * len(sessions)

    def click(i: int) -> None:
        csrf = secrets.token_hex(16)
        body = data(i) if callable(data) else data
        request = urllib.request.Request(
            live_server.url + path,
            data=urllib.parse.urlencode({**body, "csrfmiddlewaretoken": csrf}, doseq=True).encode(),
            headers={
                "Cookie": f"{settings.SESSION_COOKIE_NAME}={sessions[i]}; {settings.CSRF_COOKIE_NAME}={csrf}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
            method="POST",
        )
        barrier.wait(timeout=30)
        try:
            with opener.open(request, timeout=60) as response:
                statuses[i] = response.status
        except urllib.error.HTTPError as error:
            statuses[i] = error.code
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            statuses[i] = repr(error)

    threads = [threading.Thread(target=click, args=(i,)) for i in range(len(sessions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not any(thread.is_alive() for thread in threads), "a click hung"
    assert all(status in (200, 302) for status in statuses), statuses
    return statuses


def _events(action: str, **filters) -> int:
    return AuditEvent.objects.filter(action=action, **filters).count()


def _emails(kind: str) -> int:
    return OutboxEmail.objects.filter(kind=kind).count()


@pytest.fixture
def sessions_of_anna(anna):
    return [_browser(anna) for _ in range(CLICKS)]


def test_ten_parallel_renew_posts_renew_once(live_server, sessions_of_anna, bram, org, service_eh2):
    authorization = AuthorizationFactory(user=bram, organization=org, service=service_eh2, expiring=True)
    seen = authorization.valid_until
    path = reverse("permission_renew", args=[authorization.pk])
    _post_together(live_server, path, sessions_of_anna, {"period": "1", "seen_until": seen.isoformat()})
    assert Authorization.objects.get(pk=authorization.pk).valid_until == seen + relativedelta(years=1)
    assert _events("authorization.renew") == 1
    assert _emails("authorization_changed") == 1
    assert audit_chain_broken_at() is None


def test_ten_parallel_revoke_posts_revoke_once(live_server, sessions_of_anna, bram, org, service_eh2):
    authorization = AuthorizationFactory(user=bram, organization=org, service=service_eh2)
    _post_together(live_server, reverse("permission_revoke", args=[authorization.pk]), sessions_of_anna, {})
    assert Authorization.objects.get(pk=authorization.pk).revoked_at is not None
    assert _events("authorization.revoke") == 1
    assert _emails("authorization_revoked") == 1
    assert audit_chain_broken_at() is None


def test_ten_parallel_activate_posts_start_one_new_period(live_server, sessions_of_anna, bram, org, service_eh2):
    authorization = AuthorizationFactory(user=bram, organization=org, service=service_eh2, expired=True)
    path = reverse("permission_activate", args=[authorization.pk])
    data = {"period": "1", "seen_until": authorization.valid_until.isoformat()}
    _post_together(live_server, path, sessions_of_anna, data)
    stored = Authorization.objects.get(pk=authorization.pk)
    assert (stored.valid_from, stored.valid_until) == (
        timezone.localdate(),
        timezone.localdate() + relativedelta(years=1),
    )
    assert _events("authorization.reactivate") == 1
    assert _emails("authorization_changed") == 1
    assert audit_chain_broken_at() is None


def test_ten_parallel_grant_confirmations_grant_once(live_server, anna, bram, org, service_eh2):
    """Ten tabs with the same list in "Request new permissions" confirm at once."""
    from django.contrib.sessions.backends.db import SessionStore

    line = {
        "id": "line1",
        "organization": org.pk,
        "user": bram.pk,
        "level": "EH2",
        "scope": Authorization.Scope.SERVICE,
        "service": service_eh2.pk,
        "provider": None,
    }
    sessions = []
    for _ in range(CLICKS):
        key = _browser(anna)
        store = SessionStore(session_key=key)
        store["permission_wizards"] = {"wizard01": {"lines": [line], "touched": time.time()}}
        store.save()
        sessions.append(key)
    data = {"action": "confirm", "w": "wizard01", "period": "1"}
    _post_together(live_server, reverse("permission_new"), sessions, data)
    assert Authorization.objects.filter(user=bram, organization=org, service=service_eh2).count() == 1
    assert _events("authorization.grant") == 1
    assert _emails("authorization_changed") == 1
    assert audit_chain_broken_at() is None


def test_ten_parallel_add_user_posts_with_one_email_make_one_request(live_server, sessions_of_anna, org):
    form = {"person-organization": org.pk, **{f"person-{field}": value for field, value in PERSON.items()}}
    _post_together(live_server, reverse("users_add"), sessions_of_anna, form)
    drafts = Request.objects.filter(kind=Request.Kind.NEW_MEANS)
    assert drafts.count() == 1
    assert drafts.get().payload["people"][0]["email"] == "jan.devries@voorbeeld-bv1.nl"
    assert _events("request.means") == 1
    assert audit_chain_broken_at() is None


def test_ten_parallel_link_accept_posts_link_once(live_server, anna, bram, org):
    second = OrganizationFactory(name="Voorbeeld BV 2", email_domain="voorbeeld-bv2.nl")
    make_manager(anna, second)
    link = link_request_create(actor=anna, user=bram, organization=second)
    sessions = [_browser(bram) for _ in range(CLICKS)]
    _post_together(live_server, reverse("link_accept", args=[link.pk]), sessions, {})
    assert Membership.objects.filter(user=bram, organization=second).count() == 1
    assert Request.objects.get(pk=link.pk).status == Request.Status.FULFILLED
    assert _events("request.link_accept") == 1
    assert _events("membership.link", organization=second) == 1
    assert _emails("link_request_answered") == 1
    assert audit_chain_broken_at() is None
