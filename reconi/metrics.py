"""Metrics in the Prometheus text format, served at /metrics.

Two kinds of figures:

- Counted in the process that does the work: HTTP requests per view (count and
  latency) and PDF signing time. With several gunicorn workers, prometheus_client's
  multiprocess mode adds up the workers' figures: set ``PROMETHEUS_MULTIPROC_DIR``
  (deploy/gunicorn.conf.py empties it at start and drops the files of dead workers).
- Read at scrape time, so that every web process answers the same: the outbox
  (backlog, age of the oldest waiting email, failed deliveries) from the database,
  the Celery queue length from the broker, and the last reminder run, which the
  worker that ran it leaves in the shared cache.
"""

import hmac
import ipaddress
import logging
import os
import time

from django.conf import settings
from django.core.cache import cache
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger("reconi.metrics")

REQUESTS = Counter(
    "reconi_http_requests",
    "HTTP requests answered, per URL name, method and status code.",
    ["view", "method", "status"],
)
REQUEST_LATENCY = Histogram(
    "reconi_http_request_duration_seconds",
    "Time to answer an HTTP request, per URL name.",
    ["view", "method"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SIGNING_LATENCY = Histogram(
    "reconi_pdf_signing_duration_seconds",
    "Time to add one PAdES signature to a PDF form.",
    buckets=(0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

REMINDER_RUN_CACHE_KEY = "reconi:metrics:reminder-run"
CONTENT_TYPE = CONTENT_TYPE_LATEST


def reminder_run_record(*, started: float, finished: float, due: int, claimed: int, queued: int, failed: int) -> None:
    """Called by the reminder task on the worker: /metrics on any web process reads it."""
    cache.set(
        REMINDER_RUN_CACHE_KEY,
        {
            "started": started,
            "finished": finished,
            "due": due,
            "claimed": claimed,
            "queued": queued,
            "failed": failed,
        },
        timeout=None,
    )


# Gauges the apps compute from their own tables (the outbox: notifications.apps), registered
# at start-up: this module sits below every app and reads none of their models.
_GAUGE_SOURCES: list = []


def gauges_register(source) -> None:
    """``source()`` yields prometheus metric families, computed at each scrape."""
    if source not in _GAUGE_SOURCES:
        _GAUGE_SOURCES.append(source)


class ScrapeTimeCollector:
    """Gauges computed when Prometheus asks: the same answer from every process."""

    def collect(self):
        for source in _GAUGE_SOURCES:
            yield from source()
        yield from self._reminders()
        yield from self._celery()

    def _reminders(self):
        run = cache.get(REMINDER_RUN_CACHE_KEY)
        if not run:
            return
        finished = GaugeMetricFamily(
            "reconi_reminder_last_run_timestamp_seconds", "When the last renewal reminder run finished (Unix time)."
        )
        finished.add_metric([], run["finished"])
        yield finished
        duration = GaugeMetricFamily(
            "reconi_reminder_last_run_duration_seconds", "How long the last renewal reminder run took."
        )
        duration.add_metric([], run["finished"] - run["started"])
        yield duration
        counts = GaugeMetricFamily(
            "reconi_reminder_last_run_items",
            "The last reminder run: reminders due, claimed by it, emails queued and emails failed.",
            labels=["what"],
        )
        for what in ("due", "claimed", "queued", "failed"):
            counts.add_metric([what], run[what])
        yield counts

    def _celery(self):
        url = settings.CELERY_BROKER_URL
        if not url.startswith(("redis://", "rediss://")):
            return
        import redis

        queue = getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery")
        # kombu's Redis transport keeps one list per priority step: "celery", "celery\x06\x163", ...
        keys = [queue] + [f"{queue}\x06\x16{step}" for step in range(1, 10)]
        gauge = GaugeMetricFamily(
            "reconi_celery_queue_length", "Tasks waiting on the broker for a worker.", labels=["queue"]
        )
        try:
            client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
            try:
                with client.pipeline(transaction=False) as pipe:
                    for key in keys:
                        pipe.llen(key)
                    gauge.add_metric([queue], sum(pipe.execute()))
            finally:
                client.close()
        except redis.RedisError:
            logger.warning("Metrics: the broker did not answer", exc_info=True)
            return
        yield gauge


def access_allowed(request) -> bool:
    """From an address in METRICS_ALLOWED_IPS (addresses or networks), or with METRICS_TOKEN as bearer token."""
    token = settings.METRICS_TOKEN
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip().encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(allowed, strict=False) for allowed in settings.METRICS_ALLOWED_IPS)


def render() -> bytes:
    """The text exposition of every metric: this process's (or all workers') and the scrape-time ones."""
    scrape = CollectorRegistry()
    scrape.register(ScrapeTimeCollector())
    if multiprocess_dir():
        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted)
    else:
        counted = REGISTRY
    return generate_latest(counted) + generate_latest(scrape)


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


class RequestMetricsMiddleware:
    """Counts and times every request by its URL name (not its path, which would be unbounded)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name if match else "") or "<unmatched>"
        method = request.method if request.method in {"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS"} else "OTHER"
        REQUEST_LATENCY.labels(view, method).observe(time.perf_counter() - started)
        REQUESTS.labels(view, method, str(response.status_code)).inc()
        return response
