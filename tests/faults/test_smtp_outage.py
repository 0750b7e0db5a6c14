"""An SMTP outage far longer than the old retry budget (10 attempts, about 2.5 hours) loses nothing.

A real SMTP server (aiosmtpd) on a free port is stopped; sweeps run on a compressed
clock (every pending row's next attempt moved two hours back between sweeps, which
keeps their order); the server comes back on the same port and every email arrives,
counted at the server. Support sees the backlog in the admin and monitoring in /healthz.
"""

import datetime

import pytest
from aiosmtpd.controller import Controller
from django.db.models import F
from django.urls import reverse

from notifications.models import DeliveryAttempt, OutboxEmail
from notifications.services import email_queue, outbox_flush
from tests.conftest import login
from tests.factories import UserFactory
from tests.notifications.conftest import SMTPHandler, free_port
from tests.test_admin import superuser  # noqa: F401 - fixture

Status = OutboxEmail.Status
SWEEPS = 60  # 5 emails: 12 attempts each, more than the old budget of 10


@pytest.fixture
def smtp_down(settings):
    handler = SMTPHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "reconi.mail.SMTPBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 5
    settings.NOTIFICATIONS_RETRY_BACKOFF = 60
    settings.NOTIFICATIONS_RETRY_BACKOFF_MAX = 3600
    controller.stop()

    class Outage:
        def end(self):
            self.controller = Controller(handler, hostname="127.0.0.1", port=port)
            self.controller.start()
            return handler

    outage = Outage()
    yield outage
    if hasattr(outage, "controller"):
        outage.controller.stop()


def test_an_outage_past_the_old_retry_budget_delivers_every_email_afterwards(client, smtp_down, superuser):  # noqa: F811
    emails = [email_queue(kind="authorization_revoked", to=UserFactory(), context={}) for _ in range(5)]
    for _ in range(SWEEPS):
        result = outbox_flush()
        assert (result.sent, result.failed, result.retry) == (0, 0, 1)  # one try, then the batch stops
        OutboxEmail.objects.filter(status=Status.PENDING).update(
            next_attempt_at=F("next_attempt_at") - datetime.timedelta(hours=2)
        )
    attempts = dict(OutboxEmail.objects.values_list("pk", "attempts"))
    print(f"\nattempts per email during the outage: {sorted(attempts.values())}")
    # Nothing given up; the sweep took the rows in turn (order of next attempt), not the oldest again.
    assert set(OutboxEmail.objects.values_list("status", flat=True)) == {Status.PENDING}
    assert sum(attempts.values()) == SWEEPS and min(attempts.values()) > 10
    assert set(DeliveryAttempt.objects.values_list("outcome", flat=True)) == {"retry"}

    # Monitoring and support see the backlog.
    detail = client.get(reverse("healthz")).json()["outbox"]
    assert detail["pending"] == 5 and detail["oldest_pending_age_seconds"] >= 0 and detail["failed"] == 0
    login(client, superuser)
    page = client.get(reverse("admin:notifications_outboxemail_changelist")).content.decode()
    assert "5 e-mails wachten op bezorging, de oudste sinds" in page

    server = smtp_down.end()
    OutboxEmail.objects.update(next_attempt_at=F("next_attempt_at") - datetime.timedelta(hours=2))
    assert outbox_flush().sent == 5
    print(f"emails counted at the SMTP server after the outage: {len(server.messages)}")
    assert sorted(server.message_ids()) == sorted(e.message_id for e in emails)
    assert set(OutboxEmail.objects.values_list("status", flat=True)) == {Status.SENT}
    assert client.get(reverse("healthz")).json()["outbox"]["pending"] == 0
