"""Rule 16: every change is written to an append-only, tamper-evident audit log:
who, on behalf of which organisation, what, when, from where."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit.models import AuditEvent
from audit.selectors import audit_chain_broken_at
from audit.services import GENESIS_HASH, audit_record, current_ip
from authorizations.services import (
    authorization_reactivate,
    authorization_renew,
    authorization_revoke,
)
from organizations.models import Membership
from organizations.services import (
    manager_appoint,
    manager_withdraw,
    membership_link,
    organization_create,
    representative_add,
)
from tests.factories import AuthorizationFactory, OrganizationFactory, UserFactory
from tests.rules.conftest import grant, run_simultaneously
from users.models import Means
from users.services import means_issue, means_upgrade


@pytest.fixture
def world(anna, bram, daan, support, org, other_org, service_eh2):
    class World:
        pass

    w = World()
    w.anna, w.bram, w.daan, w.support, w.org, w.other_org, w.service = (
        anna, bram, daan, support, org, other_org, service_eh2,
    )  # fmt: skip
    return w


def _grant(w):
    return w.anna, w.org, "authorization.grant", grant(actor=w.anna, user=w.bram, organization=w.org, service=w.service)


def _renew(w):
    a = AuthorizationFactory(user=w.bram, organization=w.org, service=w.service)
    return (
        w.anna,
        w.org,
        "authorization.renew",
        authorization_renew(actor=w.anna, authorization=a, years=1, expected_valid_until=a.valid_until),
    )


def _revoke(w):
    a = AuthorizationFactory(user=w.bram, organization=w.org, service=w.service)
    return w.anna, w.org, "authorization.revoke", authorization_revoke(actor=w.anna, authorization=a)


def _reactivate(w):
    a = AuthorizationFactory(user=w.bram, organization=w.org, service=w.service, expired=True)
    return w.support, w.org, "authorization.reactivate", authorization_reactivate(actor=w.support, authorization=a)


def _link(w):
    m = membership_link(actor=w.support, user=w.daan, organization=w.org)
    return w.support, w.org, "membership.link", m


def _appoint(w):
    m = manager_appoint(actor=w.support, user=w.bram, organization=w.org, level="EH3")
    return w.support, w.org, "manager.appoint", m


def _withdraw(w):
    m = manager_withdraw(actor=w.support, membership=Membership.objects.get(user=w.anna, organization=w.org))
    return w.support, w.org, "manager.withdraw", m


def _organization(w):
    o = organization_create(actor=w.support, name="Nieuw BV", kvk_number="87654321", rsin="111222333")
    return w.support, o, "organization.create", o


def _representative(w):
    r = representative_add(
        actor=w.support,
        organization=w.org,
        name="Carla Smit",
        email="carla.smit@voorbeeld-bv1.nl",
        date_of_birth=datetime.date(1970, 3, 4),
        authority="sole",
        extract_date=timezone.localdate(),
    )
    return w.support, w.org, "representative.add", r


def _means_issue(w):
    m = means_issue(actor=w.support, owner=UserFactory(), level="EH2", years=1, organization=w.org)
    return w.support, w.org, "means.issue", m


def _means_upgrade(w):
    m = means_upgrade(actor=w.support, means=Means.objects.get(owner=w.bram), level="EH4", organization=w.org)
    return w.support, w.org, "means.upgrade", m


SERVICES = [
    _grant,
    _renew,
    _revoke,
    _reactivate,
    _link,
    _appoint,
    _withdraw,
    _organization,
    _representative,
    _means_issue,
    _means_upgrade,
]


@pytest.mark.parametrize("service", SERVICES, ids=lambda f: f.__name__.strip("_"))
def test_every_service_writes_exactly_one_audit_event(world, service):
    last_id = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    before = timezone.now()
    actor, organization, action, obj = service(world)
    events = list(AuditEvent.objects.filter(id__gt=last_id))
    # Factories write no events; only the service under test does.
    assert len(events) == 1, [e.action for e in events]
    event = events[0]
    assert event.action == action
    assert event.actor == actor
    assert event.actor_email == actor.email
    assert event.organization == organization
    assert (event.object_type, event.object_id) == (obj._meta.label_lower, str(obj.pk))
    assert before <= event.created_at <= timezone.now()
    assert audit_chain_broken_at() is None


def test_an_event_records_from_where(world):
    token = current_ip.set("192.0.2.17")
    try:
        _grant(world)
    finally:
        current_ip.reset(token)
    assert AuditEvent.objects.order_by("-id").first().ip_address == "192.0.2.17"


def test_each_event_holds_the_hash_of_the_previous_one(world):
    for service in [_grant, _link, _representative]:
        service(world)
    events = list(AuditEvent.objects.order_by("id"))
    assert len(events) >= 4
    assert events[0].prev_hash == GENESIS_HASH
    for previous, event in zip(events, events[1:], strict=False):
        assert event.prev_hash == previous.hash
        assert event.hash == event.compute_hash()
    assert audit_chain_broken_at() is None


def _tamper_unsafe(sql, params):
    """Change audit rows behind the application's back, as an attacker with database access would."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Triggers off for the rest of this test's transaction (rolled back afterwards).
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)


@pytest.fixture
def chain(world):
    for service in [_grant, _link, _representative, _means_upgrade]:
        service(world)
    events = list(AuditEvent.objects.order_by("id"))
    assert audit_chain_broken_at() is None
    return events


def test_changing_an_events_data_breaks_the_chain_at_that_event(chain):
    target = chain[-3]
    _tamper_unsafe("UPDATE audit_auditevent SET data = %s WHERE id = %s", ['{"user": "someone-else"}', target.pk])
    assert audit_chain_broken_at() == target.pk


def test_changing_who_did_it_breaks_the_chain(chain):
    target = chain[-2]
    _tamper_unsafe("UPDATE audit_auditevent SET actor_email = %s WHERE id = %s", ["nobody@example.org", target.pk])
    assert audit_chain_broken_at() == target.pk


def test_rehashing_a_changed_event_is_caught_by_the_next_one(chain):
    target = chain[-3]
    forged = AuditEvent.objects.get(pk=target.pk)
    forged.action = "nothing.happened"
    _tamper_unsafe(
        "UPDATE audit_auditevent SET action = %s, hash = %s WHERE id = %s",
        [forged.action, forged.compute_hash(), target.pk],
    )
    assert audit_chain_broken_at() == chain[-2].pk


def test_deleting_an_event_breaks_the_chain_at_the_next(chain):
    _tamper_unsafe("DELETE FROM audit_auditevent WHERE id = %s", [chain[-3].pk])
    assert audit_chain_broken_at() == chain[-2].pk


def test_saving_an_existing_event_again_is_refused(chain):
    event = AuditEvent.objects.get(pk=chain[-1].pk)
    event.action = "changed"
    with pytest.raises(ValidationError, match="append-only"):
        event.save()
    with pytest.raises(ValidationError, match="append-only"):
        event.delete()
    assert AuditEvent.objects.get(pk=event.pk).action == chain[-1].action


def test_database_refuses_update_and_delete_of_audit_rows(postgresql_only, chain):
    target = chain[-2]
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=target.pk).update(action="changed")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=target.pk).delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET data = '{}' WHERE id = %s", [target.pk])
    assert AuditEvent.objects.filter(pk=target.pk).exists()
    assert audit_chain_broken_at() is None


def test_a_refused_change_writes_no_event(world):
    count = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        membership_link(actor=world.support, user=world.bram, organization=world.org)
    assert AuditEvent.objects.count() == count


@pytest.mark.django_db(transaction=True)
def test_audit_record_refuses_to_run_outside_a_transaction():
    actor = UserFactory()
    with pytest.raises(RuntimeError, match="inside the service's transaction"):
        audit_record(actor=actor, action="test.outside")
    assert not AuditEvent.objects.filter(action="test.outside").exists()


@pytest.mark.django_db(transaction=True)
def test_simultaneous_writers_keep_the_chain_linear(postgresql_only, support, org, bram, service_eh2):
    count = 10
    authorizations = [AuthorizationFactory(user=bram, organization=org, service=service_eh2) for _ in range(count)]
    OrganizationFactory.reset_sequence(50)
    start = AuditEvent.objects.count()

    def act(i):
        if i % 2:
            return authorization_revoke(actor=support, authorization=authorizations[i])
        return organization_create(actor=support, name=f"Gelijktijdig {i} BV", kvk_number=f"{77000000 + i:08d}")

    results = run_simultaneously(act, count=count)
    assert [r for r in results if isinstance(r, Exception)] == []
    events = list(AuditEvent.objects.order_by("id"))
    assert len(events) == start + count
    assert len({e.prev_hash for e in events}) == len(events)  # no fork: every hash has one successor
    assert audit_chain_broken_at() is None
