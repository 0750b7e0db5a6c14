"""Check the application's database role (after ``deploy/postgres/app-role.sql`` granted it).

Two roles (README, "Database roles"): the owner runs the migrations and owns every table;
the app role, which web, worker and beat connect with, owns nothing. It reads and writes
the portal's tables but may only INSERT and SELECT audit events: no UPDATE, DELETE or
TRUNCATE, and, owning no table, it cannot drop or disable the triggers either.
Exit status 1 names every way in which the role is not such a role.
"""

import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

AUDIT_TABLE = "audit_auditevent"
MUST = ("SELECT", "INSERT")
MUST_NOT = ("UPDATE", "DELETE", "TRUNCATE", "TRIGGER", "REFERENCES")


def app_role_problems(role: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls, rolcreaterole FROM pg_roles WHERE rolname = %s", [role])
        found = cursor.fetchone()
        if found is None:
            return [f"role {role} does not exist"]
        problems = []
        if any(found):
            problems.append(f"{role} is a superuser or may bypass row security or create roles")
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tableowner = %s", [role])
        owned = [row[0] for row in cursor.fetchall()]
        if owned:
            problems.append(f"{role} owns tables: {', '.join(sorted(owned))}")
        for privilege in (*MUST, *MUST_NOT):
            cursor.execute("SELECT has_table_privilege(%s, %s, %s)", [role, AUDIT_TABLE, privilege])
            held = cursor.fetchone()[0]
            if privilege in MUST and not held:
                problems.append(f"{role} lacks {privilege} on {AUDIT_TABLE}")
            if privilege in MUST_NOT and held:
                problems.append(f"{role} holds {privilege} on {AUDIT_TABLE}")
    return problems


class Command(BaseCommand):
    help = "Check that the app role owns no table and may only INSERT and SELECT audit events (exit 1 if not)."

    def add_arguments(self, parser):
        parser.add_argument("--role", required=True, help="The role the application connects with.")

    def handle(self, *args, role: str, **options):
        if connection.vendor != "postgresql":
            raise CommandError("Database roles exist in PostgreSQL only.")
        problems = app_role_problems(role)
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            sys.exit(1)
        self.stdout.write(f"{role}: owns no table; {AUDIT_TABLE}: INSERT and SELECT only.")
