"""Give the application's database role what it needs, and no more (run as the owner, after migrate).

Two roles (README, "Database roles"): the owner runs the migrations and owns every table;
the app role, which the web, worker and beat processes connect with, owns nothing. It may
read and write the portal's tables, but only INSERT and SELECT audit events: no UPDATE,
DELETE or TRUNCATE, and, owning no table, it cannot drop or disable the triggers either.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

AUDIT_TABLE = "audit_auditevent"


class Command(BaseCommand):
    help = "Grant the app role its privileges (audit events: INSERT and SELECT only). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--role", required=True, help="The role the application connects with.")

    def handle(self, *args, role: str, **options):
        if connection.vendor != "postgresql":
            raise CommandError("Database roles exist in PostgreSQL only.")
        with connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [role])
            found = cursor.fetchone()
            if found is None:
                raise CommandError(f"Role {role!r} does not exist; create it first (README, 'Database roles').")
            if found[0] or found[1]:
                raise CommandError(f"Role {role!r} is a superuser or bypasses row security: not an app role.")
            if role == connection.settings_dict.get("USER"):
                raise CommandError("Run this as the owner role, for another (the app) role.")
            cursor.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tableowner = %s", [role]
            )
            owned = [row[0] for row in cursor.fetchall()]
            if owned:
                raise CommandError(f"Role {role!r} owns tables ({', '.join(owned)}); the owner must own them.")
            quoted = connection.ops.quote_name(role)
            database = connection.ops.quote_name(connection.settings_dict["NAME"])
            for statement in [
                f"GRANT CONNECT ON DATABASE {database} TO {quoted}",
                f"GRANT USAGE ON SCHEMA public TO {quoted}",
                f"REVOKE CREATE ON SCHEMA public FROM {quoted}",
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}",
                f"REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM {quoted}",
                f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
                f"REVOKE ALL ON {AUDIT_TABLE} FROM PUBLIC",
                f"REVOKE ALL ON {AUDIT_TABLE} FROM {quoted}",
                f"GRANT SELECT, INSERT ON {AUDIT_TABLE} TO {quoted}",
            ]:
                cursor.execute(statement)
        self.stdout.write(f"Role {role}: portal tables read/write, {AUDIT_TABLE} INSERT and SELECT only.")
