"""Benchmark: the Permissions list at scale — ratios measured side by side in one run.

Needs PostgreSQL. Uses a throwaway database next to the one in DATABASE_URL (its
name plus ``_bench``), dropped and recreated on every run, so your data is safe:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reconi .venv/bin/python bench/manage_pages.py

The data (INSERT … SELECT generate_series):

- "Groot Bedrijf BV": 100,000 authorizations of 5,000 linked users, one manager;
- "Middel BV": 100 authorizations; "Klein BV": 10 — each with its own manager;
- 1,000 other organisations holding 900,000 more authorizations of 195,000 more users,
  so the table has 1,000,000 rows and the user table 200,000.

Latencies are medians of interleaved rounds (every page once per round: a busy machine
slows them alike) through Django's test client, logged in as each manager with the
second factor; query counts come from the same requests. SQL times are PostgreSQL's own
(EXPLAIN ANALYZE: planning plus execution of the list's count, page and rows queries),
which a busy machine distorts far less than a clock around the call. Throughput is
measured with gunicorn (2 sync workers, production settings) and a load generator on
127.0.0.1, alternating the Permissions page with a bare view that loads the same
session and user (bench/_bare_urls.py). The "10-row organisation" SQL time is measured
twice: before the big organisations exist and after.
"""

import argparse
import http.client
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

from _common import bench_database_url, recreate_database, step  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LAST_NAMES = [
    "de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser", "Smit", "Meijer",
    "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker", "Brouwer",
    "de Wit", "Dijkstra", "Smits", "de Graaf", "van der Meer", "van der Linden", "Kok", "Jacobs", "de Haan",
    "Vermeulen", "van den Heuvel", "van der Veen", "van den Broek", "de Bruijn", "de Bruin", "van der Heijden",
    "Schouten", "van Beek", "Willems", "van Vliet", "van de Ven", "Hoekstra", "Maas", "Verhoeven", "Koster",
    "van Dam", "van der Wal", "Prins", "Blom", "Huisman",
]  # fmt: skip
FIRST_NAMES = ["Anna", "Bram", "Daan", "Emma", "Fleur", "Gijs", "Iris", "Joost", "Lotte", "Milan", "Noor", "Sem"]
SEARCH_NAME = "Hoekstra"  # one surname in 50
BIG, MEDIUM, SMALL = 1, 2, 3  # organisation ids; their managers are the first user of each
FILLER_ORGANIZATIONS = 1_000


def _sql(cursor, statement: str, params: dict) -> None:
    cursor.execute(statement, params)


USERS_SQL = """
    INSERT INTO users_user (id, password, is_superuser, email, first_name, initials, last_name, phone, language,
                            is_staff, is_active, date_joined)
    SELECT g, '!', false, 'user' || g || '@bench.nl',
           (%(first_names)s::text[])[g %% cardinality(%(first_names)s::text[]) + 1], '',
           (%(last_names)s::text[])[g %% cardinality(%(last_names)s::text[]) + 1],
           '', CASE WHEN g %% 5 = 0 THEN 'en' ELSE 'nl' END, false, true, now()
    FROM generate_series(%(first)s, %(last)s) g"""
MEANS_SQL = """
    INSERT INTO users_means (level, type, valid_from, valid_until, status, created_at, owner_id)
    SELECT 'EH3', 'password_totp', current_date - 800, current_date + 700, 'active', now(), g
    FROM generate_series(%(first)s, %(last)s) g"""
# Users first..last linked to organisation (g - first) / per_org + org_first; the first of each
# organisation's block of users is its manager when `managers` is set.
MEMBERSHIPS_SQL = """
    INSERT INTO organizations_membership (linked_at, manager_level, manager_until, manager_appointed_at,
                                          user_id, organization_id)
    SELECT now(), CASE WHEN %(managers)s AND (g - %(first)s) %% %(per_org)s = 0 THEN 'EH3' END,
           CASE WHEN %(managers)s AND (g - %(first)s) %% %(per_org)s = 0 THEN current_date + 365 END,
           CASE WHEN %(managers)s AND (g - %(first)s) %% %(per_org)s = 0 THEN now() END,
           g, (g - %(first)s) / %(per_org)s + %(org_first)s
    FROM generate_series(%(first)s, %(last)s) g"""
# Per 100 rows: 3 expiring within two months, 10 expired, 2 revoked, 1 pending, 84 active later.
AUTHORIZATIONS_SQL = """
    INSERT INTO authorizations_authorization (scope, level, branch_number, valid_from, valid_until, revoked_at,
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
           CASE WHEN g %% 100 IN (13, 14) THEN %(user_first)s END,
           %(user_first)s, now(),
           ((g - 1) / %(per_org_rows)s) + %(org_first)s,
           %(user_first)s + ((g - 1) / %(per_org_rows)s) * %(per_org_users)s + (g - 1) %% %(per_org_users)s,
           CASE WHEN g %% 100 = 7 OR g %% 150 = 11 THEN NULL ELSE g %% 20 + 1 END,
           CASE WHEN g %% 100 = 7 THEN g %% 2 + 1 END
    FROM generate_series(1, %(rows)s) g"""


def generate_organisations(*, first_org: int, count: int, users_each: int, rows_each: int, first_user: int) -> int:
    """``count`` organisations from ``first_org``, each with its users (the first its manager) and rows."""
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    from organizations.models import Organization

    org_type = ContentType.objects.get_for_model(Organization)
    manage = Permission.objects.get(content_type=org_type, codename="manage_organization")
    last_user = first_user + count * users_each - 1
    users = {"first": first_user, "last": last_user}
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
        _sql(
            cursor,
            """INSERT INTO organizations_organization (id, name, kvk_number, branch_number, rsin, email_domain,
                                                       created_at)
               SELECT g, CASE g WHEN 1 THEN 'Groot Bedrijf BV' WHEN 2 THEN 'Middel BV' WHEN 3 THEN 'Klein BV'
                                ELSE 'Bedrijf ' || g END, lpad(g::text, 8, '0'), '', '', 'bedrijf' || g || '.nl', now()
               FROM generate_series(%(first)s, %(last)s) g""",
            {"first": first_org, "last": first_org + count - 1},
        )
        _sql(cursor, USERS_SQL, {**users, "first_names": FIRST_NAMES, "last_names": LAST_NAMES})
        _sql(cursor, MEANS_SQL, users)
        _sql(cursor, MEMBERSHIPS_SQL, {**users, "managers": True, "per_org": users_each, "org_first": first_org})
        _sql(
            cursor,
            """INSERT INTO guardian_userobjectpermission (object_pk, content_type_id, permission_id, user_id)
               SELECT (%(org_first)s + g)::text, %(org_type)s, %(manage)s, %(user_first)s + g * %(users_each)s
               FROM generate_series(0, %(count)s - 1) g""",
            {
                "org_first": first_org,
                "org_type": org_type.pk,
                "manage": manage.pk,
                "user_first": first_user,
                "users_each": users_each,
                "count": count,
            },
        )
        _sql(
            cursor,
            AUTHORIZATIONS_SQL,
            {
                "rows": count * rows_each,
                "per_org_rows": rows_each,
                "per_org_users": users_each,
                "org_first": first_org,
                "user_first": first_user,
            },
        )
        cursor.execute("RESET synchronous_commit")
    return last_user + 1


def catalogue() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO authorizations_serviceprovider (id, oin, name)
               VALUES (1, '00000001003214345000', 'Belastingdienst'), (2, '00000001001299418000', 'RVO')"""
        )
        cursor.execute(
            """INSERT INTO authorizations_service (id, uuid, index, service_id, name, minimum_level, provider_id,
                                                   refuses_branch_restriction)
               SELECT g, gen_random_uuid(), g,
                      'urn:etoegang:DV:' || CASE WHEN g <= 10 THEN '00000001003214345000'
                                                ELSE '00000001001299418000' END || ':services:' || g,
                      'Dienst ' || g, CASE WHEN g %% 4 = 0 THEN 'EH3' ELSE 'EH2' END,
                      CASE WHEN g <= 10 THEN 1 ELSE 2 END, false
               FROM generate_series(1, 20) g""",
            {},
        )


def settle() -> None:
    """Sequences past the generated ids; statistics and the visibility map up to date."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ["users_user", "organizations_organization", "authorizations_service"]:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        cursor.execute("VACUUM ANALYZE")


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
    session["_session_started_at"] = session["_session_renewed_at"] = int(time.time())
    session.save()
    return client


def fetch(client, url: str) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        start = time.perf_counter()
        response = client.get(url)
        seconds = time.perf_counter() - start
    assert response.status_code == 200, (url, response.status_code, response.get("Location"))
    return {
        "rows": response.content.count(b'data-testid="permission-row"'),
        "seconds": seconds,
        "queries": len(captured),
        "sql_ms": sum(float(q["time"]) for q in captured.captured_queries) * 1000,
    }


def measure(pages: dict, runs: int) -> dict:
    """{label: {ms, sql_ms, queries}}: medians of interleaved rounds, after one warm-up round."""
    samples: dict = {label: [] for label in pages}
    for round_number in range(runs + 1):
        for label, (client, url) in pages.items():
            result = fetch(client, url)
            if round_number:
                samples[label].append(result)
    return {
        label: {
            "ms": statistics.median(r["seconds"] for r in results) * 1000,
            "sql_ms": statistics.median(r["sql_ms"] for r in results),
            "queries": max(r["queries"] for r in results),
            "min_queries": min(r["queries"] for r in results),
            "rows": results[0]["rows"],
        }
        for label, results in samples.items()
    }


def _server_ms(sql: str, params) -> float:
    """Planning plus execution time of one query, as PostgreSQL itself measures them."""
    import json

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
        raw = cursor.fetchone()[0]
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]
    return plan["Planning Time"] + plan["Execution Time"]


def list_sql_ms(organization_ids: list[int], filters: dict, runs: int) -> float:
    """The list's three queries (count, one page of sorted ids, its rows) in PostgreSQL's own time:
    the server's work, without the waits for a busy machine's CPU that the client's clock adds."""
    from authorizations.views.permissions import PAGE_SIZE

    from authorizations import selectors

    ids = selectors.ids_only(selectors.authorization_list(organization_ids=organization_ids, filters=filters))
    id_sql, id_params = ids.order_by().query.sql_with_params()
    page_ids = list(ids[:PAGE_SIZE])
    page_sql, page_params = ids[:PAGE_SIZE].query.sql_with_params()
    from authorizations.models import Authorization

    rows = Authorization.objects.filter(pk__in=page_ids or [0]).with_status()
    rows_sql, rows_params = rows.select_related(
        "user", "organization", "service__provider", "provider"
    ).query.sql_with_params()
    samples = []
    for _ in range(runs + 1):
        samples.append(
            _server_ms(f"SELECT COUNT(*) FROM ({id_sql}) counted", id_params)
            + _server_ms(page_sql, page_params)
            + _server_ms(rows_sql, rows_params)
        )
    return statistics.median(samples[1:])


def last_page(filters: dict) -> int:
    """The number of the last page of the big organisation's list with ``filters``."""
    from authorizations import selectors
    from portal.views.manage_permissions import PAGE_SIZE

    count = selectors.authorization_list(organization_ids=[BIG], filters=filters).count()
    return max(1, -(-count // PAGE_SIZE))


# --- Throughput: gunicorn and a load generator on 127.0.0.1 ---------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _session_cookie(user) -> str:
    """A logged-in session (signed with the SECRET_KEY gunicorn has too), under production's cookie name."""
    from django.conf import settings
    from django.test import Client

    client = login(Client(), user)
    return f"__Host-sessionid={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def _load(port: int, path: str, cookie: str, seconds: float, clients: int) -> float:
    """Requests a second that ``clients`` threads get answered in ``seconds`` (each must be a 200)."""
    done = [0] * clients
    failures: list = []
    deadline = time.monotonic() + seconds

    def work(index: int) -> None:
        while time.monotonic() < deadline and not failures:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                connection.request("GET", path, headers={"Cookie": cookie, "X-Forwarded-Proto": "https"})
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    failures.append((path, response.status, response.getheader("Location")))
                done[index] += 1
            finally:
                connection.close()

    started = time.monotonic()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures[:3]
    return sum(done) / (time.monotonic() - started)


def throughput(*, database_url: str, manager, seconds: float, rounds: int) -> tuple[float, float]:
    """(Permissions page, bare view) requests a second, medians of alternating rounds."""
    port = _free_port()
    workdir = Path(tempfile.mkdtemp(prefix="reconi-bench-"))
    from reconi import pdf  # a signing certificate, which production settings require to exist

    key, cert = pdf.ensure_signing_certificate()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench._settings",
        "DATABASE_URL": database_url,
        "SECRET_KEY": os.environ["SECRET_KEY"],
        "MFA_ENCRYPTION_KEYS": "bench-" + "m" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SIGNING_KEY_FILE": str(key),
        "SIGNING_CERT_FILE": str(cert),
        "CELERY_BROKER_URL": "memory://",
        "PYTHONPATH": str(ROOT),
    }
    pidfile = workdir / "gunicorn.pid"
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "reconi.wsgi:application",
            "--workers=2",
            "--worker-class=sync",
            f"--bind=127.0.0.1:{port}",
            f"--pid={pidfile}",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(workdir / "gunicorn.log", "w"),  # noqa: SIM115 - closed with the process
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError((workdir / "gunicorn.log").read_text()[-2000:]) from None
                time.sleep(0.2)
        cookie = _session_cookie(manager)
        rates: dict = {"page": [], "bare": []}
        try:
            for path in ("/manage/permissions/", "/bench/bare/"):  # warm-up
                _load(port, path, cookie, 2, 2)
        except (OSError, AssertionError):
            raise RuntimeError((workdir / "gunicorn.log").read_text()[-3000:]) from None
        for _ in range(rounds):
            rates["page"].append(_load(port, "/manage/permissions/", cookie, seconds, 4))
            rates["bare"].append(_load(port, "/bench/bare/", cookie, seconds, 4))
        return statistics.median(rates["page"]), statistics.median(rates["bare"])
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--big", type=int, default=100_000, help="authorizations of the big organisation")
    parser.add_argument("--filler", type=int, default=900_000, help="authorizations of the other organisations")
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=8, help="per throughput round")
    parser.add_argument("--reuse", action="store_true", help="keep the database of the previous run")
    args = parser.parse_args()

    url = bench_database_url()
    # One secret for this process and gunicorn: the sessions made here must hold there.
    os.environ.update(
        DATABASE_URL=url, DJANGO_SETTINGS_MODULE="reconi.settings.dev", DEBUG="0", SECRET_KEY="bench-" + "k" * 50
    )
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from authorizations.models import Authorization
    from users.models import User

    big_users = 5_000
    filler_users = max(args.users - big_users - 25, FILLER_ORGANIZATIONS)
    small_alone = None
    if not args.reuse:
        with step(f"Recreating {urlparse(url).path.lstrip('/')} and migrating"):
            recreate_database(url)
            call_command("migrate", verbosity=0)
        with step("The 100-row and 10-row organisations"):
            catalogue()
            generate_organisations(first_org=MEDIUM, count=1, users_each=20, rows_each=100, first_user=big_users + 1)
            generate_organisations(first_org=SMALL, count=1, users_each=5, rows_each=10, first_user=big_users + 21)
            settle()
        small_alone = list_sql_ms([SMALL], {}, args.runs)
        with step(f"The big organisation ({args.big:,}) and {FILLER_ORGANIZATIONS:,} others ({args.filler:,})"):
            generate_organisations(first_org=BIG, count=1, users_each=big_users, rows_each=args.big, first_user=1)
            generate_organisations(
                first_org=SMALL + 1,
                count=FILLER_ORGANIZATIONS,
                users_each=filler_users // FILLER_ORGANIZATIONS,
                rows_each=args.filler // FILLER_ORGANIZATIONS,
                first_user=big_users + 26,
            )
        with step("VACUUM ANALYZE"):
            settle()
    big_manager, medium_manager = User.objects.get(pk=1), User.objects.get(pk=big_users + 1)
    small_manager = User.objects.get(pk=big_users + 21)
    print(f"  {Authorization.objects.count():,} authorizations, {User.objects.count():,} users")

    big, medium, small = (login(Client(), u) for u in (big_manager, medium_manager, small_manager))
    base = "/manage/permissions/"
    q_last = last_page({"q": SEARCH_NAME})
    level_last = last_page({"level": "EH3"})
    pages = {
        "big, page 1": (big, base),
        "big, page 1,000": (big, f"{base}?page=1000"),
        "big, q=, page 1": (big, f"{base}?q={SEARCH_NAME}"),
        "big, q=, last page": (big, f"{base}?q={SEARCH_NAME}&page={q_last}"),
        "big, level=, page 1": (big, f"{base}?level=EH3"),
        "big, level=, last page": (big, f"{base}?level=EH3&page={level_last}"),
        "big, show_inactive, page 1": (big, f"{base}?show_inactive=1"),
        "big, every filter": (big, f"{base}?show_inactive=1&level=EH2&q=Jansen&status=active"),
        "100 rows, show_inactive, page 1": (medium, f"{base}?show_inactive=1"),
        "100 rows, every filter": (medium, f"{base}?show_inactive=1&level=EH2&q=Jansen&status=active"),
        "small": (small, base),
        "small, every filter": (small, f"{base}?show_inactive=1&level=EH2&q=Jansen&status=active"),
    }
    with step(f"{len(pages)} pages, {args.runs} interleaved rounds"):
        results = measure(pages, args.runs)
    for label, r in results.items():
        print(f"  {label:<34} {r['ms']:7.1f} ms  SQL {r['sql_ms']:6.1f} ms  {r['queries']:2d} queries")

    with step("Throughput: gunicorn, 2 sync workers, production settings"):
        page_rate, bare_rate = throughput(
            database_url=url, manager=big_manager, seconds=args.seconds, rounds=max(2, args.runs // 2)
        )

    # An empty page skips loading rows; every page that shows rows must cost the same.
    shown = [r for r in results.values() if r["rows"]]
    counts = {r["queries"] for r in shown} | {r["min_queries"] for r in shown}
    total = Authorization.objects.count()
    small_with = list_sql_ms([SMALL], {}, args.runs)
    search_ms = list_sql_ms([BIG], {"q": SEARCH_NAME}, args.runs)
    ratio = lambda a, b: results[a]["ms"] / results[b]["ms"]  # noqa: E731
    rows = [
        ("SQL queries per Permissions page (10, 100, 100,000 rows; any filter)",
         f"{min(counts)}–{max(counts)}", "≤ 9, identical", max(counts) <= 9 and len(counts) == 1),
        ("page 1,000 / page 1 latency", f"{ratio('big, page 1,000', 'big, page 1'):.2f}", "≤ 1.3",
         ratio("big, page 1,000", "big, page 1") <= 1.3),
        ("last page / page 1 with q=", f"{ratio('big, q=, last page', 'big, q=, page 1'):.2f}", "≤ 1.3",
         ratio("big, q=, last page", "big, q=, page 1") <= 1.3),
        ("last page / page 1 with level=", f"{ratio('big, level=, last page', 'big, level=, page 1'):.2f}", "≤ 1.3",
         ratio("big, level=, last page", "big, level=, page 1") <= 1.3),
        ("show_inactive=1 page 1, 100,000 rows / 100 rows",
         f"{ratio('big, show_inactive, page 1', '100 rows, show_inactive, page 1'):.2f}", "≤ 1.3",
         ratio("big, show_inactive, page 1", "100 rows, show_inactive, page 1") <= 1.3),
        ("10-row organisation's list, SQL (server time): alone / next to the others",
         f"{small_alone:.2f} ms / {small_with:.2f} ms" if small_alone is not None else f"– / {small_with:.2f} ms",
         "≤ 2 ms, the same", small_with <= 2 and (small_alone is None or small_with <= max(2 * small_alone, 1))),
        (f"q= on {total:,} authorizations, {User.objects.count():,} users: list SQL (server time)",
         f"{search_ms:.1f} ms", "≤ 30 ms", search_ms <= 30),
        ("Permissions page throughput / bare view (gunicorn, 2 workers)",
         f"{page_rate:.1f} / {bare_rate:.1f} req/s = {100 * page_rate / bare_rate:.1f} %", "≥ 15 %",
         page_rate / bare_rate >= 0.15),
    ]  # fmt: skip
    print()
    print(f"Measured {time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print()
    print("| what | measured | target | |")
    print("|---|---|---|---|")
    for what, measured, target, ok in rows:
        print(f"| {what} | {measured} | {target} | {'meets' if ok else 'MISSES'} |")
    met = sum(ok for *_rest, ok in rows)
    print()
    print(f"RESULT: Permissions list at scale: {met} of {len(rows)} targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
