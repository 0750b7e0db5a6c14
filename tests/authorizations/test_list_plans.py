"""The Permissions list and the reminder job on 100,000 authorizations: the plans PostgreSQL picks.

No sequential scan of the authorization table and no sort spilling to disk, for the
list with each filter (page 1, a deep page, the count) and for the reminder queries.
The rows are generated in the test database with generate_series: ten organisations
of 10,000 authorizations each, and a small one of ten.
"""

import json

import pytest
from django.db import connection
from django.utils import timezone

from authorizations import selectors
from authorizations.models import Authorization
from authorizations.reminders.selectors import _not_reminded, reminders_due, stage_windows
from notifications.models import RenewalReminder
from reconi.levels import AssuranceLevel
from tests.factories import MembershipFactory, OrganizationFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="query plans of PostgreSQL")

PER_ORGANIZATION = 10_000
PAGE = 50
LIST_INDEX = "authz_org_list"


@pytest.fixture
def crowded(db):
    organizations = [OrganizationFactory() for _ in range(10)]
    small = OrganizationFactory(name="Klein BV")
    services = [ServiceFactory(minimum_level=AssuranceLevel.EH2) for _ in range(5)]
    users = []
    for index in range(60):
        user = UserFactory(last_name="Hoekstra" if index % 20 == 0 else f"Jansen{index}")
        MembershipFactory(user=user, organization=organizations[index % 10])
        users.append(user)
    MembershipFactory(user=users[0], organization=small)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO authorizations_authorization
                (scope, level, branch_number, valid_from, valid_until, revoked_at, revoked_by_id, created_at,
                 organization_id, user_id, service_id)
            SELECT 'service', CASE WHEN g %% 4 = 0 THEN 'EH3' ELSE 'EH2' END, '',
                   current_date - 700 + (g %% 300),
                   CASE WHEN g %% 100 < 3 THEN current_date + (g %% 59)
                        WHEN g %% 100 < 13 THEN current_date - 1 - (g %% 300)
                        ELSE current_date + 70 + (g %% 1700) END,
                   CASE WHEN g %% 100 IN (13, 14) THEN now() END,
                   CASE WHEN g %% 100 IN (13, 14) THEN %(revoker)s END,
                   now(), (%(organizations)s::int[])[(g / 100) %% 10 + 1], (%(users)s::int[])[g %% 60 + 1],
                   (%(services)s::int[])[g %% 5 + 1]
            FROM generate_series(1, %(rows)s) g
            """,
            {
                "rows": PER_ORGANIZATION * 10,
                "organizations": [o.pk for o in organizations],
                "users": [u.pk for u in users],
                "services": [s.pk for s in services],
                "revoker": users[1].pk,
            },
        )
        cursor.execute(
            """
            INSERT INTO authorizations_authorization
                (scope, level, branch_number, valid_from, valid_until, created_at, organization_id, user_id, service_id)
            SELECT 'service', 'EH2', '', current_date - 10, current_date + g * 30, now(), %s, %s, %s
            FROM generate_series(1, 10) g
            """,
            [small.pk, users[0].pk, services[0].pk],
        )
        cursor.execute("ANALYZE authorizations_authorization")
        cursor.execute("ANALYZE users_user")
        cursor.execute("ANALYZE organizations_membership")
    assert Authorization.objects.count() == PER_ORGANIZATION * 10 + 10
    return {"big": organizations[0], "small": small, "user": users[1]}


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def assert_good_plan(queryset, index: str | None = None) -> list[dict]:
    """EXPLAIN ANALYZE the query: no sequential scan of the authorization table, no sort on disk
    (and, given ``index``, that index used)."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
        raw = cursor.fetchone()[0]
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]
    nodes = list(_nodes(plan["Plan"]))
    seq_scans = [
        n for n in nodes if n["Node Type"] == "Seq Scan" and n.get("Relation Name") == Authorization._meta.db_table
    ]
    assert not seq_scans, json.dumps(plan, indent=1)
    spills = [n for n in nodes if n.get("Sort Space Type") == "Disk"]
    assert not spills, json.dumps(plan, indent=1)
    if index:
        assert index in {n.get("Index Name") for n in nodes}, json.dumps(plan, indent=1)
    return nodes


FILTERS = [
    {},
    {"show_inactive": True},
    {"level": AssuranceLevel.EH3},
    {"status": "expired"},
    {"status": "revoked"},
    {"expiring": True},
    {"q": "Hoekstra"},
    {"user_q": "Hoekstra"},
    {"show_inactive": True, "level": AssuranceLevel.EH2, "q": "Jansen1"},
]


def test_the_list_and_the_reminder_job_use_the_indexes_at_100000_rows(crowded):
    """One set of rows for every check: generating them is what takes time."""
    for filters in FILTERS:  # the count, page 1 and the middle page (the deepest: later pages go from the end)
        ids = selectors.ids_only(selectors.authorization_list(organization_ids=[crowded["big"].pk], filters=filters))
        count = ids.count()
        assert count > PAGE, filters
        # A search narrows to a few people first, and may well go through their index instead.
        index = None if {"q", "user_q"} & set(filters) else LIST_INDEX
        assert_good_plan(ids.order_by(), index)  # what COUNT(*) reads
        assert_good_plan(ids[:PAGE], index)
        assert_good_plan(ids[count // 2 : count // 2 + PAGE], index)

    # One user of the big organisation; the small organisation next to the big ones.
    for organization_ids, filters in (([crowded["big"].pk], {"user": crowded["user"]}), ([crowded["small"].pk], {})):
        ids = selectors.ids_only(selectors.authorization_list(organization_ids=organization_ids, filters=filters))
        assert_good_plan(ids[:PAGE])

    assert len(reminders_due(today=timezone.localdate())) > 1000
    for stage, first, last in stage_windows(timezone.localdate()):
        queryset = Authorization.objects.filter(revoked_at__isnull=True, valid_until__range=(first, last)).filter(
            _not_reminded(RenewalReminder.Target.AUTHORIZATION, stage)
        )
        assert_good_plan(queryset)
