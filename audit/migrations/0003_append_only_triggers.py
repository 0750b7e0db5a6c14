"""In PostgreSQL the database itself refuses to change or delete audit rows and
to move a means to another owner (rules 4 and 16), whatever the code does."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION reconi_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_auditevent_append_only
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION reconi_audit_append_only();

CREATE OR REPLACE FUNCTION reconi_means_owner_fixed() RETURNS trigger AS $$
BEGIN
    IF NEW.owner_id <> OLD.owner_id THEN
        RAISE EXCEPTION 'a means is never transferred to another person';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER users_means_owner_fixed
    BEFORE UPDATE ON users_means
    FOR EACH ROW EXECUTE FUNCTION reconi_means_owner_fixed();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS audit_auditevent_append_only ON audit_auditevent;
DROP FUNCTION IF EXISTS reconi_audit_append_only();
DROP TRIGGER IF EXISTS users_means_owner_fixed ON users_means;
DROP FUNCTION IF EXISTS reconi_means_owner_fixed();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_initial"), ("users", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
