"""Every app's migrations roll back to zero and forward again, whichever app goes first.

Runs on a throwaway PostgreSQL database of its own (the test database stays as it is),
in one subprocess: migrate everything, then roll each app back to zero in dependency
order and migrate forward, then the same in the reverse order. Rolling back an app also
unapplies the migrations of other apps that depend on it, so between them the two
orders unapply every migration in more than one order.
"""

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
APPS = ["audit", "users", "organizations", "authorizations", "requests_app", "notifications"]

SCRIPT = """
import django
django.setup()
from django.core.management import call_command
from django.db.migrations.recorder import MigrationRecorder
from django.db import connection

apps = {apps!r}
call_command("migrate", verbosity=0)
for order in (apps, apps[::-1]):
    for app in order:
        call_command("migrate", app, "zero", verbosity=0)
        left = MigrationRecorder(connection).applied_migrations()
        assert not [key for key in left if key[0] == app], (app, "still has migrations applied")
    call_command("migrate", verbosity=0)
print("ROLLED BACK AND FORWARD")
"""


@pytest.fixture
def throwaway_database(db):
    if connection.vendor != "postgresql":
        pytest.skip("the rollback test runs on PostgreSQL")
    settings = connection.settings_dict
    name = f"{settings['NAME']}_rollback"
    params = {
        "host": settings["HOST"] or "127.0.0.1",
        "port": settings["PORT"] or 5432,
        "user": settings["USER"],
        "password": settings["PASSWORD"] or None,
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://{params['user']}:{settings['PASSWORD'] or ''}@{params['host']}:{params['port']}/{name}"
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_every_app_migrates_back_to_zero_in_either_order(throwaway_database):
    env = {**os.environ, "DATABASE_URL": throwaway_database, "DJANGO_SETTINGS_MODULE": "reconi.settings.test"}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(apps=APPS)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ROLLED BACK AND FORWARD" in result.stdout
