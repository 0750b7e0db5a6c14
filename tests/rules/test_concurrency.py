"""The security baseline (docs/rules.md): writes that can race lock their row, so that ten
simultaneous clicks give one change (and one audit event)."""

import pytest
from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.utils import timezone

from audit.models import AuditEvent
from audit.selectors import audit_chain_broken_at
from authorizations.models import Authorization
from authorizations.services import authorization_reactivate, authorization_renew, authorization_revoke
from organizations.models import Membership
from organizations.services import membership_link
from tests.factories import AuthorizationFactory
from tests.rules.conftest import run_simultaneously

# Real row locks and simultaneous connections: PostgreSQL (SQLite's in-memory test
# database only answers "table is locked").
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgresql_only")]

CLICKS = 10


def _outcomes(results):
    done = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    other = [r for r in results if isinstance(r, Exception) and not isinstance(r, ValidationError)]
    assert other == [], other
    return done, refused


def _load(pk):
    # Each click loads the row as the page showed it, before any of them commits.
    return lambda i: Authorization.objects.get(pk=pk)


def _events(action):
    return AuditEvent.objects.filter(action=action).count()


def test_ten_simultaneous_revokes_give_one_revocation(anna, bram, org, service_eh2, mailoutbox):
    authorization = AuthorizationFactory(user=bram, organization=org, service=service_eh2)
    results = run_simultaneously(
        lambda a: authorization_revoke(actor=anna, authorization=a), count=CLICKS, prepare=_load(authorization.pk)
    )
    done, refused = _outcomes(results)
    assert len(done) == 1
    assert len(refused) == CLICKS - 1
    assert {e.messages[0] for e in refused} == {"This authorization was already revoked."}
    stored = Authorization.objects.get(pk=authorization.pk)
    assert stored.revoked_at == done[0].revoked_at
    assert _events("authorization.revoke") == 1
    assert len(mailoutbox) == 1
    assert audit_chain_broken_at() is None


@pytest.mark.parametrize("years", [1, 5])
def test_ten_simultaneous_renewals_extend_once(anna, bram, org, service_eh2, years):
    authorization = AuthorizationFactory(user=bram, organization=org, service=service_eh2, expiring=True)
    end = authorization.valid_until
    results = run_simultaneously(
        lambda a: authorization_renew(actor=anna, authorization=a, years=years),
        count=CLICKS,
        prepare=_load(authorization.pk),
    )
    done, refused = _outcomes(results)
    assert len(done) == 1
    assert len(refused) == CLICKS - 1
    assert Authorization.objects.get(pk=authorization.pk).valid_until == end + relativedelta(years=years)
    assert _events("authorization.renew") == 1
    assert audit_chain_broken_at() is None


def test_ten_simultaneous_reactivations_give_one_new_period(anna, bram, org, service_eh2):
    authorization = AuthorizationFactory(user=bram, organization=org, service=service_eh2, expired=True)
    results = run_simultaneously(
        lambda a: authorization_reactivate(actor=anna, authorization=a, years=1),
        count=CLICKS,
        prepare=_load(authorization.pk),
    )
    done, refused = _outcomes(results)
    assert len(done) == 1
    assert len(refused) == CLICKS - 1
    stored = Authorization.objects.get(pk=authorization.pk)
    assert stored.valid_from == timezone.localdate()
    assert _events("authorization.reactivate") == 1


def test_ten_simultaneous_links_give_one_membership(support, daan, org):
    results = run_simultaneously(lambda i: membership_link(actor=support, user=daan, organization=org), count=CLICKS)
    done, refused = _outcomes(results)
    assert len(done) == 1
    assert len(refused) == CLICKS - 1
    assert {e.messages[0] for e in refused} == {f"{daan} is already linked to Voorbeeld BV 1."}
    assert Membership.objects.filter(user=daan, organization=org).count() == 1
    assert _events("membership.link") == 1
    assert audit_chain_broken_at() is None


def test_revoke_and_renew_at_once_leave_it_revoked(anna, support, bram, org, service_eh2):
    authorization = AuthorizationFactory(user=bram, organization=org, service=service_eh2, expiring=True)

    def act(a):
        if a.clicked % 2:
            return authorization_revoke(actor=support, authorization=a)
        return authorization_renew(actor=anna, authorization=a, years=1)

    def prepare(i):
        a = Authorization.objects.get(pk=authorization.pk)
        a.clicked = i
        return a

    results = run_simultaneously(act, count=CLICKS, prepare=prepare)
    _outcomes(results)
    stored = Authorization.objects.get(pk=authorization.pk)
    assert stored.status == "revoked"
    assert _events("authorization.revoke") == 1
    assert _events("authorization.renew") <= 1


def test_ten_simultaneous_grants_of_the_same_authorization_give_one(anna, bram, org, service_eh2):
    from authorizations.services import authorization_grant

    results = run_simultaneously(
        lambda i: authorization_grant(
            actor=anna, user=bram, organization=org, level="EH2", scope="service", service=service_eh2, years=1
        ),
        count=CLICKS,
    )
    done, refused = _outcomes(results)
    assert len(done) == 1
    assert len(refused) == CLICKS - 1
    assert {e.messages[0] for e in refused} == {f"{bram} already has this authorization in force."}
    assert Authorization.objects.filter(user=bram, organization=org, service=service_eh2).count() == 1
    assert _events("authorization.grant") == 1
