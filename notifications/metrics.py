"""What the outbox shows Prometheus at each scrape (registered with ``reconi.metrics`` in apps.ready)."""

from django.db.models import Count, Min, Q
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from .models import OutboxEmail


def outbox_gauges():
    """The outbox's backlog, retries, failures and oldest waiting email, for /metrics."""
    pending = Q(status=OutboxEmail.Status.PENDING)
    figures = OutboxEmail.objects.aggregate(
        # The partial index on pending rows and the (status, created) index keep these cheap.
        pending=Count("id", filter=pending),
        retrying=Count("id", filter=pending & Q(attempts__gt=0)),
        failed=Count("id", filter=Q(status=OutboxEmail.Status.FAILED)),
        oldest=Min("created_at", filter=pending),
    )
    backlog = GaugeMetricFamily("reconi_outbox_backlog", "Emails waiting in the outbox to be delivered.")
    backlog.add_metric([], figures["pending"])
    yield backlog
    retrying = GaugeMetricFamily(
        "reconi_outbox_retrying", "Waiting emails that failed at least once and will be tried again."
    )
    retrying.add_metric([], figures["retrying"])
    yield retrying
    failed = GaugeMetricFamily("reconi_outbox_failed", "Emails that failed for good (support can resend them).")
    failed.add_metric([], figures["failed"])
    yield failed
    age = GaugeMetricFamily(
        "reconi_outbox_oldest_pending_age_seconds", "Age of the oldest email still waiting; 0 when none waits."
    )
    oldest = figures["oldest"]
    age.add_metric([], (timezone.now() - oldest).total_seconds() if oldest else 0.0)
    yield age
