"""Issue 11 finding 8: one cache shared by every process.

Two real WSGI processes of the portal (each on a port the OS picks) share the
test database and, in turn, each kind of cache the settings offer: the database
cache of the embedded default and Redis (``CACHE_URL``, production). A TOTP code
is accepted once in all, and failed logins are counted across both processes.
With a per-process cache (Django's default when ``CACHES`` is not set) the same
code lets one session in per process and each process counts on its own.
"""

import http.client
import os
import re
import subprocess
import sys
import time
import uuid
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.cache import cache
from django.db import connection

from reconi.demo import DEMO_TOTP_SECRET, totp_now
from tests.conftest import require_or_skip
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "shared-cache-password-1"
LOCKED = "Too many failed login attempts"

SERVER = """
import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server
import django
django.setup()
from django.core.wsgi import get_wsgi_application
class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass
server = make_server("127.0.0.1", 0, get_wsgi_application(), handler_class=Quiet)
print(server.server_port, flush=True)
server.serve_forever()
"""


def _database_url() -> str:
    settings = connection.settings_dict
    auth = settings["USER"] or ""
    if settings["PASSWORD"]:
        auth += f":{settings['PASSWORD']}"
    return f"postgres://{auth}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"


def _redis_url() -> str | None:
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith("redis://"):
        return None
    import redis

    try:
        redis.Redis.from_url(broker, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return None
    return broker


@pytest.fixture(scope="module", params=["database", "redis"])
def _servers(request, django_db_setup):
    require_or_skip(connection.vendor == "postgresql", "PostgreSQL (shared by the two processes)")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "reconi.settings.dev",
        "DATABASE_URL": _database_url(),
        "DEBUG": "0",
        "EMAIL_URL": "locmem:",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("CACHE_URL", None)
    prefix = None
    if request.param == "redis":
        url = _redis_url()
        require_or_skip(url is not None, "Redis")
        prefix = f"test-{uuid.uuid4().hex}"  # nothing left from an earlier run
        env["CACHE_URL"], env["CACHE_KEY_PREFIX"] = url, prefix
    processes, ports = [], []
    try:
        for _ in range(2):
            process = subprocess.Popen(
                [sys.executable, "-c", SERVER], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
            )
            processes.append(process)
        for process in processes:
            line = process.stdout.readline()
            assert line.strip().isdigit(), "the portal process did not start"
            ports.append(int(line))
        yield ports, prefix
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


@pytest.fixture
def two_processes(_servers):
    """The ports of two portal processes sharing one cache, emptied for each test."""
    ports, prefix = _servers
    if prefix is None:
        cache.clear()  # the test database's cache table, which both processes use
    else:
        import redis

        client = redis.Redis.from_url(_redis_url())
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
    return ports


class Browser:
    """A minimal HTTP client with cookies, talking to one of the two processes."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, data: dict | None = None) -> tuple[int, str, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        # One public host name for both processes, as behind a load balancer (allauth keys
        # the failed-login count on the host and the login).
        headers = {"Host": "127.0.0.1", "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if data is not None:
            body = urlencode(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        text = response.read().decode()
        conn.close()
        return response.status, response.headers.get("Location", ""), text

    def post_form(self, path: str, data: dict) -> tuple[int, str, str]:
        _status, _location, page = self.request("GET", path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        return self.request("POST", path, {"csrfmiddlewaretoken": token, **data})


def _person(email: str):
    user = UserFactory(email=email)
    # The processes run the production hashers; a cheap PBKDF2 hash keeps the test quick.
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(PASSWORD, hasher.salt(), iterations=1000)
    user.save()
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def _wait_for_a_fresh_code_window(needed: float = 12) -> None:
    left = 30 - time.time() % 30
    if left < needed:
        time.sleep(left + 0.5)


@pytest.mark.django_db(transaction=True)
def test_one_totp_code_lets_one_session_in_across_two_processes(two_processes):
    user = _person("replay.twice@voorbeeld-bv1.nl")
    TOTP.activate(user, DEMO_TOTP_SECRET)
    sessions = [Browser(port) for port in two_processes for _ in range(2)]
    for browser in sessions:
        status, location, _page = browser.post_form("/en/accounts/login/", {"login": user.email, "password": PASSWORD})
        assert (status, location) == (302, "/en/accounts/2fa/authenticate/")
    _wait_for_a_fresh_code_window()
    code = totp_now(DEMO_TOTP_SECRET)
    outcomes = [browser.post_form("/en/accounts/2fa/authenticate/", {"code": code})[0] for browser in sessions]
    assert outcomes.count(302) == 1, outcomes  # in: a redirect; refused: the form again (200)
    assert outcomes.count(200) == 3, outcomes


@pytest.mark.django_db(transaction=True)
def test_failed_logins_are_counted_across_two_processes(two_processes):
    user = _person("guess.twice@voorbeeld-bv1.nl")
    first, second = Browser(two_processes[0]), Browser(two_processes[1])
    locked = []
    for attempt in range(7):
        browser = first if attempt % 2 == 0 else second
        status, _location, page = browser.post_form(
            "/en/accounts/login/", {"login": user.email, "password": f"wrong-{attempt}"}
        )
        assert status == 200
        locked.append(LOCKED in page)
    # 5 failures per account in 5 minutes (ACCOUNT_RATE_LIMITS): the 6th attempt is refused unchecked,
    # whichever process it reaches.
    assert locked == [False] * 5 + [True] * 2
    status, _location, page = first.post_form("/en/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert LOCKED in page


def test_cache_is_redis_with_short_timeouts_when_configured_and_the_database_otherwise(monkeypatch):
    from reconi.settings.env import cache_config

    monkeypatch.setenv("CACHE_URL", "redis://cache.internal:6379/1")
    redis_cache = cache_config()
    assert redis_cache["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert redis_cache["OPTIONS"] == {"socket_connect_timeout": 1, "socket_timeout": 1}
    monkeypatch.delenv("CACHE_URL")
    assert cache_config()["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    from django.conf import settings

    assert settings.CACHES["default"]["BACKEND"] != "django.core.cache.backends.locmem.LocMemCache"
