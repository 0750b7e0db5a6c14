"""The configuration contract: embedded defaults, production checks, health."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[1]


# The browser tests allow sync ORM calls beside Playwright's loop; a deployment never does.
_NOT_INHERITED = {"DATABASE_URL", "CELERY_BROKER_URL", "EMAIL_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}


def _clean_env(**env) -> dict:
    return {**{k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}, **env}


def _run(code: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=_clean_env(**env), capture_output=True, text=True, timeout=60
    )


def test_embedded_defaults_need_nothing_running(tmp_path):
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME'], "
        "s.CELERY_TASK_ALWAYS_EAGER, s.EMAIL_BACKEND, s.EMAIL_FILE_PATH]))"
    )
    result = _run(code, {"DJANGO_SETTINGS_MODULE": "reconi.settings.dev", "RECONI_VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    engine, name, eager, backend, mail_path = json.loads(result.stdout.strip().splitlines()[-1])
    assert engine == "django.db.backends.sqlite3"
    assert name == str(tmp_path / "reconi.sqlite3")
    assert eager is True
    assert backend == "reconi.mail.EmlFileBackend"
    assert mail_path == str(tmp_path / "mail")


def test_production_refuses_to_start_without_secret_key():
    result = _run(
        "import django; django.setup()",
        {"DJANGO_SETTINGS_MODULE": "reconi.settings.production", "SECRET_KEY": "", "ALLOWED_HOSTS": "x.example"},
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_to_start_with_the_development_mfa_key():
    result = _run(
        "import django; django.setup()",
        {
            "DJANGO_SETTINGS_MODULE": "reconi.settings.production",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "x.example",
        },
    )
    assert result.returncode != 0
    assert "MFA_ENCRYPTION_KEYS" in result.stderr


def test_production_check_deploy_is_clean():
    env = {
        "DJANGO_SETTINGS_MODULE": "reconi.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "reconi.example",
        "MFA_ENCRYPTION_KEYS": secrets.token_urlsafe(32),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_clean_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_healthz_reports_database_and_broker(client, settings):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["broker"] in {"ok", "in-process"}
    if settings.CELERY_BROKER_URL:
        assert body["broker"] == "ok"


@pytest.mark.django_db
def test_healthz_reports_an_unreachable_broker(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["broker"].startswith("error")


@pytest.mark.django_db
def test_session_has_an_absolute_lifetime(client, bram, settings):
    from tests.conftest import login

    login(client, bram, second_factor=False)
    assert client.get(reverse("home")).status_code == 200
    session = client.session
    session["_session_started_at"] -= settings.SESSION_ABSOLUTE_LIFETIME + 1
    session.save()
    response = client.get(reverse("home"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_demo_mail_lands_as_one_eml_file_per_message(tmp_path, settings):
    import email

    from django.core.mail import EmailMultiAlternatives, get_connection

    connection = get_connection("reconi.mail.EmlFileBackend", file_path=tmp_path)
    messages = []
    for n in range(3):
        message = EmailMultiAlternatives(f"Onderwerp {n}", "tekst", "noreply@reconi.example", [f"p{n}@example.nl"])
        message.attach_alternative("<p>tekst</p>", "text/html")
        message.attach("form.pdf", b"%PDF-1.7 test", "application/pdf")
        messages.append(message)
    assert connection.send_messages(messages) == 3
    files = sorted(tmp_path.glob("*.eml"))
    assert len(files) == 3
    parsed = email.message_from_bytes(files[0].read_bytes())
    assert parsed["Subject"].startswith("Onderwerp")
    assert [part.get_filename() for part in parsed.walk() if part.get_filename()] == ["form.pdf"]
