"""The same guarantees with the real Redis broker and real `celery worker` subprocesses.

Each test starts its worker(s) against the pytest database and a local SMTP server,
and checks what arrived at that server: every email exactly once.
"""

import time

import pytest
from django.db import transaction
from django.utils import timezone

from authorizations.tasks import renewal_reminders_task
from notifications.models import OutboxEmail
from notifications.services import email_queue
from tests.factories import AuthorizationFactory, UserFactory

from .conftest import days, wait_for

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]

Status = OutboxEmail.Status


def all_sent(count):
    def check():
        return OutboxEmail.objects.filter(status=Status.SENT).count() == count

    return check


def settle():
    """Give a wrongly duplicated delivery the time to show up."""
    time.sleep(1.5)


def test_a_reminder_arrives_exactly_once_even_with_two_runs_at_once(celery_worker, smtp_server, anna, bram, org):
    AuthorizationFactory(user=bram, organization=org, valid_until=days(20))
    celery_worker(pool="prefork", concurrency=2)
    results = [renewal_reminders_task.delay(), renewal_reminders_task.delay()]
    wait_for(lambda: len(smtp_server.messages) >= 2, message="the reminder emails")
    renewal_reminders_task.delay()  # and once more, later
    settle()
    assert sorted(m["X-Envelope-To"] for m in smtp_server.messages) == sorted([anna.email, bram.email])
    assert len(set(smtp_server.message_ids())) == 2
    assert OutboxEmail.objects.filter(status=Status.SENT).count() == 2
    assert all(r.id for r in results)


def test_smtp_failing_then_recovering_delivers_every_email_once(celery_worker, smtp_server, broker):
    users = [UserFactory() for _ in range(5)]
    smtp_server.refuse_next = 4  # the first four deliveries get "451 try again later"
    celery_worker(pool="prefork", concurrency=2)
    with transaction.atomic():
        emails = [email_queue(kind="authorization_revoked", to=user, context={}) for user in users]
    wait_for(all_sent(5), timeout=45, message="all emails delivered after the retries")
    settle()
    assert smtp_server.refused == 4
    assert sorted(smtp_server.message_ids()) == sorted(e.message_id for e in emails)
    attempts = list(OutboxEmail.objects.values_list("attempts", flat=True))
    assert sum(attempts) == 5 + 4 and max(attempts) > 1


def test_a_rolled_back_transaction_puts_nothing_on_the_broker(broker, bram):
    with pytest.raises(RuntimeError), transaction.atomic():
        email_queue(kind="authorization_revoked", to=bram, context={})
        raise RuntimeError("the request failed")
    assert not OutboxEmail.objects.exists()
    assert broker.llen("celery") == 0
    # The committed path does put the delivery on the broker (and nothing runs in-process).
    with transaction.atomic():
        email = email_queue(kind="authorization_revoked", to=bram, context={})
    assert broker.llen("celery") == 1
    assert OutboxEmail.objects.get(pk=email.pk).status == Status.PENDING


def outcomes(email):
    return list(email.delivery_attempts.values_list("outcome", flat=True))


def test_a_worker_killed_mid_task_loses_nothing(celery_worker, smtp_server, bram):
    smtp_server.hold = True  # the SMTP transfer hangs: the task is mid-delivery
    # prefork: the main process acknowledges while a child runs the task (the solo pool
    # cannot ack early while it is busy, so it would not tell late acks from early ones).
    worker = celery_worker(pool="prefork", concurrency=1)
    with transaction.atomic():
        email = email_queue(kind="authorization_revoked", to=bram, context={})
    wait_for(lambda: smtp_server.holding, message="the worker to be mid-delivery")
    worker.kill()
    smtp_server.hold = False  # the dead worker's transfer is never completed
    wait_for(lambda: not smtp_server.holding, message="the SMTP session to end")
    row = OutboxEmail.objects.get(pk=email.pk)
    # The claim outlives the worker: the row is leased, the attempt shows it started.
    assert (row.status, row.attempts) == (Status.PENDING, 1) and outcomes(row) == ["started"]
    assert smtp_server.messages == []
    started = timezone.now()
    # No beat, no sweep: only the unacknowledged message (late ack) can bring the email out.
    celery_worker(pool="solo", visibility_timeout=1)
    wait_for(all_sent(1), timeout=30, message="the redelivered task")
    settle()
    assert smtp_server.message_ids() == [email.message_id]
    row.refresh_from_db()
    assert row.sent_at >= started and outcomes(row) == ["interrupted", "sent"]


def test_a_worker_killed_after_the_server_accepted_leaves_a_visible_duplicate(celery_worker, smtp_server, bram):
    from notifications.selectors import outbox_backlog

    smtp_server.hold_after_accept = True  # stored at the server; the worker never hears "250"
    worker = celery_worker(pool="prefork", concurrency=1)
    with transaction.atomic():
        email = email_queue(kind="authorization_revoked", to=bram, context={})
    wait_for(lambda: smtp_server.holding, message="the server to hold its reply")
    worker.kill()
    smtp_server.hold_after_accept = False
    celery_worker(pool="solo", visibility_timeout=1)
    wait_for(all_sent(1), timeout=30, message="the redelivered task")
    settle()
    # At least once: the server got it twice, with the same Message-ID it can drop a copy by...
    assert smtp_server.message_ids() == [email.message_id, email.message_id]
    # ...and the outbox shows why: an attempt whose outcome is unknown, then the one that was sent.
    row = OutboxEmail.objects.get(pk=email.pk)
    assert outcomes(row) == ["interrupted", "sent"] and row.attempts == 2
    assert outbox_backlog()["interrupted_attempts"] == 1
