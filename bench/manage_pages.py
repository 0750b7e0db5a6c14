"""Benchmark: the Manage tab's pages for one organisation with 100,000 authorizations.

Needs PostgreSQL. Uses a throwaway database next to the one in DATABASE_URL (its
name plus ``_bench``), dropped and recreated on every run, so your data is safe:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reconi .venv/bin/python bench/manage_pages.py

One organisation, ~5,000 linked users with a means, 100,000 authorizations (mostly
active; some expiring within two months, expired, revoked, pending), 2,000 requests
and one manager (guardian permission, manager role, EH3 means — as manager_appoint
leaves it). Then, with Django's test Client logged in as that manager (second factor
recorded as allauth does), each page is fetched once to warm up, five times timed
(median), and once more inside CaptureQueriesContext to count its SQL queries.
The number of queries per page must not grow with the data.
"""

import argparse
import os
import statistics
import time
from urllib.parse import urlparse

from _common import bench_database_url, recreate_database, step  # noqa: E402

SLOW_MS = 500
LAST_NAMES = [
    "de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser", "Smit", "Meijer",
    "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker", "Brouwer",
    "de Wit", "Dijkstra", "Smits", "de Graaf", "van der Meer", "van der Linden", "Kok", "Jacobs", "de Haan",
    "Vermeulen", "van den Heuvel", "van der Veen", "van den Broek", "de Bruijn", "de Bruin", "van der Heijden",
    "Schouten", "van Beek", "Willems", "van Vliet", "van de Ven", "Hoekstra", "Maas", "Verhoeven", "Koster",
    "van Dam", "van der Wal", "Prins", "Blom", "Huisman",
]  # fmt: skip
FIRST_NAMES = ["Anna", "Bram", "Daan", "Emma", "Fleur", "Gijs", "Iris", "Joost", "Lotte", "Milan", "Noor", "Sem"]
SEARCH_NAME = "Hoekstra"  # one surname in 50: ~100 users, ~2,000 authorizations


def generate(*, users: int, authorizations: int, requests: int) -> None:
    """Everything with INSERT … SELECT generate_series. Organisation 1; user 1 is its manager."""
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    from organizations.models import Organization

    org_type = ContentType.objects.get_for_model(Organization)
    manage = Permission.objects.get(content_type=org_type, codename="manage_organization")
    params = {
        "users": users,
        "authorizations": authorizations,
        "requests": requests,
        "org_type": org_type.pk,
        "manage": manage.pk,
        "last_names": LAST_NAMES,
        "first_names": FIRST_NAMES,
    }
    statements = [
        """INSERT INTO organizations_organization (id, name, kvk_number, branch_number, rsin, email_domain, created_at)
           VALUES (1, 'Groot Bedrijf BV', '12345678', '', '', 'grootbedrijf.nl', now())""",
        # User 1 is the manager; the others get a first and last name from the lists.
        """INSERT INTO users_user (id, password, is_superuser, email, first_name, initials, last_name, phone, language,
                                   is_staff, is_active, date_joined)
           SELECT g, '!', false, 'user' || g || '@grootbedrijf.nl',
                  (%(first_names)s::text[])[g %% cardinality(%(first_names)s::text[]) + 1], '',
                  (%(last_names)s::text[])[g %% cardinality(%(last_names)s::text[]) + 1],
                  '', CASE WHEN g %% 5 = 0 THEN 'en' ELSE 'nl' END, false, true, now()
           FROM generate_series(1, %(users)s) g""",
        # One means each: EH3 for the manager and every third user, else EH2; one in 40 expired, one in 200 due.
        """INSERT INTO users_means (level, type, valid_from, valid_until, status, created_at, owner_id)
           SELECT CASE WHEN g = 1 OR g %% 3 = 0 THEN 'EH3' ELSE 'EH2' END, 'password_totp', current_date - 800,
                  CASE WHEN g > 1 AND g %% 40 = 0 THEN current_date - 10
                       WHEN g %% 200 = 0 THEN current_date + (g %% 59)
                       ELSE current_date + 700 END,
                  'active', now(), g
           FROM generate_series(1, %(users)s) g""",
        # Every user linked; user 1 with the manager role, as manager_appoint leaves it.
        """INSERT INTO organizations_membership (linked_at, manager_level, manager_until, manager_appointed_at,
                                                 user_id, organization_id)
           SELECT now(), CASE WHEN g = 1 THEN 'EH3' END, CASE WHEN g = 1 THEN current_date + 365 END,
                  CASE WHEN g = 1 THEN now() END, g, 1
           FROM generate_series(1, %(users)s) g""",
        """INSERT INTO guardian_userobjectpermission (object_pk, content_type_id, permission_id, user_id)
           VALUES ('1', %(org_type)s, %(manage)s, 1)""",
        """INSERT INTO authorizations_serviceprovider (id, oin, name)
           VALUES (1, '00000001003214345000', 'Belastingdienst'), (2, '00000001001299418000', 'RVO')""",
        """INSERT INTO authorizations_service (id, uuid, index, service_id, name, minimum_level, provider_id)
           SELECT g, gen_random_uuid(), g,
                  'urn:etoegang:DV:' || CASE WHEN g <= 10 THEN '00000001003214345000' ELSE '00000001001299418000' END
                  || ':services:' || g,
                  'Dienst ' || g, CASE WHEN g %% 4 = 0 THEN 'EH3' ELSE 'EH2' END, CASE WHEN g <= 10 THEN 1 ELSE 2 END
           FROM generate_series(1, 20) g""",
        # Per 100 rows: 3 expiring within two months, 10 expired, 2 revoked, 1 pending, 84 active later.
        # One in 100 is for all services of a provider, one in 150 for all services at its level.
        # Twenty consecutive rows per user, so every user has a mix of statuses.
        """INSERT INTO authorizations_authorization (scope, level, branch_number, valid_from, valid_until, revoked_at,
                                                     revoked_by_id, granted_by_id, created_at, organization_id,
                                                     user_id, service_id, provider_id)
           SELECT CASE WHEN g %% 100 = 7 THEN 'provider' WHEN g %% 150 = 11 THEN 'level' ELSE 'service' END,
                  CASE WHEN g %% 4 = 0 THEN 'EH3' ELSE 'EH2' END, '',
                  CASE WHEN g %% 100 = 15 THEN current_date + 30 ELSE current_date - 700 + (g %% 300) END,
                  CASE WHEN g %% 100 < 3 THEN current_date + (g %% 59)
                       WHEN g %% 100 < 13 THEN current_date - 1 - (g %% 300)
                       WHEN g %% 100 = 15 THEN current_date + 400
                       ELSE current_date + 70 + (g %% 1700) END,
                  CASE WHEN g %% 100 IN (13, 14) THEN now() - interval '1 day' * (g %% 90) END,
                  CASE WHEN g %% 100 IN (13, 14) THEN 1 END,
                  1, now(), 1, ((g - 1) / 20) %% %(users)s + 1,
                  CASE WHEN g %% 100 = 7 OR g %% 150 = 11 THEN NULL ELSE g %% 20 + 1 END,
                  CASE WHEN g %% 100 = 7 THEN g %% 2 + 1 END
           FROM generate_series(1, %(authorizations)s) g""",
        # Requests: new means and upgrades, most fulfilled, some still open.
        """INSERT INTO requests_app_request (number, kind, organization_id, created_by_id, status, payload,
                                             subject_user_id, level, language, signatures_required, reason,
                                             rejection_reason, identity_method, identity_document_type,
                                             identity_document_last4, pdf, pdf_sha256, signed_pdf,
                                             signed_pdf_sha256, created_at, updated_at,
                                             submitted_at, fulfilled_at)
           SELECT 'RC-2026-' || lpad(g::text, 6, '0'), CASE WHEN g %% 3 = 0 THEN 'upgrade' ELSE 'new_means' END,
                  1, 1, CASE WHEN g %% 10 = 0 THEN 'submitted' WHEN g %% 10 = 1 THEN 'draft' ELSE 'fulfilled' END,
                  CASE WHEN g %% 3 = 0
                       THEN '{"means_id": 1, "from_level": "EH2", "to_level": "EH3", "signers": []}'::jsonb
                       ELSE '{"people": [], "signers": []}'::jsonb END,
                  (g - 1) %% %(users)s + 1, 'EH3', 'nl', 1, '', '', '', '', '', '', '', '', '',
                  now() - interval '1 hour' * g, now(), now() - interval '1 hour' * g,
                  CASE WHEN g %% 10 > 1 THEN now() END
           FROM generate_series(1, %(requests)s) g""",
    ]
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if cursor.fetchone()[0]:
            cursor.execute("SET session_replication_role TO replica")
        for sql in statements:
            cursor.execute(sql, params)
        cursor.execute("RESET session_replication_role")
        cursor.execute("RESET synchronous_commit")
        for table in [
            "users_user",
            "organizations_organization",
            "authorizations_service",
            "authorizations_serviceprovider",
        ]:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        cursor.execute("ANALYZE")


def login(client, user):
    """As tests/conftest.py login(): force_login plus the password and TOTP records allauth keeps."""
    from reconi.authentication import authentication_records_store

    client.force_login(user)
    session = client.session
    authentication_records_store(
        session,
        user,
        [
            {"method": "password", "at": time.time(), "email": user.email},
            {"method": "mfa", "at": time.time(), "type": "totp"},
        ],
    )
    session.save()
    return client


def measure(client, url: str, runs: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url)  # warm-up
    assert response.status_code == 200, (url, response.status_code, response.get("Location"))
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    slowest = max(captured.captured_queries, key=lambda q: float(q["time"]))
    return {
        "url": url,
        "ms": statistics.median(timings),
        "queries": len(captured),
        "sql_ms": sum(float(q["time"]) for q in captured.captured_queries) * 1000,
        "slowest_ms": float(slowest["time"]) * 1000,
        "slowest_sql": slowest["sql"],
        "bytes": len(response.content),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--authorizations", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=5_000)
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="keep the database of the previous run")
    parser.add_argument("--show-sql", action="store_true", help="print each page's slowest query")
    args = parser.parse_args()

    url = bench_database_url()
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="reconi.settings.dev",
        DEBUG="0",
        CELERY_BROKER_URL="memory://",
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from authorizations.models import Authorization
    from organizations.models import Organization
    from users.models import User

    if not args.reuse:
        with step(f"Recreating {urlparse(url).path.lstrip('/')} and migrating"):
            recreate_database(url)
            call_command("migrate", verbosity=0)
        with step(f"Generating {args.authorizations:,} authorizations for {args.users:,} users of one organisation"):
            generate(users=args.users, authorizations=args.authorizations, requests=args.requests)
    organization = Organization.objects.get()
    manager = User.objects.get(pk=1)
    assert Organization.objects.managed_by(manager).filter(pk=organization.pk).exists(), "manager set-up incomplete"
    total = Authorization.objects.count()
    shown = Authorization.objects.with_status_in(["pending", "active"]).count()
    print(f"  {total:,} authorizations in the table, {shown:,} pending or active")

    client = login(Client(), manager)
    deep_page = 1000 if shown > 50 * 1000 else max(1, shown // 50)
    pages = [
        ("overview", "/manage/"),
        ("permissions, page 1", "/manage/permissions/"),
        (f"permissions, page {deep_page}", f"/manage/permissions/?page={deep_page}"),
        ("permissions, search a surname", f"/manage/permissions/?q={SEARCH_NAME}"),
        ("permissions, with inactive", "/manage/permissions/?show_inactive=1"),
        ("permissions, expiring", "/manage/permissions/?expiring=1"),
        ("users", "/manage/users/"),
        ("requests", "/manage/requests/"),
        ("new permission: user step", f"/manage/permissions/new/?organization={organization.pk}"),
    ]
    results = []
    for label, page_url in pages:
        result = measure(client, page_url, args.runs)
        results.append((label, result))
        print(f"  {label:<34} {result['ms']:7.0f} ms  {result['queries']:3d} queries", flush=True)

    print()
    print(f"| page | URL | median of {args.runs} | SQL queries | of which SQL time |")
    print("|---|---|---|---|---|")
    for label, r in results:
        print(f"| {label} | `{r['url']}` | {r['ms']:.0f} ms | {r['queries']} | {r['sql_ms']:.0f} ms |")
    slow = [(label, r) for label, r in results if r["ms"] > SLOW_MS]
    for label, r in results if args.show_sql else slow:
        print(f"\n{label}: slowest query {r['slowest_ms']:.0f} ms:\n{r['slowest_sql']}")

    print()
    print(f"(machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end)")
    worst_label, worst = max(results, key=lambda item: item[1]["ms"])
    print(
        f"RESULT: {total:,} authorizations in one organisation: {len(results)} Manage pages, "
        f"slowest {worst_label} {worst['ms']:.0f} ms (median of {args.runs}), "
        f"at most {max(r['queries'] for _label, r in results)} SQL queries a page; {len(slow)} over {SLOW_MS} ms."
    )


if __name__ == "__main__":
    main()
