"""TRUNCATE skips row triggers: a statement trigger refuses it on the audit table.

The app's database role has no TRUNCATE privilege either (deploy/postgres/app-role.sql);
this catches the owner role too. Only a test database sets ``reconi.allow_audit_truncate``
(reconi/settings/test.py), so that the test runner can empty its throwaway tables.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION reconi_audit_no_truncate() RETURNS trigger AS $$
BEGIN
    IF current_setting('reconi.allow_audit_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit events are append-only: TRUNCATE is refused';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_auditevent_no_truncate
    BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION reconi_audit_no_truncate();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS audit_auditevent_no_truncate ON audit_auditevent;
DROP FUNCTION IF EXISTS reconi_audit_no_truncate();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_alter_auditevent_prev_hash")]

    operations = [migrations.RunPython(forward, backward)]
