"""The email outbox and the ledger of renewal reminders.

Every email is first a row here, rendered at queue time in the recipient's
language; a task delivers it later. A reminder is first a row in the ledger,
whose unique key makes "each reminder exactly once" a database fact.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboxEmail(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=64)
    to = models.CharField(_("to"), max_length=254, blank=True)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outbox_emails",
    )
    language = models.CharField(_("language"), max_length=8)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body_text = models.TextField(_("text body"), blank=True)
    body_html = models.TextField(_("HTML body"), blank=True)
    # What, for whom, which occasion: a second email_queue() with the same key inserts nothing.
    dedupe_key = models.CharField(_("dedupe key"), max_length=200, unique=True, null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    resends = models.PositiveIntegerField(_("resends"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbox email")
        verbose_name_plural = _("outbox")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The delivery sweep walks pending rows in order of their next attempt; small, since
            # sent rows leave it.
            models.Index(fields=["next_attempt_at", "id"], name="outbox_pending_next", condition=Q(status="pending")),
            # For the admin's status filter; kept to one index, as the reminder job inserts in bulk.
            models.Index(fields=["status", "-created_at"], name="outbox_status_created"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["pending", "sent", "failed"]), name="outbox_status_known"),
            models.CheckConstraint(
                condition=Q(status="sent", sent_at__isnull=False) | (~Q(status="sent") & Q(sent_at__isnull=True)),
                name="outbox_sent_at_iff_sent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.to or '?'} ({self.get_status_display()})"

    @property
    def message_id(self) -> str:
        """Stable per delivery, so a receiving server can drop a duplicate after a crash mid-send.

        The creation time (microseconds) keeps ids unique across databases that reuse row ids.
        """
        domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(" >") or "reconi.example"
        stamp = f"{self.created_at:%Y%m%d%H%M%S%f}" if self.created_at else "0"
        return f"<outbox.{self.pk}.{self.resends}.{stamp}@{domain}>"


class DeliveryAttempt(models.Model):
    """One try to hand an email to the SMTP server: when, how it ended, what the server said.

    Written in its own transaction before the SMTP session starts, so that an attempt whose
    worker or database connection died mid-send stays visible (outcome "interrupted"): if
    the email then arrives twice, the outbox shows why.
    """

    class Outcome(models.TextChoices):
        STARTED = "started", _("In progress")
        SENT = "sent", _("Accepted by the server")
        RETRY = "retry", _("Temporary failure, will retry")
        FAILED = "failed", _("Permanent failure")
        INTERRUPTED = "interrupted", _("Interrupted, outcome unknown")

    email = models.ForeignKey(
        OutboxEmail, verbose_name=_("email"), on_delete=models.PROTECT, related_name="delivery_attempts"
    )
    number = models.PositiveIntegerField(_("attempt"))
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome, default=Outcome.STARTED)
    smtp_code = models.PositiveSmallIntegerField(_("SMTP code"), null=True, blank=True)
    smtp_reply = models.TextField(_("server reply or error"), blank=True)
    worker = models.CharField(_("worker"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["email", "started_at", "id"]
        indexes = [
            # Possible duplicates for the admin and /healthz; few rows.
            models.Index(
                fields=["email"], name="attempt_unfinished", condition=Q(outcome__in=["started", "interrupted"])
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=["started", "sent", "retry", "failed", "interrupted"]),
                name="attempt_outcome_known",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.get_outcome_display()}"


class OutboxAttachment(models.Model):
    """Stored with the row, so a signed PDF survives every retry and a resend."""

    email = models.ForeignKey(
        OutboxEmail, verbose_name=_("email"), on_delete=models.CASCADE, related_name="attachments"
    )
    filename = models.CharField(_("file name"), max_length=200)
    mimetype = models.CharField(_("MIME type"), max_length=100, default="application/pdf")
    content = models.BinaryField(_("content"))

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["email", "id"]

    def __str__(self) -> str:
        return self.filename


class RenewalReminder(models.Model):
    """One reminder (rule 14): this object, this expiry date, this stage. Never twice.

    A renewal moves ``valid_until`` and so makes a new key: the next round is armed.
    """

    class Target(models.TextChoices):
        AUTHORIZATION = "authorization", _("Authorization")
        MEANS = "means", _("Means")

    class Stage(models.TextChoices):
        # Ordered from far to near; the value is part of the key.
        TWO_MONTHS = "2m", _("Two months before")
        ONE_MONTH = "1m", _("One month before")
        ONE_WEEK = "1w", _("One week before")

    key = models.CharField(_("key"), max_length=200, unique=True)
    target = models.CharField(_("target"), max_length=20, choices=Target)
    object_id = models.BigIntegerField(_("object id"))
    valid_until = models.DateField(_("valid until"))
    stage = models.CharField(_("stage"), max_length=2, choices=Stage)
    # The run that claimed it: how a run tells its own claims from a concurrent run's.
    run = models.UUIDField(_("run"), db_index=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("renewal reminder")
        verbose_name_plural = _("renewal reminders")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["target", "object_id", "valid_until", "stage"], name="reminder_once_per_stage"
            ),
        ]

    def __str__(self) -> str:
        return self.key

    @staticmethod
    def make_key(target: str, object_id: int, valid_until, stage: str) -> str:
        return f"reminder:{target}:{object_id}:{valid_until.isoformat()}:{stage}"
