"""A trigram index for the Permissions search: "every word in a name or email" without a scan of every user.

Django's ``icontains`` on PostgreSQL is ``UPPER(column) LIKE UPPER('%word%')``: the index
is on those expressions, with pg_trgm's operator class (a trusted extension: the owner
of the database may create it). Other databases (the embedded SQLite) get no index.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEX = "user_name_email_trgm"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON users_user USING gin "
            "(UPPER(first_name::text) gin_trgm_ops, UPPER(last_name::text) gin_trgm_ops, UPPER(email::text) gin_trgm_ops)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0002_encrypt_authenticator_secrets"),
    ]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create_index, drop_index),
    ]
