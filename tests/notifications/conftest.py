"""Fixtures for the outbox and reminder tests: a real local SMTP server, a real Celery worker.

The SMTP server (aiosmtpd) runs in a thread of the test process and can be told to
refuse the next messages (451) or to hold a message mid-transfer. The worker is a
``celery worker`` subprocess on the real Redis broker, pointed at the pytest database.
"""

import asyncio
import datetime
import email
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection
from django.utils import timezone

from tests.conftest import require_or_skip
from tests.rules.conftest import _post_migrate_data_for_transactional_tests  # noqa: F401 - autouse here too

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, *, timeout: float = 30, interval: float = 0.1, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"Timed out waiting for {message}")


def days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


class SMTPHandler:
    def __init__(self):
        self.messages: list[email.message.Message] = []
        self.refuse_next = 0  # answer 451 to this many messages, then accept
        self.refused = 0
        self.refuse_permanently = False  # answer 550 to every message
        self.hold_after_accept = False  # store the next message, then keep the client waiting for "250"
        self.hold = False  # keep the next message in DATA until released
        self.holding = False

    async def handle_DATA(self, server, session, envelope):
        if self.hold:
            self.holding = True
            try:  # cancelled when the client dies: the message is not accepted
                while self.hold:
                    await asyncio.sleep(0.05)
            finally:
                self.holding = False
            return "451 4.3.0 Sender went away"
        if self.refuse_permanently:
            return "550 5.1.1 No such mailbox"
        if self.refuse_next > 0:
            self.refuse_next -= 1
            self.refused += 1
            return "451 4.3.0 Try again later"
        message = email.message_from_bytes(envelope.content)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        if self.hold_after_accept:  # the message is stored: a client that dies now sends it again
            self.holding = True
            try:
                while self.hold_after_accept:
                    await asyncio.sleep(0.05)
            finally:
                self.holding = False
        return "250 2.0.0 Ok: queued"

    def message_ids(self) -> list[str]:
        return [m["Message-ID"] for m in self.messages]


@pytest.fixture
def smtp_server():
    handler = SMTPHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    yield handler
    handler.hold = False
    controller.stop()


@pytest.fixture
def smtp_settings(settings, smtp_server):
    settings.EMAIL_BACKEND = "reconi.mail.SMTPBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_TIMEOUT = 10
    return settings


def _broker_available() -> bool:
    if not settings.CELERY_BROKER_URL:
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def broker():
    """The real Redis broker, emptied (only its own database), with tasks no longer run in-process."""
    require_or_skip(_broker_available(), "Redis")
    import redis

    from reconi.celery import app

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.flushdb()
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield client
    app.conf.task_always_eager = eager
    client.flushdb()


WORKER_SETTINGS = """\
from reconi.settings.test import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = False
EMAIL_BACKEND = "reconi.mail.SMTPBackend"
EMAIL_HOST = "127.0.0.1"
EMAIL_PORT = {smtp_port}
EMAIL_TIMEOUT = 10
NOTIFICATIONS_RETRY_BACKOFF = 1
NOTIFICATIONS_RETRY_BACKOFF_MAX = 2
NOTIFICATIONS_DELIVERY_LEASE = 3
CELERY_BROKER_TRANSPORT_OPTIONS = {{**CELERY_BROKER_TRANSPORT_OPTIONS, **{transport_options!r}}}  # noqa: F405
"""


class Worker:
    def __init__(self, process: subprocess.Popen, log: Path):
        self.process = process
        self.log = log

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool children): no warm shutdown, no acks."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def celery_worker(broker, smtp_server, tmp_path):
    """Start ``celery -A reconi worker`` subprocesses; every one is stopped at the end."""
    db = connection.settings_dict
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    database_url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{host}/{db['NAME']}"
    workers: list[Worker] = []

    def start(*, pool: str = "solo", concurrency: int = 1, visibility_timeout: int = 3600) -> Worker:
        n = len(workers)
        module = f"notify_worker_settings_{n}"
        options = {"visibility_timeout": visibility_timeout}
        if visibility_timeout < 60:  # restore unacked messages of a dead worker right away
            options.update(unacked_restore_interval=1, unacked_restore_throttle=1)
        (tmp_path / f"{module}.py").write_text(
            WORKER_SETTINGS.format(smtp_port=smtp_server.port, transport_options=options)
        )
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": module,
            "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        }
        log = tmp_path / f"worker{n}.log"
        command = [
            str(ROOT / ".venv" / "bin" / "celery"),
            "-A",
            "reconi",
            "worker",
            f"--pool={pool}",
            f"--concurrency={concurrency}",
            f"--hostname=notify{n}-{os.getpid()}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=INFO",
        ]
        with log.open("wb") as out:
            process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        worker = Worker(process, log)
        workers.append(worker)

        def ready():
            assert process.poll() is None, f"worker exited:\n{log.read_text()}"
            return " ready." in log.read_text()

        wait_for(ready, timeout=60, message="the Celery worker to start")
        return worker

    yield start
    for worker in workers:
        worker.stop()
