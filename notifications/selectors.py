"""Reads of the outbox, for support (admin) and monitoring (/healthz)."""

from django.db.models import Count, Min
from django.utils import timezone

from .models import DeliveryAttempt, OutboxEmail


def outbox_backlog() -> dict:
    """What waits in the outbox, for support (admin) and monitoring (/healthz). Three small queries.

    ``oldest_pending_age_seconds`` is the figure to alert on: during an SMTP outage it
    grows, and nothing is dropped, so it is also how long the outage has lasted.
    """
    now = timezone.now()
    pending = OutboxEmail.objects.filter(status=OutboxEmail.Status.PENDING).aggregate(
        count=Count("pk"), oldest=Min("created_at"), next_attempt=Min("next_attempt_at")
    )
    failed = OutboxEmail.objects.filter(status=OutboxEmail.Status.FAILED).count()
    interrupted = DeliveryAttempt.objects.filter(outcome=DeliveryAttempt.Outcome.INTERRUPTED).aggregate(
        count=Count("pk")
    )
    oldest = pending["oldest"]
    return {
        "pending": pending["count"],
        "oldest_pending_created_at": oldest.isoformat() if oldest else None,
        "oldest_pending_age_seconds": int((now - oldest).total_seconds()) if oldest else 0,
        "next_attempt_at": pending["next_attempt"].isoformat() if pending["next_attempt"] else None,
        "failed": failed,
        # Attempts whose worker died mid-send: each may have delivered a duplicate.
        "interrupted_attempts": interrupted["count"],
    }
