"""Benchmark: one renewal reminder run over 1,000,000 authorizations, ~30,000 of them due.

Needs PostgreSQL. Uses a throwaway database next to the one in DATABASE_URL (its
name plus ``_bench``), dropped and recreated on every run, so your data is safe:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reconi .venv/bin/python bench/reminders.py

What is timed is ``renewal_reminders_send()`` — exactly what beat runs at 07:00:
find the due rows, claim them in the reminder ledger, render one email per user
and one digest per manager in the recipient's language, insert the outbox rows —
in interleaved rounds against the code before shape rendering and COPY
(``fast=False``), whose emails must come out identical.
Delivery is not part of it (it happens afterwards, in the workers); ``--deliver``
times that too, into Django's in-memory mail backend.
"""

import argparse
import os
import statistics
from urllib.parse import urlparse

from _common import bench_database_url, recreate_database, step  # noqa: E402


def generate(*, organizations: int, users: int, authorizations: int, due_every: int) -> None:
    """Everything with INSERT … SELECT generate_series: a million rows in seconds."""
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    from organizations.models import Organization

    org_type = ContentType.objects.get_for_model(Organization)
    manage = Permission.objects.get(content_type=org_type, codename="manage_organization")
    params = {
        "orgs": organizations,
        "users": users,
        "authorizations": authorizations,
        "due_every": due_every,
        "org_type": org_type.pk,
        "manage": manage.pk,
    }
    statements = [
        # Organisations 1..orgs; user g belongs to organisation ((g - 1) % orgs) + 1.
        """INSERT INTO organizations_organization (id, name, kvk_number, branch_number, rsin, email_domain, created_at)
           SELECT g, 'Bench BV ' || g, lpad(g::text, 8, '0'), '', '', 'bench' || g || '.nl', now()
           FROM generate_series(1, %(orgs)s) g""",
        # Every fifth user reads English.
        """INSERT INTO users_user (id, password, is_superuser, email, first_name, initials, last_name, phone, language,
                                   is_staff, is_active, date_joined)
           SELECT g, '!', false, 'user' || g || '@bench' || ((g - 1) %% %(orgs)s + 1) || '.nl', 'User', '', g::text,
                  '', CASE WHEN g %% 5 = 0 THEN 'en' ELSE 'nl' END, false, true, now()
           FROM generate_series(1, %(users)s) g""",
        # One active EH3 means each; one in 200 expires within two months (due too).
        """INSERT INTO users_means (level, type, valid_from, valid_until, status, created_at, owner_id)
           SELECT 'EH3', 'password_totp', current_date - 365,
                  CASE WHEN g %% 200 = 0 THEN current_date + (g %% 59) ELSE current_date + 700 END,
                  'active', now(), g
           FROM generate_series(1, %(users)s) g""",
        # The first `orgs` users manage "their" organisation, as manager_appoint would leave it.
        """INSERT INTO organizations_membership (linked_at, manager_level, manager_until, manager_appointed_at,
                                                 user_id, organization_id)
           SELECT now(),
                  CASE WHEN g <= %(orgs)s THEN 'EH3' END,
                  CASE WHEN g <= %(orgs)s THEN current_date + 365 END,
                  CASE WHEN g <= %(orgs)s THEN now() END,
                  g, (g - 1) %% %(orgs)s + 1
           FROM generate_series(1, %(users)s) g""",
        """INSERT INTO guardian_userobjectpermission (object_pk, content_type_id, permission_id, user_id)
           SELECT g::text, %(org_type)s, %(manage)s, g FROM generate_series(1, %(orgs)s) g""",
        """INSERT INTO authorizations_serviceprovider (id, oin, name)
           VALUES (1, '00000001003214345000', 'Belastingdienst')""",
        """INSERT INTO authorizations_service (id, uuid, index, service_id, name, minimum_level, provider_id,
                                               refuses_branch_restriction)
           SELECT g, gen_random_uuid(), g, 'urn:etoegang:DV:00000001003214345000:services:' || g,
                  'Dienst ' || g, 'EH2', 1, false
           FROM generate_series(1, 20) g""",
        # One in `due_every` expires within two months; of the rest, one in 97 is revoked.
        """INSERT INTO authorizations_authorization (scope, level, branch_number, valid_from, valid_until, revoked_at,
                                                     revoked_by_id, created_at, organization_id, user_id, service_id)
           SELECT 'service', 'EH2', '', current_date - 365,
                  CASE WHEN g %% %(due_every)s = 0 THEN current_date + (g %% 59)
                       ELSE current_date + 70 + (g %% 1700) END,
                  CASE WHEN g %% %(due_every)s <> 0 AND g %% 97 = 0 THEN now() END,
                  CASE WHEN g %% %(due_every)s <> 0 AND g %% 97 = 0 THEN 1 END,
                  now(), ((g - 1) %% %(users)s) %% %(orgs)s + 1, (g - 1) %% %(users)s + 1, g %% 20 + 1
           FROM generate_series(1, %(authorizations)s) g""",
    ]
    with connection.cursor() as cursor:
        # A throwaway database: skip the foreign key triggers (the ids above are consistent by
        # construction) and the WAL flush per statement, when the role may.
        cursor.execute("SET synchronous_commit TO off")
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if cursor.fetchone()[0]:
            cursor.execute("SET session_replication_role TO replica")
        for sql in statements:
            cursor.execute(sql, params)
        cursor.execute("RESET session_replication_role")
        cursor.execute("RESET synchronous_commit")
        for table in ["users_user", "organizations_organization", "authorizations_service"]:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        cursor.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--authorizations", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--organizations", type=int, default=2_000)
    parser.add_argument("--due-every", type=int, default=33, help="one authorization in N is due (33: ~30,000)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds of before/after")
    parser.add_argument("--deliver", action="store_true", help="also time delivering the queued emails")
    args = parser.parse_args()

    url = bench_database_url()
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="reconi.settings.dev",
        DEBUG="0",
        # A broker that nobody consumes: the run's delivery request goes nowhere, so only the run is timed.
        CELERY_BROKER_URL="memory://",
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from authorizations.models import Authorization
    from authorizations.reminders.services import renewal_reminders_send
    from notifications.models import OutboxEmail
    from notifications.services import outbox_flush

    with step(f"Recreating {urlparse(url).path.lstrip('/')} and migrating"):
        recreate_database(url)
        call_command("migrate", verbosity=0)
    with step(f"Generating {args.authorizations:,} authorizations for {args.users:,} users"):
        generate(
            organizations=args.organizations,
            users=args.users,
            authorizations=args.authorizations,
            due_every=args.due_every,
        )
    print(f"  {Authorization.objects.count():,} authorizations in the table")

    def reset() -> None:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE notifications_outboxemail, notifications_renewalreminder CASCADE")

    # Interleaved rounds of the code before shape rendering and COPY ("before", fast=False)
    # and today's ("after"): a busy machine slows both alike, and the ratio is what counts.
    seconds: dict[str, list[float]] = {"before": [], "after": []}
    bodies: dict[str, dict] = {}
    for round_number in range(1, args.rounds + 1):
        for label, fast in (("before", False), ("after", True)):
            reset()
            with step(f"Round {round_number}, {label}: reminder run") as timed:
                run = renewal_reminders_send(fast=fast)
            seconds[label].append(timed.seconds)
            if round_number == 1:
                bodies[label] = dict(OutboxEmail.objects.values_list("dedupe_key", "body_html"))
    users = OutboxEmail.objects.filter(kind="renewal_reminder_user").count()
    managers = OutboxEmail.objects.filter(kind="renewal_reminder_manager").count()
    print(f"  {run.claimed:,} reminders due and claimed; {run.queued:,} emails queued ({users:,} to users,")
    print(f"  {managers:,} manager digests), {run.failed} failed")
    assert bodies["before"] == bodies["after"], "the two ways of rendering differ"
    print("  the emails of both ways are identical")
    with step("Second run (nothing left to send)") as second:
        again = renewal_reminders_send()
    assert again.queued == 0, again

    if args.deliver:
        from django.conf import settings

        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        with step("Delivering the outbox (in-memory backend, one process)"):
            flushed = outbox_flush()
        print(f"  {flushed.sent:,} sent")

    before, after = statistics.median(seconds["before"]), statistics.median(seconds["after"])
    speedup = before / after
    print()
    print(f"(machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end)")
    print(
        f"RESULT: {args.authorizations:,} authorizations, {run.claimed:,} due, {run.queued:,} emails: "
        f"a reminder run takes {after:.1f} s, before {before:.1f} s: {speedup:.1f}x faster "
        f"(target >= 2x: {'meets' if speedup >= 2 else 'MISSES'}); a second run {second.seconds:.1f} s."
    )


if __name__ == "__main__":
    main()
