"""/metrics: who may read it, and that its figures follow the outbox, the reminder job,
signing, the broker queue and the requests served. (Several gunicorn workers adding up
their figures is shown by tests/production/test_smoke.py.)"""

import datetime
import re

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from notifications.models import OutboxEmail
from reconi import metrics
from tests.conftest import login, require_or_skip

TOKEN = "scrape-token-0123456789"


@pytest.fixture
def scrape(client, settings):
    settings.METRICS_TOKEN = TOKEN

    def get() -> str:
        response = client.get(reverse("metrics"), HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain")
        return response.content.decode()

    return get


def value(text: str, name: str, labels: str = "") -> float:
    """The sample ``name{labels}`` of an exposition; labels as written, e.g. 'what="due"'."""
    pattern = "^" + re.escape(name) + (r"\{" + re.escape(labels) + r"\}" if labels else r"(?:\{\})?") + r" (\S+)$"
    match = re.search(pattern, text, re.MULTILINE)
    assert match, f"{name}{{{labels}}} not in the exposition"
    return float(match.group(1))


@pytest.mark.django_db
def test_metrics_refused_without_token_or_allowed_address(client, settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = ["10.1.0.0/16"]
    assert client.get(reverse("metrics")).status_code == 403
    assert client.get(reverse("metrics"), HTTP_AUTHORIZATION="Bearer wrong-token").status_code == 403
    assert client.get(reverse("metrics"), HTTP_AUTHORIZATION=TOKEN).status_code == 403  # not a bearer header


@pytest.mark.django_db
def test_no_token_configured_means_no_token_opens_it(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = []
    assert client.get(reverse("metrics"), HTTP_AUTHORIZATION="Bearer ").status_code == 403


@pytest.mark.django_db
def test_metrics_open_to_an_allowed_network_and_to_the_token(client, settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = ["10.1.0.0/16"]
    assert client.get(reverse("metrics"), REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get(reverse("metrics"), REMOTE_ADDR="10.2.0.1").status_code == 403
    assert client.get(reverse("metrics"), HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200


@pytest.mark.django_db
def test_a_logged_in_manager_does_not_get_metrics(client, anna, settings):
    settings.METRICS_TOKEN = TOKEN
    login(client, anna)
    assert client.get(reverse("metrics")).status_code == 403


@pytest.mark.django_db
def test_outbox_backlog_age_and_failures(scrape):
    now = timezone.now()
    old = OutboxEmail.objects.create(kind="t", to="a@example.com", language="nl", subject="s", body_text="b")
    OutboxEmail.objects.filter(pk=old.pk).update(created_at=now - datetime.timedelta(minutes=20))
    OutboxEmail.objects.create(kind="t", to="b@example.com", language="nl", subject="s", body_text="b", attempts=2)
    OutboxEmail.objects.create(kind="t", to="c@example.com", language="nl", status="failed", attempts=10)
    OutboxEmail.objects.create(kind="t", to="d@example.com", language="nl", status="sent", sent_at=now)
    text = scrape()
    assert value(text, "reconi_outbox_backlog") == 2
    assert value(text, "reconi_outbox_retrying") == 1
    assert value(text, "reconi_outbox_failed") == 1
    assert 1190 < value(text, "reconi_outbox_oldest_pending_age_seconds") < 1300


@pytest.mark.django_db
def test_empty_outbox_has_age_zero(scrape):
    text = scrape()
    assert value(text, "reconi_outbox_backlog") == 0
    assert value(text, "reconi_outbox_oldest_pending_age_seconds") == 0


@pytest.mark.django_db
def test_reminder_run_duration_and_counts_after_the_beat_task(scrape, anna, bram, org, service_eh2):
    from authorizations.tasks import renewal_reminders_task
    from tests.factories import AuthorizationFactory

    cache.delete(metrics.REMINDER_RUN_CACHE_KEY)
    assert "reconi_reminder_last_run_items" not in scrape()
    AuthorizationFactory(
        user=bram, organization=org, service=service_eh2, valid_until=timezone.localdate() + datetime.timedelta(days=6)
    )
    before = timezone.now().timestamp()
    result = renewal_reminders_task.delay().get()
    text = scrape()
    assert value(text, "reconi_reminder_last_run_items", 'what="due"') == result["due"] >= 1
    assert value(text, "reconi_reminder_last_run_items", 'what="queued"') == result["queued"] >= 1
    assert value(text, "reconi_reminder_last_run_timestamp_seconds") >= before
    assert 0 <= value(text, "reconi_reminder_last_run_duration_seconds") < 60


@pytest.mark.django_db
def test_requests_are_counted_and_timed_per_url_name(client, scrape, anna):
    login(client, anna)
    before = scrape()
    count_before = _sample_or_zero(before, "reconi_http_requests_total", 'method="GET",status="200",view="home"')
    assert client.get(reverse("home")).status_code == 200
    after = scrape()
    assert value(after, "reconi_http_requests_total", 'method="GET",status="200",view="home"') == count_before + 1
    assert value(after, "reconi_http_request_duration_seconds_count", 'method="GET",view="home"') >= 1


def test_signing_is_timed(settings, tmp_path):
    from reconi import pdf

    settings.SIGNING_KEY_FILE = str(tmp_path / "key.pem")
    settings.SIGNING_CERT_FILE = str(tmp_path / "cert.pem")
    before = metrics.SIGNING_LATENCY._sum.get(), _count(metrics.SIGNING_LATENCY)
    content = pdf.render_pdf("<p>Formulier</p>").content
    signed = pdf.sign_pdf(
        content,
        field_name="sig",
        signer_name="Carla Smit",
        capacity_label="Bestuurder",
        reason="Akkoord",
        signed_at=timezone.now(),
    )
    assert pdf.verify_pdf(signed).valid
    assert _count(metrics.SIGNING_LATENCY) == before[1] + 1
    assert metrics.SIGNING_LATENCY._sum.get() > before[0]


@pytest.mark.django_db
def test_celery_queue_length_is_read_from_the_broker(scrape, settings):
    import redis

    require_or_skip(settings.CELERY_BROKER_URL.startswith("redis://"), "Redis broker")
    settings.CELERY_TASK_DEFAULT_QUEUE = "reconi-metrics-test"
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete("reconi-metrics-test", "reconi-metrics-test\x06\x163")
    try:
        client.rpush("reconi-metrics-test", "a", "b")
        client.rpush("reconi-metrics-test\x06\x163", "c")
        assert value(scrape(), "reconi_celery_queue_length", 'queue="reconi-metrics-test"') == 3
    finally:
        client.delete("reconi-metrics-test", "reconi-metrics-test\x06\x163")


def _count(histogram) -> float:
    return sum(sample.value for sample in histogram.collect()[0].samples if sample.name.endswith("_count"))


def _sample_or_zero(text: str, name: str, labels: str) -> float:
    try:
        return value(text, name, labels)
    except AssertionError:
        return 0.0
