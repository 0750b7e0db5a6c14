"""reconi.bulk.insert_ignoring_conflicts: COPY on PostgreSQL, bulk_create elsewhere; same effect."""

import datetime
import uuid

from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import RenewalReminder
from reconi.bulk import insert_ignoring_conflicts


def _reminder(key: str, run: uuid.UUID) -> RenewalReminder:
    return RenewalReminder(
        key=key, target="means", object_id=ord(key), valid_until=datetime.date(2027, 1, 1), stage="2m", run=run
    )


def test_rows_are_inserted_with_their_defaults_and_colliding_ones_skipped(db):
    first, second = uuid.uuid4(), uuid.uuid4()
    insert_ignoring_conflicts(RenewalReminder, [_reminder("a", first), _reminder("b", first)])
    with CaptureQueriesContext(connection) as queries:
        insert_ignoring_conflicts(RenewalReminder, [_reminder("b", second), _reminder("c", second)])

    assert dict(RenewalReminder.objects.values_list("key", "run")) == {"a": first, "b": first, "c": second}
    assert all(created is not None for created in RenewalReminder.objects.values_list("created_at", flat=True))
    if connection.vendor == "postgresql":  # one INSERT … SELECT from the COPY'd staging table, not one per row
        inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
        assert len(inserts) == 1 and "ON CONFLICT DO NOTHING" in inserts[0]


def test_nothing_to_insert_runs_no_query(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        insert_ignoring_conflicts(RenewalReminder, [])


def test_returning_gives_the_values_of_the_rows_inserted_only(db):
    run = uuid.uuid4()
    insert_ignoring_conflicts(RenewalReminder, [_reminder("a", run)])
    inserted = insert_ignoring_conflicts(RenewalReminder, [_reminder("a", run), _reminder("b", run)], returning="key")
    assert inserted == {"b"}
