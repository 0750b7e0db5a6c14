"""Issue 11, finding 10 (deliverable 8): the audit trail holds outside the application's reach.

The app's role owns no table and can only INSERT and SELECT audit rows; TRUNCATE is refused
(privilege and trigger); the chain head is signed and anchored outside the database;
``audit_verify`` names the first bad row for a changed, deleted, inserted or cut-off log;
``audit_export`` gives a third party what it needs to check the hashes and links.
"""

import csv
import io
import json
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection, transaction

from audit.chain import audit_anchor_create, audit_verify, export_check
from audit.models import AuditEvent
from audit.services import audit_record
from reconi.celery import app as celery_app
from tests.conftest import require_or_skip
from tests.factories import OrganizationFactory

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def postgresql(db):
    require_or_skip(connection.vendor == "postgresql", "PostgreSQL")


@pytest.fixture(autouse=True)
def anchors(settings, tmp_path):
    settings.AUDIT_ANCHOR_DIR = str(tmp_path / "anchors")
    return tmp_path / "anchors"


def record(n: int, organization=None) -> list[AuditEvent]:
    events = []
    for i in range(n):
        with transaction.atomic():
            events.append(audit_record(actor=None, action=f"test.event{i}", organization=organization, data={"i": i}))
    return events


def tamper_unsafe(sql: str, params=()) -> None:
    """Behind the application's back, triggers off, as someone with the owner's access would."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)


def verify_command(*args) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit_verify", *args, stdout=out, stderr=err)
    except SystemExit as exit:
        return exit.code, out.getvalue() + err.getvalue()
    return 0, out.getvalue() + err.getvalue()


# The database roles ------------------------------------------------------------------------------------


def _owner_dsn(**overrides) -> str:
    settings_dict = connection.settings_dict
    params = {
        "host": settings_dict.get("HOST") or "127.0.0.1",
        "port": settings_dict.get("PORT") or 5432,
        "user": settings_dict.get("USER") or "postgres",
        "dbname": settings_dict["NAME"],
        **overrides,
    }
    return " ".join(f"{key}={value}" for key, value in params.items() if value)


def _owner_url() -> str:
    settings_dict = connection.settings_dict
    user = settings_dict.get("USER") or "postgres"
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    host = f"{settings_dict.get('HOST') or '127.0.0.1'}:{settings_dict.get('PORT') or 5432}"
    return f"postgres://{user}{password}@{host}/{settings_dict['NAME']}"


def check_role(role: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("db_check_app_role", role=role, stdout=out, stderr=err)
    except SystemExit as exit:
        return exit.code, err.getvalue()
    return 0, out.getvalue()


@pytest.fixture
def app_role(transactional_db):
    """A role made as the README says: created once, granted by deploy/postgres/app-role.sql as the owner."""
    require_or_skip(connection.vendor == "postgresql", "PostgreSQL")
    role = f"reconi_h5_app_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_owner_dsn(), autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
    try:
        subprocess.run(
            ["psql", _owner_url(), "-q", "-v", "ON_ERROR_STOP=1", "-v", f"app_role={role}"]
            + ["-f", str(ROOT / "deploy" / "postgres" / "app-role.sql")],
            check=True,
            capture_output=True,
            timeout=60,
        )
        yield role
    finally:
        with psycopg.connect(_owner_dsn(), autocommit=True) as admin:
            admin.execute(f'DROP OWNED BY "{role}"')
            admin.execute(f'DROP ROLE "{role}"')


def test_the_app_role_owns_no_table_and_only_inserts_and_reads_audit_rows(app_role):
    with transaction.atomic():
        audit_record(actor=None, action="test.before")
    with psycopg.connect(_owner_dsn(user=app_role)) as app:
        assert app.execute("SELECT current_user").fetchone()[0] == app_role
        owned = app.execute("SELECT count(*) FROM pg_tables WHERE tableowner = current_user").fetchone()[0]
        assert owned == 0
        assert app.execute("SELECT count(*) FROM audit_auditevent").fetchone()[0] == 1
        app.execute(
            "INSERT INTO audit_auditevent (created_at, actor_email, action, object_type, object_id, data, "
            "prev_hash, hash) VALUES (now(), '', 'test.by_app', '', '', '{}', %s, %s)",
            ["a" * 64, "b" * 64],
        )
        app.execute("SELECT 1 FROM users_user LIMIT 1")  # the rest of the portal works as usual
        app.rollback()
        for statement in [
            "UPDATE audit_auditevent SET action = 'changed'",
            "DELETE FROM audit_auditevent",
            "TRUNCATE audit_auditevent",
            "ALTER TABLE audit_auditevent DISABLE TRIGGER ALL",
            "DROP TRIGGER audit_auditevent_append_only ON audit_auditevent",
        ]:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                app.execute(statement)
            app.rollback()
    assert AuditEvent.objects.filter(action="test.before").exists()


def test_the_check_command_passes_the_app_role_and_names_what_is_wrong_with_others(app_role):
    assert check_role(app_role)[0] == 0
    code, output = check_role(connection.settings_dict.get("USER") or "postgres")
    assert code == 1 and "superuser" in output and "owns tables" in output
    with psycopg.connect(_owner_dsn(), autocommit=True) as owner:
        owner.execute(f'GRANT UPDATE, TRUNCATE ON audit_auditevent TO "{app_role}"')
    code, output = check_role(app_role)
    assert code == 1 and "holds UPDATE on audit_auditevent" in output and "holds TRUNCATE" in output


@pytest.mark.django_db(transaction=True)
def test_truncate_is_refused_even_for_the_owner():
    require_or_skip(connection.vendor == "postgresql", "PostgreSQL")
    with transaction.atomic():
        audit_record(actor=None, action="test.kept")
    # A connection as the owner, without the test runner's permission to empty tables.
    with psycopg.connect(_owner_dsn()) as owner:
        with pytest.raises(psycopg.errors.RaiseException, match="TRUNCATE is refused"):
            owner.execute("TRUNCATE audit_auditevent CASCADE")
    assert AuditEvent.objects.filter(action="test.kept").exists()


# Anchors -----------------------------------------------------------------------------------------------


def test_the_anchor_is_signed_with_the_portal_key_and_a_forged_one_is_refused(postgresql, anchors):
    events = record(3)
    path, document = audit_anchor_create()
    assert path.parent == anchors and document["last_id"] == events[-1].pk and document["count"] == 3
    assert document["last_hash"] == events[-1].hash and document["signature"]
    assert verify_command()[0] == 0

    forged = json.loads(path.read_text())
    forged["count"] = 2
    (anchors / "audit-anchor-forged.json").write_text(json.dumps(forged))
    code, output = verify_command()
    assert code == 2 and "signature" in output


def test_the_beat_schedule_anchors_daily_through_the_task(postgresql, settings, anchors):
    assert settings.CELERY_BEAT_SCHEDULE["audit-anchor"]["task"] == "audit.anchor_chain_head"
    record(1)
    celery_app.loader.import_default_modules()  # what a worker does at start: autodiscovery
    result = celery_app.tasks["audit.anchor_chain_head"].apply()
    assert result.successful() and list(anchors.glob("audit-anchor-*.json"))
    call_command("audit_anchor", stdout=io.StringIO())
    assert len(list(anchors.glob("audit-anchor-*.json"))) == 2


# audit_verify catches each kind of tampering -------------------------------------------------------------


@pytest.fixture
def anchored(postgresql):
    events = record(6)
    audit_anchor_create()
    return events


def test_an_intact_log_verifies_with_exit_status_0(anchored):
    code, output = verify_command()
    assert code == 0 and "OK: 6 events" in output and "anchor" in output


def test_a_changed_row_is_named(anchored):
    tamper_unsafe("UPDATE audit_auditevent SET data = '{\"i\": 99}' WHERE id = %s", [anchored[2].pk])
    code, output = verify_command()
    assert code == 1 and f"first bad event {anchored[2].pk}" in output


def test_a_deleted_row_is_named_by_its_successor(anchored):
    tamper_unsafe("DELETE FROM audit_auditevent WHERE id = %s", [anchored[2].pk])
    code, output = verify_command()
    assert code == 1 and f"first bad event {anchored[3].pk}" in output


def test_an_inserted_row_is_named(anchored):
    tamper_unsafe(
        "INSERT INTO audit_auditevent (id, created_at, actor_email, action, object_type, object_id, data, "
        "prev_hash, hash) VALUES (%s, now(), '', 'forged', '', '', '{}', %s, %s)",
        [anchored[-1].pk + 1, anchored[-1].hash[::-1], "f" * 64],
    )
    code, output = verify_command()
    assert code == 1 and f"first bad event {anchored[-1].pk + 1}" in output


def test_a_rewritten_tail_is_caught_by_the_anchor(anchored):
    """Rehashing every row after a change keeps the chain consistent; the signed head does not match."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
    prev = anchored[3].prev_hash
    for event in anchored[3:]:
        event = AuditEvent.objects.get(pk=event.pk)
        event.data = {"i": "rewritten"}
        event.prev_hash = prev
        event.hash = event.compute_hash()
        tamper_unsafe(
            "UPDATE audit_auditevent SET data = %s, prev_hash = %s, hash = %s WHERE id = %s",
            [json.dumps(event.data), event.prev_hash, event.hash, event.pk],
        )
        prev = event.hash
    from audit.selectors import audit_chain_broken_at

    assert audit_chain_broken_at() is None  # the chain alone cannot tell
    code, output = verify_command()
    assert code == 1 and f"first bad event {anchored[-1].pk}" in output


def test_rows_cut_off_the_end_are_caught_by_the_anchor(anchored):
    tamper_unsafe("DELETE FROM audit_auditevent WHERE id >= %s", [anchored[4].pk])
    code, output = verify_command()
    assert code == 1 and f"first bad event {anchored[-1].pk}" in output and "missing" in output


def test_a_truncated_log_is_caught_by_the_anchor(anchored):
    tamper_unsafe("DELETE FROM audit_auditevent")
    assert verify_command()[0] == 1
    result = audit_verify()
    assert not result.ok and result.first_bad_id == anchored[-1].pk


# Export for a third party ------------------------------------------------------------------------------


def test_export_has_the_organisations_events_with_hashes_and_stubs_for_the_rest(postgresql):
    mine = OrganizationFactory(kvk_number="12345678")
    theirs = OrganizationFactory(kvk_number="87654321")
    record(2, mine)
    record(2, theirs)
    record(1, mine)
    out = io.StringIO()
    today = AuditEvent.objects.latest("id").created_at.date().isoformat()
    call_command("audit_export", "--organization=12345678", f"--from={today}", f"--to={today}", stdout=out)
    rows = json.loads(out.getvalue())
    assert [row["included"] for row in rows] == [True, True, False, False, True]
    assert all("action" not in row for row in rows if not row["included"])  # nothing of the others
    assert export_check(rows) is None
    forged = [dict(row) for row in rows]
    forged[1]["data"] = {"i": "changed"}
    forged[1]["hashed"] = forged[1]["hashed"].replace('"i": 1', '"i": 7')
    assert export_check(forged) == rows[1]["id"]

    out = io.StringIO()
    call_command(
        "audit_export", "--organization=12345678", f"--from={today}", f"--to={today}", "--format=csv", stdout=out
    )
    table = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(table) == 5 and table[0]["hash"] == rows[0]["hash"] and table[0]["hashed"] == rows[0]["hashed"]
