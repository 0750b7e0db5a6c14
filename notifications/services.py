"""Sending email. Every email of the portal goes through the outbox.

``email_queue`` renders ``notifications/email/<kind>_subject.txt``, ``<kind>_body.txt``
and ``<kind>_body.html`` in the recipient's language, stores the result as an
``OutboxEmail`` row (with its attachments) in the caller's transaction, and asks
for delivery only after that transaction commits: a rolled back change sends
nothing. Delivery leases a row and records each attempt (see "Delivery" below), so
two workers never send the same row at once and every try is visible; an SMTP
failure leaves the row pending for a later attempt, however long the outage lasts.

``email_queue_many`` queues a batch with one insert (the renewal reminders of
``authorizations.reminders``).
"""

import contextlib
import dataclasses
import datetime
import logging
import os
import smtplib
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.services import audit_record
from reconi.bulk import insert_ignoring_conflicts

from .models import DeliveryAttempt, OutboxAttachment, OutboxEmail

logger = logging.getLogger("reconi.notifications")

Status = OutboxEmail.Status
Attempt = DeliveryAttempt.Outcome


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str = "application/pdf"


def _setting(name: str, default):
    return getattr(settings, name, default)


def recipient_language(to) -> str:
    """The language an email to ``to`` (a user, a representative or an address) is written in."""
    return getattr(to, "language", None) or settings.LANGUAGE_CODE


def _recipient(to) -> tuple[str, object | None, str]:
    """(address, user or None, language) of a User, a Representative-like object or a plain address."""
    if isinstance(to, str):
        return to.strip(), None, settings.LANGUAGE_CODE
    user = to if isinstance(to, get_user_model()) else None
    return (getattr(to, "email", "") or "").strip(), user, recipient_language(to)


def _language(language: str):
    # Switching languages costs more than rendering a short template: skip it when already there.
    return contextlib.nullcontext() if translation.get_language() == language else translation.override(language)


def _template_names(kind: str) -> list[str]:
    return [f"notifications/email/{kind}_{part}" for part in ("subject.txt", "body.txt", "body.html")]


def _render_templates(kind: str, language: str, context: dict) -> tuple[str, str, str]:
    with _language(language):
        return tuple(render_to_string(name, context) for name in _template_names(kind))


def _finish(rendered: tuple[str, str, str]) -> tuple[str, str, str]:
    """The subject on one line (a header), at most 300 characters."""
    subject, text, html = rendered
    return " ".join(subject.split())[:300], text, html


def email_render(*, kind: str, language: str, context: dict, renderer=None) -> tuple[str, str, str]:
    """Subject, text and HTML body of one email. ``renderer`` (from ``ShapeRenderers``) renders many faster."""
    context = {"base_url": settings.PORTAL_BASE_URL, **context}
    if renderer is not None:
        return _finish(renderer(context))
    return _finish(_render_templates(kind, language, context))


class ShapeRenderers(dict):
    """One ``ShapeRenderer`` per (kind, language), for a job that renders thousands of emails of few kinds."""

    def __missing__(self, key):
        from reconi.rendering import ShapeRenderer

        kind, language = key
        renderer = self[key] = ShapeRenderer(partial(_render_templates, kind, language), _template_names(kind))
        return renderer


def _email_build(
    *, kind: str, to, context: dict, dedupe_key: str | None, language: str | None, renderers=None
) -> OutboxEmail:
    """An unsaved row: rendered, or failed with the reason. Never raises for bad input."""
    address, user, default_language = _recipient(to)
    language = language or default_language
    email = OutboxEmail(kind=kind, to=address, recipient=user, language=language, dedupe_key=dedupe_key)
    if not address:
        email.status = Status.FAILED
        email.last_error = "No email address for the recipient."
        logger.error("Outbox: %s has no address (%s)", kind, dedupe_key)
    try:
        email.subject, email.body_text, email.body_html = email_render(
            kind=kind,
            language=language,
            context={"recipient": to, **context},
            renderer=renderers[kind, language] if renderers is not None else None,
        )
    except Exception as exc:  # noqa: BLE001 - a broken template fails its row, not the caller or the batch
        email.status = Status.FAILED
        email.last_error = f"Rendering failed: {exc.__class__.__name__}: {exc}"
        logger.exception("Outbox: rendering %s failed", kind)
    return email


def email_queue(
    *,
    kind: str,
    to,
    context: dict,
    dedupe_key: str | None = None,
    attachments: Iterable[Attachment] = (),
    language: str | None = None,
) -> OutboxEmail | None:
    """Queue one email; None when ``dedupe_key`` was queued before (nothing is inserted)."""
    if dedupe_key and OutboxEmail.objects.filter(dedupe_key=dedupe_key).exists():
        return None
    email = _email_build(kind=kind, to=to, context=context, dedupe_key=dedupe_key, language=language)
    try:
        # A savepoint: losing a race on the dedupe key must not break the caller's transaction.
        with transaction.atomic():
            email.save()
            OutboxAttachment.objects.bulk_create(
                OutboxAttachment(email=email, filename=a.filename, mimetype=a.mimetype, content=bytes(a.content))
                for a in attachments
            )
    except IntegrityError:
        if dedupe_key and OutboxEmail.objects.filter(dedupe_key=dedupe_key).exists():
            return None
        raise
    if email.status == Status.PENDING:
        publish_on_commit(_deliver_task(), email.pk)
    return email


@dataclass(frozen=True)
class EmailSpec:
    """One email for ``email_queue_many``."""

    kind: str
    to: object
    context: dict
    dedupe_key: str


def email_queue_many(*, emails: Iterable[EmailSpec], fast: bool = True) -> tuple[int, int]:
    """Queue many emails with one insert; a dedupe key queued before is skipped. Returns (queued, failed).

    Each email is rendered once per shape (``reconi.rendering``); ``fast=False``
    renders each in full and inserts through the ORM (the benchmark's comparison).
    Callers that switch to each recipient language once, around a group, save a
    language switch per email.
    """
    renderers = ShapeRenderers() if fast else None
    rows = [
        _email_build(
            kind=spec.kind,
            to=spec.to,
            context=spec.context,
            dedupe_key=spec.dedupe_key,
            language=None,
            renderers=renderers,
        )
        for spec in emails
    ]
    if fast:
        insert_ignoring_conflicts(OutboxEmail, rows)
    else:
        OutboxEmail.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    failed = sum(1 for email in rows if email.status == Status.FAILED)
    if len(rows) > failed:
        publish_on_commit(_flush_task())
    return len(rows) - failed, failed


def _deliver_task():
    from .tasks import email_deliver_task

    return email_deliver_task


def _flush_task():
    from .tasks import outbox_flush_task

    return outbox_flush_task


# Putting work on the broker after a commit -------------------------------------------------------

# After a failed publish, this process leaves the broker alone for a while: a request that
# queues ten emails pays for at most one timeout, and the requests after it for none.
_broker_unreachable_until = 0.0


def broker_publish(task, *args) -> bool:
    """Put ``task(*args)`` on the broker, or leave the work to the outbox sweep. Never raises.

    The change that queued the work is committed; whatever the broker does (refused,
    frozen, gone) must not turn it into an error page. One attempt, bounded by the
    broker's socket timeouts (CELERY_BROKER_TRANSPORT_OPTIONS); rows that stay pending
    are delivered by the sweep (``outbox_flush``, every minute) once it runs.
    """
    global _broker_unreachable_until
    eager = task.app.conf.task_always_eager
    if not eager and time.monotonic() < _broker_unreachable_until:
        logger.warning("Broker marked unreachable: %s(%s) left to the outbox sweep", task.name, args)
        return False
    try:
        task.apply_async(args, retry=False)
    except Exception:  # noqa: BLE001 - kombu, redis and socket errors alike: the sweep catches up
        if not eager:
            _broker_unreachable_until = time.monotonic() + _setting("NOTIFICATIONS_BROKER_PAUSE", 30)
        logger.warning("Publishing %s(%s) failed; the outbox sweep will do it", task.name, args, exc_info=True)
        return False
    return True


def broker_reset() -> None:
    """Forget an earlier publish failure (tests, or an operator who fixed the broker)."""
    global _broker_unreachable_until
    _broker_unreachable_until = 0.0


def publish_on_commit(task, *args) -> None:
    """Publish ``task(*args)`` once the current transaction commits; nothing when it rolls back.

    The hook is a named function that catches its own errors (``broker_publish`` never
    raises), so it can neither skip the other hooks of the commit nor break Django's
    error logging, which needs the callable's ``__qualname__`` (a ``functools.partial``
    has none).
    """

    def publish_after_commit() -> None:
        broker_publish(task, *args)

    publish_after_commit.__qualname__ = f"publish_after_commit[{task.name}]"
    transaction.on_commit(publish_after_commit, robust=True)


# Delivery ----------------------------------------------------------------------------------------
#
# At least once, with a stable Message-ID. A delivery is three steps:
#   1. claim (one short transaction): lock the pending row, count the attempt, lease the row
#      (next_attempt_at = now + lease) and write a DeliveryAttempt "started";
#   2. hand the message to the SMTP server, holding no database lock or transaction;
#   3. record the outcome (one short transaction): the attempt's outcome and SMTP reply, the
#      row's status or its next attempt (capped exponential backoff, never given up for an
#      outage; only a permanent 5xx refusal fails a row).
# A worker or database connection that dies between the server's "250" and step 3 leaves
# an attempt "started"; after the lease the row is sent again with the same Message-ID and
# the dead attempt shows as "interrupted". That window (the server's reply to the end of
# step 3, milliseconds) is the only way to a duplicate, and every duplicate is visible.


@dataclass(frozen=True)
class DeliveryResult:
    status: str  # "sent", "failed", "retry", "waiting" (leased or not due) or "skipped"
    retry_in: float | None = None
    # The server is unreachable: pointless to try the rest of a batch now.
    server_down: bool = False


SKIPPED = DeliveryResult("skipped")


def _backoff(attempts: int) -> float:
    """Seconds until the next attempt: doubling from NOTIFICATIONS_RETRY_BACKOFF, capped."""
    base = _setting("NOTIFICATIONS_RETRY_BACKOFF", 60)
    cap = _setting("NOTIFICATIONS_RETRY_BACKOFF_MAX", 3600)
    return min(base * 2 ** min(max(attempts - 1, 0), 30), cap)


def _lease() -> float:
    # Longer than any SMTP session can take (EMAIL_TIMEOUT bounds each of its few steps).
    return _setting("NOTIFICATIONS_DELIVERY_LEASE", 300)


def _classify(exc: Exception) -> tuple[bool, bool]:
    """(permanent, server_down) for a sending error."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _message in exc.recipients.values()), False
    if isinstance(exc, smtplib.SMTPDataError):
        return exc.smtp_code >= 500, False
    if isinstance(exc, ValueError | UnicodeError):  # an address Django cannot even encode
        return True, False
    # Disconnects, refused connections, timeouts, authentication: the server, not the message.
    return False, True


def _smtp_code(exc: Exception) -> int | None:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return max((code for code, _message in exc.recipients.values()), default=None)
    return getattr(exc, "smtp_code", None)


def _message(email: OutboxEmail, connection) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        email.subject,
        email.body_text,
        settings.DEFAULT_FROM_EMAIL,
        [email.to],
        connection=connection,
        headers={"Message-ID": email.message_id, "Auto-Submitted": "auto-generated"},
    )
    if email.body_html:
        message.attach_alternative(email.body_html, "text/html")
    for attachment in email.attachments.all():
        message.attach(attachment.filename, bytes(attachment.content), attachment.mimetype)
    return message


def _undeliverable(email: OutboxEmail) -> str:
    if not email.to:
        return "No email address for the recipient."
    if not (email.subject and email.body_text):
        return "Nothing to send: the email could not be rendered."
    return ""


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


def _claim_row(
    email_id: int, now: datetime.datetime
) -> tuple[OutboxEmail | None, DeliveryAttempt | None, DeliveryResult]:
    """Step 1: lease a pending, due row and record the attempt; or say why not."""
    with transaction.atomic():
        email = OutboxEmail.objects.select_for_update(skip_locked=True).filter(pk=email_id).first()
        if email is None or email.status != Status.PENDING:
            return None, None, SKIPPED  # another worker holds it, or it is no longer pending
        if email.next_attempt_at > now:
            return None, None, DeliveryResult("waiting", retry_in=(email.next_attempt_at - now).total_seconds())
        # An attempt still "started" past its lease died mid-send: its outcome is unknown.
        email.delivery_attempts.filter(outcome=Attempt.STARTED).update(outcome=Attempt.INTERRUPTED)
        email.attempts += 1
        email.next_attempt_at = now + datetime.timedelta(seconds=_lease())
        email.save(update_fields=["attempts", "next_attempt_at"])
        attempt = DeliveryAttempt.objects.create(
            email=email, number=email.attempts, started_at=now, worker=_worker_name()
        )
    return email, attempt, DeliveryResult("claimed")


def _send(email: OutboxEmail, connection) -> tuple[str, int | None, str, bool]:
    """Step 2: (outcome, SMTP code, reply or error, server_down). No database writes."""
    problem = _undeliverable(email)
    if problem:
        return Attempt.FAILED, None, problem, False
    try:
        if isinstance(connection, SMTPBackend):
            connection.open()  # one SMTP session for a whole batch
        else:
            connection = get_connection()  # the file backend: one file per email, not per batch
        sent = _message(email, connection).send()
        if not sent:
            raise ValueError("The backend accepted no recipient.")
    except (smtplib.SMTPException, OSError, ValueError, UnicodeError) as exc:
        permanent, server_down = _classify(exc)
        if server_down:
            _close(connection)
        reply = f"{exc.__class__.__name__}: {exc}"[:2000]
        return (Attempt.FAILED if permanent else Attempt.RETRY), _smtp_code(exc), reply, server_down
    code, reply = getattr(getattr(connection, "connection", None), "last_data_reply", None) or (250, "")
    return Attempt.SENT, code, reply or "accepted", False


def _record(email: OutboxEmail, attempt: DeliveryAttempt, outcome: str, code: int | None, reply: str) -> DeliveryResult:
    """Step 3: the attempt's outcome and the row's new state, in one transaction."""
    now = timezone.now()
    with transaction.atomic():
        row = OutboxEmail.objects.select_for_update().get(pk=email.pk)
        DeliveryAttempt.objects.filter(pk=attempt.pk).update(
            outcome=outcome, finished_at=now, smtp_code=code, smtp_reply=reply
        )
        if row.status != Status.PENDING:  # a later attempt, after this one's lease, got there first
            return DeliveryResult(row.status)
        if outcome == Attempt.SENT:
            row.status, row.sent_at = Status.SENT, now
            row.save(update_fields=["status", "sent_at"])
            return DeliveryResult("sent")
        row.last_error = f"{now:%Y-%m-%d %H:%M:%S} {reply}"[:2000]
        if outcome == Attempt.FAILED:
            row.status = Status.FAILED
            row.save(update_fields=["status", "last_error"])
            logger.warning("Outbox: email %s failed for good: %s", row.pk, row.last_error)
            return DeliveryResult("failed")
        retry_in = _backoff(row.attempts)
        row.next_attempt_at = now + datetime.timedelta(seconds=retry_in)
        row.save(update_fields=["last_error", "next_attempt_at"])
    logger.info("Outbox: email %s will be retried in %ss: %s", email.pk, retry_in, reply)
    return DeliveryResult("retry", retry_in=retry_in)


def _deliver(email_id: int, connection, now: datetime.datetime) -> DeliveryResult:
    email, attempt, claim = _claim_row(email_id, now)
    if email is None:
        return claim
    outcome, code, reply, server_down = _send(email, connection)
    result = _record(email, attempt, outcome, code, reply)
    return dataclasses.replace(result, server_down=server_down)


def _close(connection) -> None:
    try:
        connection.close()
    except (smtplib.SMTPException, OSError):  # already gone; the outcome is saved
        logger.debug("Outbox: closing the mail connection failed", exc_info=True)


def email_deliver(*, email_id: int) -> DeliveryResult:
    """Deliver one row if it is pending and due, and no other worker holds it."""
    connection = get_connection()
    try:
        return _deliver(email_id, connection, timezone.now())
    finally:
        _close(connection)


@dataclass
class FlushResult:
    sent: int = 0
    failed: int = 0
    retry: int = 0

    @property
    def processed(self) -> int:
        return self.sent + self.failed + self.retry


def outbox_flush(*, limit: int | None = None) -> FlushResult:
    """Deliver pending rows that are due, in order of their next attempt (then id).

    Workers running this side by side share the work: each skips rows another holds.
    Candidates are read in pages (keyset on next attempt and id), so rows handled a
    moment ago are not walked again. During an outage the first unreachable server stops
    the batch, and the row it tried moves to the back of the queue (its backoff): the
    next sweep tries the row whose turn it is, not the oldest row again.
    """
    result = FlushResult()
    now = timezone.now()
    connection = get_connection()
    after = None
    try:
        while limit is None or result.processed < limit:
            candidates = OutboxEmail.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
            if after is not None:
                candidates = candidates.filter(
                    Q(next_attempt_at__gt=after[0]) | Q(next_attempt_at=after[0], pk__gt=after[1])
                )
            page = list(candidates.order_by("next_attempt_at", "pk").values_list("next_attempt_at", "pk")[:200])
            if not page:
                break
            after = page[-1]
            for _due, email_id in page:
                outcome = _deliver(email_id, connection, now)
                if outcome.status not in ("sent", "failed", "retry"):
                    continue  # another worker has it, or just sent or postponed it
                setattr(result, outcome.status, getattr(result, outcome.status) + 1)
                if outcome.server_down or (limit is not None and result.processed >= limit):
                    return result
    finally:
        _close(connection)
    return result


@transaction.atomic
def email_resend(*, actor, email: OutboxEmail) -> OutboxEmail:
    """Support: send a failed or sent email (again). Attempts start over."""
    if not (actor.is_active and actor.is_staff and actor.has_perm("notifications.change_outboxemail")):
        raise PermissionDenied("Only support staff can resend an email.")
    email = OutboxEmail.objects.select_for_update().get(pk=email.pk)
    if email.status == Status.PENDING:
        return email
    if not (email.subject and email.body_text):
        raise ValidationError(
            _("This email could not be rendered (%(error)s); queue it anew instead.") % {"error": email.last_error},
            code="not_rendered",
        )
    previous = email.status
    email.status = Status.PENDING
    email.sent_at = None
    email.attempts = 0
    email.resends += 1
    email.next_attempt_at = timezone.now()
    email.save(update_fields=["status", "sent_at", "attempts", "resends", "next_attempt_at"])
    audit_record(
        actor=actor,
        action="email.resend",
        obj=email,
        data={"to": email.to, "kind": email.kind, "previous_status": previous},
    )
    publish_on_commit(_deliver_task(), email.pk)
    return email
