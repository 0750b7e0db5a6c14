"""Locks on things that have no row yet (an email address about to be requested)."""

from django.db import connection


def lock_names(namespace: str, names) -> None:
    """Hold a transaction-scoped lock on each name until the caller's transaction ends.

    PostgreSQL: advisory locks, taken in sorted order so two callers cannot
    deadlock. SQLite (the zero-setup demo) lets one writer in at a time anyway.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for name in sorted(set(names)):
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"{namespace}:{name}"])
