"""Helpers for the rule tests: a snapshot of every domain table, to prove that
refused input changed nothing, and a runner for simultaneous service calls."""

import threading
from contextlib import contextmanager

import pytest
from django.db import connection
from django.utils import translation

from audit.models import AuditEvent
from authorizations.models import Authorization, Service, ServiceProvider
from organizations.models import Membership, Organization, Representative
from users.models import Means


@pytest.fixture(autouse=True)
def english():
    """The tests assert on message texts as written (English msgids); Dutch is the site default."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _post_migrate_data_for_transactional_tests(request):
    """A transactional test may follow one whose flush skipped post_migrate (serialized
    rollback): recreate content types, permissions and the Support group first.
    (serialized_rollback itself clashes with the Support group that post_migrate
    recreates under a new id, so these tests do without it.)"""
    marker = request.node.get_closest_marker("django_db")
    if marker and marker.kwargs.get("transaction"):
        from django.core.management.sql import emit_post_migrate_signal

        request.getfixturevalue("transactional_db")
        emit_post_migrate_signal(verbosity=0, interactive=False, db="default")


def snapshot() -> dict:
    from guardian.models import UserObjectPermission

    tables = [
        Organization,
        Representative,
        Membership,
        Means,
        ServiceProvider,
        Service,
        Authorization,
        AuditEvent,
        UserObjectPermission,
    ]
    return {model._meta.label: list(model.objects.order_by("pk").values()) for model in tables}


@contextmanager
def nothing_changes():
    """Assert that the block leaves every domain table (and the audit log) as it was."""
    before = snapshot()
    yield
    after = snapshot()
    for label, rows in before.items():
        assert after[label] == rows, f"{label} changed"


def message(excinfo) -> str:
    return " ".join(excinfo.value.messages)


def run_simultaneously(act, *, count: int = 10, prepare=None) -> list:
    """Run ``act(prepared)`` in ``count`` threads released together, like ten clicks.

    ``prepare(i)`` runs first in each thread (say, loading the row the user saw);
    every thread has its own database connection. Returns each call's result or
    the exception it raised.
    """
    barrier = threading.Barrier(count)
    results: list = [None] * count
    language = translation.get_language()  # the active language is per thread

    def worker(i: int) -> None:
        translation.activate(language)
        try:
            prepared = prepare(i) if prepare else i
            barrier.wait(timeout=30)
            results[i] = act(prepared)
        except Exception as exc:  # noqa: BLE001 - the test inspects every outcome
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results


@pytest.fixture
def postgresql_only(db):
    from tests.conftest import require_or_skip

    require_or_skip(connection.vendor == "postgresql", "PostgreSQL")


def grant(*, actor, user, organization, service=None, level="EH2", years=1, **kwargs):
    """authorization_grant with the defaults the rule tests share: one service, one year."""
    from authorizations.services import authorization_grant

    scope = kwargs.pop("scope", Authorization.Scope.SERVICE if service is not None else Authorization.Scope.LEVEL)
    return authorization_grant(
        actor=actor,
        user=user,
        organization=organization,
        level=level,
        scope=scope,
        service=service,
        years=years,
        **kwargs,
    )
