"""Real services that a test can break: a Redis server it starts, stops and freezes.

Every server binds a free port picked at run time, so parallel CI jobs never clash.
Frozen means SIGSTOP: the kernel still accepts TCP connections, nothing answers.
"""

import os
import shutil
import signal
import subprocess
import threading
import time

import pytest
import redis

from tests.conftest import require_or_skip
from tests.notifications.conftest import free_port, wait_for
from tests.rules.conftest import _post_migrate_data_for_transactional_tests  # noqa: F401 - autouse here too


class RedisServer:
    def __init__(self, directory):
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None
        self.frozen = False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5, socket_timeout=0.5)

        def up():
            try:
                return client.ping()
            except redis.RedisError:
                return False

        wait_for(up, timeout=10, message="redis-server to start")

    def freeze(self, *, at_most: float = 15) -> None:
        """SIGSTOP; thawed again after ``at_most`` seconds whatever happens, so that code which
        waits forever on the broker fails its timing assertion instead of hanging the suite."""
        os.kill(self.process.pid, signal.SIGSTOP)
        self.frozen = True
        watchdog = threading.Timer(at_most, self.thaw)
        watchdog.daemon = True
        watchdog.start()

    def thaw(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)
        self.frozen = False

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        if self.frozen:
            self.thaw()
        self.process.terminate()
        self.process.wait(timeout=10)

    def queued(self) -> int:
        return redis.Redis(port=self.port, socket_timeout=1).llen("celery")


@pytest.fixture
def redis_server(tmp_path):
    require_or_skip(shutil.which("redis-server") is not None, "redis-server")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


def _drop_pools(app) -> None:
    """Forget pooled connections and producers, which remember the broker they were made for."""
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker_on(redis_server, settings):
    """Point the Celery app (and /healthz) at the test's own Redis, with tasks really published."""
    from notifications.services import broker_reset
    from reconi.celery import app

    keys = ["broker_url", "broker_read_url", "broker_write_url", "task_always_eager"]
    saved = {key: app.conf.get(key) for key in keys}
    app.conf.update(
        broker_url=redis_server.url,
        broker_read_url=redis_server.url,
        broker_write_url=redis_server.url,
        task_always_eager=False,
    )
    settings.CELERY_BROKER_URL = redis_server.url
    _drop_pools(app)
    broker_reset()
    yield redis_server
    redis_server.stop()
    app.conf.update(saved)
    _drop_pools(app)
    broker_reset()


class Timer:
    def __enter__(self):
        self.started = time.monotonic()
        return self

    def __exit__(self, *exc):
        self.seconds = time.monotonic() - self.started
