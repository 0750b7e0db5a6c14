"""Sending email. Every email of the portal goes through the outbox.

``email_queue`` renders ``notifications/email/<kind>_subject.txt``, ``<kind>_body.txt``
and ``<kind>_body.html`` in the recipient's language, stores the result as an
``OutboxEmail`` row (with its attachments) in the caller's transaction, and asks
for delivery only after that transaction commits: a rolled back change sends
nothing. Delivery claims a row under a row lock, so two workers never send the
same row; an SMTP failure leaves it pending for a later attempt.

``email_queue_many`` queues a batch with one insert (the renewal reminders of
``authorizations.reminders``).
"""

import contextlib
import datetime
import logging
import smtplib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.services import audit_record
from reconi.bulk import insert_ignoring_conflicts

from .models import OutboxAttachment, OutboxEmail

logger = logging.getLogger("reconi.notifications")

Status = OutboxEmail.Status


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
        from .rendering import ShapeRenderer

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
        transaction.on_commit(partial(_schedule_delivery, email.pk), robust=True)
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

    Each email is rendered once per shape (``notifications.rendering``); ``fast=False``
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
        transaction.on_commit(_schedule_flush, robust=True)
    return len(rows) - failed, failed


def _schedule_delivery(email_id: int) -> None:
    # robust on_commit: if the broker is down the row stays pending and the sweep sends it.
    from .tasks import email_deliver_task

    email_deliver_task.delay(email_id)


def _schedule_flush() -> None:
    from .tasks import outbox_flush_task

    outbox_flush_task.delay()


# Delivery ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryResult:
    status: str  # "sent", "failed", "retry" or "skipped"
    retry_in: int | None = None
    # The server is unreachable: pointless to try the rest of a batch now.
    server_down: bool = False


SKIPPED = DeliveryResult("skipped")


def _backoff(attempts: int) -> int:
    base = _setting("NOTIFICATIONS_RETRY_BACKOFF", 60)
    return min(base * 2 ** max(attempts - 1, 0), _setting("NOTIFICATIONS_RETRY_BACKOFF_MAX", 1800))


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


def _deliver_locked(email: OutboxEmail, connection) -> DeliveryResult:
    """Send a row the caller holds locked and save the outcome in the caller's transaction.

    If the process dies between the SMTP hand-over and the commit, the row is sent
    again with the same Message-ID (at least once); no outcome is lost.
    """
    now = timezone.now()
    email.attempts += 1
    problem = _undeliverable(email)
    if problem:
        email.status, email.last_error = Status.FAILED, problem
        email.save(update_fields=["status", "last_error", "attempts"])
        return DeliveryResult("failed")
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
        email.last_error = f"{now:%Y-%m-%d %H:%M:%S} {exc.__class__.__name__}: {exc}"[:2000]
        if permanent or email.attempts >= _setting("NOTIFICATIONS_MAX_ATTEMPTS", 10):
            email.status = Status.FAILED
            email.save(update_fields=["status", "last_error", "attempts"])
            logger.warning("Outbox: email %s failed for good: %s", email.pk, email.last_error)
            return DeliveryResult("failed", server_down=server_down)
        retry_in = _backoff(email.attempts)
        email.next_attempt_at = now + datetime.timedelta(seconds=retry_in)
        email.save(update_fields=["last_error", "attempts", "next_attempt_at"])
        logger.info("Outbox: email %s will be retried in %ss: %s", email.pk, retry_in, email.last_error)
        if server_down:
            _close(connection)
        return DeliveryResult("retry", retry_in=retry_in, server_down=server_down)
    email.status, email.sent_at = Status.SENT, now
    email.save(update_fields=["status", "sent_at", "attempts"])
    return DeliveryResult("sent")


def _close(connection) -> None:
    try:
        connection.close()
    except (smtplib.SMTPException, OSError):  # already gone; the outcome is saved
        logger.debug("Outbox: closing the mail connection failed", exc_info=True)


def email_deliver(*, email_id: int) -> DeliveryResult:
    """Deliver one row if it is still pending and no other worker holds it."""
    connection = get_connection()
    try:
        with transaction.atomic():
            email = (
                OutboxEmail.objects.select_for_update(skip_locked=True)
                .filter(pk=email_id, status=Status.PENDING)
                .first()
            )
            if email is None:
                return SKIPPED
            return _deliver_locked(email, connection)
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
    """Deliver pending rows that are due, oldest first, one row lock and one commit per row.

    Workers running this side by side share the work: each skips rows another holds.
    Candidates are read in pages by id (keyset), so the index entries of rows sent a
    moment ago are not walked again for every row.
    """
    result = FlushResult()
    now = timezone.now()
    connection = get_connection()
    last_id = 0
    try:
        while limit is None or result.processed < limit:
            page = list(
                OutboxEmail.objects.filter(status=Status.PENDING, next_attempt_at__lte=now, pk__gt=last_id)
                .order_by("pk")
                .values_list("pk", flat=True)[:200]
            )
            if not page:
                break
            last_id = page[-1]
            for email_id in page:
                with transaction.atomic():
                    email = (
                        OutboxEmail.objects.select_for_update(skip_locked=True)
                        .filter(pk=email_id, status=Status.PENDING, next_attempt_at__lte=now)
                        .first()
                    )
                    if email is None:  # another worker has it, or just sent or postponed it
                        continue
                    outcome = _deliver_locked(email, connection)
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
    transaction.on_commit(partial(_schedule_delivery, email.pk), robust=True)
    return email
