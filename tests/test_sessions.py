"""The session: an idle timeout renewed by activity, without a write on every page."""

import time

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from freezegun import freeze_time

from tests.conftest import login

pytestmark = pytest.mark.django_db


def _session_writes(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return sum(
        1
        for q in queries.captured_queries
        if q["sql"].startswith(("UPDATE", "INSERT")) and "django_session" in q["sql"]
    )


def test_pages_within_a_minute_do_not_write_the_session(client, bram):
    login(client, bram, second_factor=False)
    assert _session_writes(client, reverse("home")) == 0
    assert _session_writes(client, reverse("home")) == 0


def test_activity_renews_the_idle_timeout_and_idleness_ends_the_session(client, bram, settings):
    login(client, bram, second_factor=False)
    with freeze_time() as clock:
        expiry = Session.objects.get().expire_date
        clock.tick(settings.SESSION_RENEW_SECONDS + 1)
        assert _session_writes(client, reverse("home")) == 1
        assert Session.objects.get().expire_date > expiry  # pushed forward by the activity

        clock.tick(settings.SESSION_COOKIE_AGE + 1)  # idle for longer than the timeout
        response = client.get(reverse("home"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_absolute_lifetime_still_holds_for_a_busy_session(client, bram, settings):
    login(client, bram, second_factor=False)
    client.get(reverse("home"))
    session = client.session
    session["_session_started_at"] = int(time.time()) - settings.SESSION_ABSOLUTE_LIFETIME - 1
    session.save()
    response = client.get(reverse("home"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
