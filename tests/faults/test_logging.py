"""Production logging, under gunicorn with the production settings (DEBUG off).

An unhandled exception is one JSON line on stderr with its traceback and the request
id, and the response carries the same id in X-Request-ID.
"""

import json
import os
import signal
import subprocess
import urllib.error
import urllib.request

import pytest
from django.db import connection

from tests.notifications.conftest import free_port, wait_for

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]

SETTINGS = """\
from reconi.settings.production import *  # noqa: F403

ROOT_URLCONF = "crash_urls"
"""

URLS = """\
from django.contrib.auth.decorators import login_not_required
from django.urls import path

from reconi.urls import handler403, handler404, handler500, urlpatterns as portal  # noqa: F401


@login_not_required
def crash(request):
    return {}["no such key"]


urlpatterns = [path("crash/", crash), *portal]
"""


def get(port: int, path: str, headers: dict | None = None):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers


@pytest.fixture
def gunicorn(tmp_path, db):
    (tmp_path / "crash_settings.py").write_text(SETTINGS)
    (tmp_path / "crash_urls.py").write_text(URLS)
    settings_dict = connection.settings_dict
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crash_settings",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
        "DATABASE_URL": "postgres://{USER}:{PASSWORD}@{HOST}:{PORT}/{NAME}".format(
            **{**settings_dict, "HOST": settings_dict["HOST"] or "127.0.0.1", "PORT": settings_dict["PORT"] or 5432}
        ),
        "SECRET_KEY": "a-production-like-secret-for-the-logging-test-0123456789",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "MFA_ENCRYPTION_KEYS": "logging-test-mfa-key-0123456789abcdef0123456789",
    }
    stderr = tmp_path / "stderr.log"
    with stderr.open("wb") as out:
        process = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "gunicorn"), "reconi.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", "1", "--timeout", "30"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=out, start_new_session=True,
        )  # fmt: skip

    def up():
        assert process.poll() is None, stderr.read_text()
        try:
            get(port, "/i18n/setlang/")
        except OSError:
            return False
        return True

    try:
        wait_for(up, timeout=60, message="gunicorn to answer")
        yield port, stderr
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)


def test_an_unhandled_exception_is_one_json_line_with_traceback_and_request_id(gunicorn):
    port, stderr = gunicorn
    status, headers = get(port, "/crash/")
    request_id = headers["X-Request-ID"]
    assert status == 500 and len(request_id) >= 16
    # A proxy's id is kept, so its access log and ours meet.
    status, headers = get(port, "/crash/", {"X-Request-ID": "proxy-4f1c2e9a"})
    assert status == 500 and headers["X-Request-ID"] == "proxy-4f1c2e9a"

    def logged():
        events = [json.loads(line) for line in stderr.read_text().splitlines() if line.startswith("{")]
        return [e for e in events if e.get("request_id") in (request_id, "proxy-4f1c2e9a")] if events else None

    events = wait_for(lambda: len(logged() or []) >= 2 and logged(), timeout=10, message="the error events")
    first = next(e for e in events if e["request_id"] == request_id)
    assert first["level"] == "ERROR" and first["logger"] == "django.request" and first["path"] == "/crash/"
    assert "Traceback" in first["exception"] and "KeyError: 'no such key'" in first["exception"]
    # The traceback is inside the event, not spread over lines of its own.
    assert not any(line.startswith(("Traceback", "  File")) for line in stderr.read_text().splitlines())


def test_every_response_carries_a_request_id(client):
    first, second = client.get("/healthz"), client.get("/healthz")
    assert first["X-Request-ID"] and first["X-Request-ID"] != second["X-Request-ID"]
    assert client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")["X-Request-ID"] != "bad id\nwith newline"
