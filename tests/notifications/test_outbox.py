"""The outbox on the in-process path (no broker): queue, deliver, retry, fail, resend."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from notifications.models import OutboxEmail
from notifications.services import Attachment, email_deliver, email_queue, email_resend, outbox_flush
from tests.conftest import login

Status = OutboxEmail.Status
PDF = b"%PDF-1.7 signed form\n%%EOF"


def queue(user, key=None, **kwargs):
    return email_queue(
        kind="authorization_revoked",
        to=user,
        context={"authorization": kwargs.pop("authorization", None)},
        dedupe_key=key,
        **kwargs,
    )


@pytest.fixture
def revoked(bram, org, service_eh2):
    from tests.factories import AuthorizationFactory

    return AuthorizationFactory(user=bram, organization=org, service=service_eh2, revoked=True)


def test_queue_stores_a_rendered_row_and_sends_only_after_commit(bram, revoked, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        email = queue(bram, "k1", authorization=revoked)
    row = OutboxEmail.objects.get(pk=email.pk)
    assert (row.status, row.to, row.recipient, row.language) == (Status.PENDING, bram.email, bram, "nl")
    assert "Voorbeeld BV 1" in row.subject and "Voorbeeld BV 1" in row.body_text and "<p>" in row.body_html
    assert mail.outbox == []
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == [bram.email] and sent.subject == row.subject
    assert sent.alternatives[0][0] == row.body_html
    row.refresh_from_db()
    assert row.status == Status.SENT and row.sent_at is not None and row.attempts == 1


def test_email_is_rendered_in_the_recipients_language(bram, revoked):
    bram.language = "en"
    bram.save()
    english = queue(bram, "en", authorization=revoked)
    dutch = queue(bram, "nl", authorization=revoked, language="nl")
    assert english.language == "en" and dutch.language == "nl"
    assert english.subject == "Your authorization for Voorbeeld BV 1 was revoked"
    assert dutch.subject == "Uw machtiging voor Voorbeeld BV 1 is ingetrokken"
    assert "Dear Bram," in english.body_text


def test_same_dedupe_key_inserts_nothing_the_second_time(bram, revoked, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = queue(bram, "revoked:1", authorization=revoked)
        second = queue(bram, "revoked:1", authorization=revoked)
    assert first is not None and second is None
    assert OutboxEmail.objects.filter(dedupe_key="revoked:1").count() == 1
    assert len(mail.outbox) == 1


def test_rolled_back_transaction_queues_nothing(bram, revoked, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            queue(bram, "rolled-back", authorization=revoked)
            raise RuntimeError("the request failed")
    assert callbacks == []
    assert not OutboxEmail.objects.exists()
    assert mail.outbox == []


def test_attachments_are_stored_and_sent_with_every_attempt(smtp_settings, smtp_server, bram, revoked):
    smtp_settings.NOTIFICATIONS_RETRY_BACKOFF = 0
    email = queue(bram, authorization=revoked, attachments=(Attachment("form.pdf", PDF),))
    smtp_server.refuse_next = 1
    assert email_deliver(email_id=email.pk).status == "retry"
    assert email_deliver(email_id=email.pk).status == "sent"
    (message,) = smtp_server.messages
    (part,) = [p for p in message.walk() if p.get_filename() == "form.pdf"]
    assert part.get_content_type() == "application/pdf" and part.get_payload(decode=True) == PDF


def test_smtp_failure_leaves_the_row_pending_with_the_error_and_a_later_attempt(smtp_settings, smtp_server, bram):
    email = email_queue(kind="authorization_revoked", to=bram, context={"authorization": None})
    smtp_server.refuse_next = 1
    before = timezone.now()
    result = outbox_flush()
    email.refresh_from_db()
    assert (result.retry, result.sent) == (1, 0)
    assert email.status == Status.PENDING and email.attempts == 1
    assert "451" in email.last_error
    assert email.next_attempt_at >= before + datetime.timedelta(seconds=60)  # backoff
    assert outbox_flush().processed == 0  # not due yet
    assert smtp_server.messages == []


def test_smtp_server_down_then_back_delivers_every_email_once(settings, smtp_server, bram, pim, anna):
    settings.EMAIL_BACKEND = "reconi.mail.SMTPBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1  # nothing listens: connection refused
    settings.NOTIFICATIONS_RETRY_BACKOFF = 0
    emails = [email_queue(kind="authorization_revoked", to=u, context={}) for u in (bram, pim, anna)]
    result = outbox_flush()
    # The first refusal stops the batch: no point hammering a server that is down.
    assert (result.retry, result.sent) == (1, 0)
    assert OutboxEmail.objects.filter(status=Status.PENDING).count() == 3
    settings.EMAIL_PORT = smtp_server.port
    smtp_server.refuse_next = 1  # and one more hiccup on the way back
    outbox_flush()
    outbox_flush()
    assert sorted(smtp_server.message_ids()) == sorted(e.message_id for e in emails)
    assert set(OutboxEmail.objects.values_list("status", flat=True)) == {Status.SENT}
    assert outbox_flush().processed == 0


def test_template_error_fails_its_row_with_the_reason_and_the_rest_still_go_out(bram, pim):
    broken = email_queue(kind="no_such_kind", to=bram, context={})
    good = email_queue(kind="authorization_revoked", to=pim, context={})
    assert broken.status == Status.FAILED and "TemplateDoesNotExist" in broken.last_error
    result = outbox_flush()
    assert (result.sent, result.failed) == (1, 0)
    assert [m.to for m in mail.outbox] == [[pim.email]]
    good.refresh_from_db()
    assert good.status == Status.SENT


def test_missing_address_fails_its_row_and_the_rest_still_go_out(bram):
    no_address = email_queue(kind="authorization_revoked", to="", context={})
    assert no_address.status == Status.FAILED and "No email address" in no_address.last_error
    email_queue(kind="authorization_revoked", to=bram, context={})
    assert outbox_flush().sent == 1
    assert [m.to for m in mail.outbox] == [[bram.email]]


def test_recipient_refused_for_good_fails_the_row_and_the_batch_goes_on(smtp_settings, smtp_server, bram, pim):
    bad = email_queue(kind="authorization_revoked", to="nobody@", context={})
    email_queue(kind="authorization_revoked", to=pim, context={})
    result = outbox_flush()
    bad.refresh_from_db()
    assert bad.status == Status.FAILED and bad.last_error
    assert result.sent == 1 and smtp_server.messages[0]["To"] == pim.email


def test_an_outage_never_fails_a_row_and_every_attempt_is_recorded(smtp_settings, smtp_server, bram):
    # Far more refusals than the old budget of ten attempts: the row stays pending, then goes out.
    smtp_settings.NOTIFICATIONS_RETRY_BACKOFF = 0
    smtp_server.refuse_next = 25
    email = email_queue(kind="authorization_revoked", to=bram, context={})
    for _ in range(25):
        assert email_deliver(email_id=email.pk).status == "retry"
    assert email_deliver(email_id=email.pk).status == "sent"
    email.refresh_from_db()
    assert (email.status, email.attempts) == (Status.SENT, 26)
    attempts = list(email.delivery_attempts.values_list("number", "outcome", "smtp_code"))
    assert attempts == [(n, "retry", 451) for n in range(1, 26)] + [(26, "sent", 250)]
    last = email.delivery_attempts.last()
    assert last.finished_at >= last.started_at and last.smtp_reply and last.worker
    assert [m["Message-ID"] for m in smtp_server.messages] == [email.message_id]


def test_retries_back_off_exponentially_up_to_the_cap(smtp_settings, smtp_server, bram):
    smtp_settings.NOTIFICATIONS_RETRY_BACKOFF = 60
    smtp_settings.NOTIFICATIONS_RETRY_BACKOFF_MAX = 3600
    smtp_server.refuse_next = 9
    email = email_queue(kind="authorization_revoked", to=bram, context={})
    waits = []
    for _ in range(9):
        before = timezone.now()
        assert email_deliver(email_id=email.pk).status == "retry"
        email.refresh_from_db()
        waits.append(round((email.next_attempt_at - before).total_seconds() / 60))
        # The clock, compressed: the row's next attempt is now.
        OutboxEmail.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now())
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_a_permanent_refusal_fails_the_row_with_the_reply(smtp_settings, smtp_server, bram):
    email = email_queue(kind="authorization_revoked", to=bram, context={})
    smtp_server.refuse_permanently = True
    assert email_deliver(email_id=email.pk).status == "failed"
    email.refresh_from_db()
    assert email.status == Status.FAILED and "550" in email.last_error
    assert list(email.delivery_attempts.values_list("outcome", "smtp_code")) == [("failed", 550)]


def test_a_sent_row_is_never_sent_again(bram):
    email = email_queue(kind="authorization_revoked", to=bram, context={})
    assert email_deliver(email_id=email.pk).status == "sent"
    assert email_deliver(email_id=email.pk).status == "skipped"
    assert outbox_flush().processed == 0
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_flushing_at_once_send_each_row_once(smtp_settings, smtp_server):
    from tests.rules.conftest import run_simultaneously

    # Rows as email_queue leaves them, without its on-commit delivery (here every statement commits).
    OutboxEmail.objects.bulk_create(
        OutboxEmail(kind="test", to=f"user{i}@example.nl", language="nl", subject="Hello", body_text="Hi")
        for i in range(30)
    )
    results = run_simultaneously(lambda _: outbox_flush(), count=4)
    assert sum(r.sent for r in results) == 30
    ids = smtp_server.message_ids()
    assert len(ids) == len(set(ids)) == 30
    assert OutboxEmail.objects.filter(status=Status.SENT).count() == 30


def test_resend_puts_a_failed_row_back_and_delivers_it(support, bram, django_capture_on_commit_callbacks):
    email = email_queue(kind="authorization_revoked", to=bram, context={})
    OutboxEmail.objects.filter(pk=email.pk).update(status=Status.FAILED, last_error="550 no such user", attempts=3)
    with django_capture_on_commit_callbacks(execute=True):
        email_resend(actor=support, email=email)
    email.refresh_from_db()
    assert email.status == Status.SENT and email.resends == 1 and email.attempts == 1
    # A new Message-ID: a deliberate resend must not be dropped as a duplicate.
    expected_id = f"<outbox.{email.pk}.1.{email.created_at:%Y%m%d%H%M%S%f}@reconi.example>"
    assert mail.outbox[0].extra_headers["Message-ID"] == email.message_id == expected_id


def test_an_email_that_could_not_be_rendered_cannot_be_resent_empty(support, bram):
    from django.core.exceptions import ValidationError

    broken = email_queue(kind="no_such_kind", to=bram, context={})
    with pytest.raises(ValidationError):
        email_resend(actor=support, email=broken)
    assert OutboxEmail.objects.get(pk=broken.pk).status == Status.FAILED
    assert outbox_flush().processed == 0 and mail.outbox == []


def test_only_support_may_resend(anna, bram):
    from django.core.exceptions import PermissionDenied

    email = email_queue(kind="authorization_revoked", to=bram, context={})
    email_deliver(email_id=email.pk)
    with pytest.raises(PermissionDenied):
        email_resend(actor=anna, email=email)
    assert OutboxEmail.objects.get(pk=email.pk).resends == 0


def test_support_group_may_view_and_change_the_outbox_but_not_add_or_delete(db):
    permissions = set(Group.objects.get(name="Support").permissions.values_list("codename", flat=True))
    assert {"view_outboxemail", "change_outboxemail"} <= permissions
    assert not {"add_outboxemail", "delete_outboxemail"} & permissions


def test_support_sees_the_outbox_filters_it_and_resends_from_the_admin(
    client, support, bram, pim, django_capture_on_commit_callbacks
):
    failed = email_queue(kind="authorization_revoked", to=bram, context={})
    OutboxEmail.objects.filter(pk=failed.pk).update(status=Status.FAILED, last_error="550 5.1.1 mailbox unknown")
    other = email_queue(kind="authorization_revoked", to=pim, context={})
    login(client, support)
    changelist = reverse("admin:notifications_outboxemail_changelist")
    page = client.get(changelist, {"status": "failed"})
    assert page.status_code == 200
    assert bram.email in page.text and pim.email not in page.text
    assert "550 5.1.1 mailbox unknown" in page.text
    by_recipient = client.get(changelist, {"recipient": pim.email})
    assert pim.email in by_recipient.text and bram.email not in by_recipient.text
    searched = client.get(changelist, {"q": "pim"})
    assert pim.email in searched.text
    detail = client.get(reverse("admin:notifications_outboxemail_change", args=[other.pk]))
    assert detail.status_code == 200 and 'name="body_text"' not in detail.text  # read-only
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(changelist, {"action": "resend", "_selected_action": [failed.pk]})
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.resends == 1 and failed.status == Status.SENT
    assert [m.to for m in mail.outbox] == [[bram.email]]


def test_plain_users_cannot_open_the_outbox(client, anna):
    login(client, anna)
    response = client.get(reverse("admin:notifications_outboxemail_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_text_parts_are_not_html_escaped_but_the_html_part_is(bram, revoked):
    revoked.organization.name = "Jansen & Zn <BV>"
    revoked.organization.save()
    email = queue(bram, authorization=revoked)
    assert "Jansen & Zn <BV>" in email.subject and "Jansen & Zn <BV>" in email.body_text
    assert "Jansen &amp; Zn &lt;BV&gt;" in email.body_html
