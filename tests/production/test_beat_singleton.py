"""Two `celery beat` processes started at once send each scheduled job once: only the holder of
the Redis lock sends. When the holder dies (SIGKILL, no goodbye), the other takes over."""

import json
import signal

import pytest
import redis

from .stack import celery_beat, wait_for

pytestmark = pytest.mark.production

EVERY = 2
TTL = 3


def _sent_by(client) -> list[tuple[str, str]]:
    """(task name, sending process's origin) of every message waiting on the broker, oldest first."""
    messages = [json.loads(raw) for raw in reversed(client.lrange("celery", 0, -1))]  # kombu LPUSHes
    return [(m["headers"]["task"], m["headers"]["origin"]) for m in messages]


def test_two_beats_send_each_job_once_and_the_standby_takes_over(stack, procs):
    # A Redis database of its own: no worker consumes it, so every message sent stays countable.
    broker = f"{stack.portal.redis_url}/2"
    client = redis.Redis.from_url(broker)
    client.flushdb()
    env = {"CELERY_BROKER_URL": broker, "REMINDERS_EVERY_SECONDS": EVERY, "BEAT_LOCK_TTL": TTL}
    first = celery_beat(procs, stack.portal, name="beat-1", **env)
    second = celery_beat(procs, stack.portal, name="beat-2", **env)
    origins = {f"gen{first.pid}@", f"gen{second.pid}@"}

    wait_for(lambda: len(_sent_by(client)) >= 5, timeout=90, message="five reminder runs sent")
    sent = _sent_by(client)
    assert {task for task, _origin in sent} == {"notifications.send_renewal_reminders"}
    senders = {origin.split("@")[0] + "@" for _task, origin in sent}
    assert len(senders) == 1 and senders <= origins, f"sent by {senders}: each job must be sent by one beat"
    # Each run once: the one sender keeps its interval; two senders would double the count.
    holder, standby = (first, second) if f"gen{first.pid}@" in senders else (second, first)
    assert _runs_in_log(standby) == 0

    # The holder dies without letting go of the lock; within the lock's lifetime the standby sends.
    holder.stop(sig=signal.SIGKILL)
    count = len(_sent_by(client))
    wait_for(
        lambda: any(origin.startswith(f"gen{standby.pid}@") for _t, origin in _sent_by(client)),
        timeout=TTL * 5 + 30,
        message="the standby beat to take over",
    )
    after = _sent_by(client)[count:]
    assert all(origin.startswith(f"gen{standby.pid}@") for _t, origin in after)
    client.flushdb()


def _runs_in_log(process) -> int:
    return process.log.read_text(errors="replace").count("Sending due task renewal-reminders")
