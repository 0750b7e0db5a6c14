"""What /healthz reports. Probes are bounded in time: a frozen service answers 503, never a hang.

Apps add details for monitoring with ``detail_register`` (from their ``AppConfig.ready``),
so that this lowest layer imports none of them.
"""

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import connection

logger = logging.getLogger("reconi.health")

_details: dict[str, Callable[[], dict]] = {}


def detail_register(name: str, probe: Callable[[], dict]) -> None:
    _details[name] = probe


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - report, do not crash the probe
        logger.warning("Health: database unavailable", exc_info=True)
        return f"error: {exc.__class__.__name__}"
    return "ok"


def broker_status() -> str:
    """PING the broker with one connect and one read, each bounded by BROKER_TIMEOUT. No retries."""
    if not settings.CELERY_BROKER_URL:
        return "in-process"
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    timeout = settings.BROKER_TIMEOUT
    client = redis.Redis.from_url(
        settings.CELERY_BROKER_URL,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )
    try:
        client.ping()
    except Exception as exc:  # noqa: BLE001 - refused, timed out, bad reply: all "not healthy"
        logger.warning("Health: broker unavailable: %s: %s", exc.__class__.__name__, exc)
        return f"error: {exc.__class__.__name__}"
    finally:
        client.close()
    return "ok"


def details() -> dict:
    result = {}
    for name, probe in _details.items():
        try:
            result[name] = probe()
        except Exception as exc:  # noqa: BLE001 - a detail never fails the probe
            result[name] = {"error": exc.__class__.__name__}
    return result
