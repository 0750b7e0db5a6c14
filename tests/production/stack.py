"""The production stack as real processes, for the tests in this folder.

Everything binds free ports on 127.0.0.1 picked at start, has its own PostgreSQL
database (with its own application role) and its own Redis server, and is stopped
by its process id at the end. Processes run with ``reconi.settings.production``.
"""

import email
import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlparse

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, *, timeout: float = 30, interval: float = 0.2, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


# Processes -------------------------------------------------------------------------------------------


class Process:
    """One process we started; stopped by its pid (SIGTERM, then SIGKILL after a grace period)."""

    def __init__(self, name: str, command: list[str], env: dict, log_dir: Path):
        self.name = name
        self.log = log_dir / f"{name}.log"
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        self.pid = self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, *, sig=signal.SIGTERM, grace: float = 20) -> None:
        if not self.alive():
            return
        os.kill(self.pid, sig)
        try:
            self.popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.kill(self.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


class Processes:
    """Starts processes and stops every one of them, last started first."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.started: list[Process] = []

    def start(self, name: str, command: list[str], env: dict) -> Process:
        process = Process(name, command, env, self.log_dir)
        self.started.append(process)
        return process

    def stop_all(self) -> None:
        for process in reversed(self.started):
            process.stop()

    def report(self) -> str:
        return "\n".join(f"--- {p.name} (pid {p.pid}) ---\n{p.tail()}" for p in self.started)


def redis_server(processes: Processes, tmp: Path) -> str:
    """A Redis server of our own on a free port: no other test's keys, FLUSHALL-free teardown."""
    binary = shutil.which("redis-server")
    if not binary:
        raise FileNotFoundError("redis-server")
    port = free_port()
    processes.start(
        "redis",
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(tmp)],
        dict(os.environ),
    )
    import redis

    wait_for(lambda: _ping(redis.Redis(port=port, socket_timeout=1)), timeout=15, message="redis-server")
    return f"redis://127.0.0.1:{port}"


def _ping(client) -> bool:
    import redis

    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


# SMTP ------------------------------------------------------------------------------------------------


class MailSink:
    """aiosmtpd in a thread of the test process: every message the portal hands over."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages: list[email.message.Message] = []
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())
        self.controller.start()
        self.port = self.controller.port

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 OK"

    def stop(self) -> None:
        self.controller.stop()

    def count(self) -> int:
        return len(self.messages)

    def message_ids(self) -> list[str]:
        return [m["Message-ID"] for m in self.messages]


# PostgreSQL ------------------------------------------------------------------------------------------


@dataclass
class Database:
    """A database of its own, its tables owned by the connecting (owner) role, and an app role."""

    owner_url: str  # the server's administrative URL (from DATABASE_URL)
    name: str
    app_role: str
    app_password: str = field(default_factory=lambda: secrets.token_hex(12))

    @property
    def url(self) -> str:
        """Owner's URL of this database: migrations, backups, restores."""
        parsed = urlparse(self.owner_url)
        return parsed._replace(path=f"/{self.name}").geturl()

    @property
    def app_url(self) -> str:
        """What web, worker and beat connect with: a role that owns no table."""
        parsed = urlparse(self.owner_url)
        host = f"{parsed.hostname or '127.0.0.1'}:{parsed.port or 5432}"
        return f"postgres://{self.app_role}:{self.app_password}@{host}/{self.name}"

    def admin(self, sql: str, params=None) -> None:
        """On the server's maintenance database: creating and dropping databases and roles."""
        import psycopg

        maintenance = urlparse(self.owner_url)._replace(path="/postgres").geturl()
        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(sql, params)

    def query(self, sql: str, params=None) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            return conn.execute(sql, params).fetchall()

    def create(self) -> None:
        self.drop()
        self.admin(f'CREATE DATABASE "{self.name}"')
        self.admin(f"CREATE ROLE \"{self.app_role}\" LOGIN PASSWORD '{self.app_password}'")

    def drop(self) -> None:
        self.admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self.admin(f'DROP ROLE IF EXISTS "{self.app_role}"')

    def grant_app_role(self) -> None:
        """The app role reads and writes rows, owns nothing, and cannot rewrite the audit log."""
        subprocess.run(
            ["psql", self.url, "-q", "-v", "ON_ERROR_STOP=1", "-v", f"app_role={self.app_role}"]
            + ["-f", str(ROOT / "deploy" / "postgres" / "app-role.sql")],
            check=True,
            capture_output=True,
            timeout=60,
        )


# The portal's environment ------------------------------------------------------------------------------


@dataclass
class Portal:
    """Settings shared by every process of one production stack (as a container's environment)."""

    db: Database
    redis_url: str
    smtp_port: int
    var_dir: Path
    signing_dir: Path
    metrics_token: str = field(default_factory=lambda: secrets.token_hex(16))
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(50))
    # Second-factor secrets are encrypted at rest with this key: the seed and the portal share it.
    mfa_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    extra: dict = field(default_factory=dict)

    def env(self, **overrides) -> dict:
        ours = ("PYTEST", "DJANGO_", "CELERY_", "DATABASE_", "EMAIL_", "RECONI_", "CACHE_", "MFA_", "AUDIT_")
        base = {key: value for key, value in os.environ.items() if not key.startswith(ours)}
        base.update(
            {
                "DJANGO_SETTINGS_MODULE": "reconi.settings.production",
                "SECRET_KEY": self.secret_key,
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "DATABASE_URL": self.db.app_url,
                "CELERY_BROKER_URL": f"{self.redis_url}/0",
                "CACHE_URL": f"{self.redis_url}/1",
                "EMAIL_URL": f"smtp://127.0.0.1:{self.smtp_port}",
                "PORTAL_BASE_URL": "https://portal.example",
                "SIGNING_KEY_FILE": str(self.signing_dir / "key.pem"),
                "SIGNING_CERT_FILE": str(self.signing_dir / "cert.pem"),
                "RECONI_VAR_DIR": str(self.var_dir),
                "METRICS_TOKEN": self.metrics_token,
                "MFA_ENCRYPTION_KEYS": self.mfa_key,
                "PYTHONUNBUFFERED": "1",
            }
        )
        base.update(self.extra)
        base.update({key: str(value) for key, value in overrides.items()})
        return base

    def manage(self, *args: str, settings: str = "reconi.settings.production", owner: bool = True, check=True):
        """Run manage.py as an operator would: as the owner role (migrations) unless told otherwise."""
        env = self.env(DJANGO_SETTINGS_MODULE=settings)
        if owner:
            env["DATABASE_URL"] = self.db.url
        return subprocess.run(
            [str(BIN / "python"), "manage.py", *args],
            cwd=ROOT,
            env=env,
            check=check,
            capture_output=True,
            text=True,
            timeout=300,
        )


def gunicorn(processes: Processes, portal: Portal, *, name: str, workers: int = 2, **env) -> tuple[Process, int]:
    port = free_port()
    prom = portal.var_dir / f"prometheus-{name}"
    process = processes.start(
        name,
        [
            str(BIN / "gunicorn"),
            "reconi.wsgi:application",
            "--config",
            str(ROOT / "deploy" / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "60",
        ],
        portal.env(PROMETHEUS_MULTIPROC_DIR=prom, **env),
    )
    wait_for(lambda: _healthy(port, process), timeout=60, message=f"{name} to answer /healthz")
    return process, port


def _healthy(port: int, process: Process) -> bool:
    if not process.alive():
        raise AssertionError(f"{process.name} exited:\n{process.tail()}")
    try:
        return Browser(port).get("/healthz").status == 200
    except OSError:
        return False


def celery_worker(processes: Processes, portal: Portal, *, name: str = "worker", **env) -> Process:
    process = processes.start(
        name,
        [
            str(BIN / "celery"),
            "-A",
            "reconi",
            "worker",
            "--loglevel=INFO",
            "--concurrency=2",
            f"--hostname={name}-{os.getpid()}@%h",
            "--without-gossip",
            "--without-mingle",
        ],
        portal.env(**env),
    )
    wait_for(lambda: _worker_ready(process), timeout=60, interval=0.5, message=f"{name} to be ready")
    return process


def _worker_ready(process: Process) -> bool:
    if not process.alive():
        raise AssertionError(f"{process.name} exited:\n{process.tail()}")
    return " ready." in process.log.read_text(errors="replace")


def celery_beat(processes: Processes, portal: Portal, *, name: str = "beat", **env) -> Process:
    state = portal.var_dir / f"{name}-schedule"
    return processes.start(
        name,
        [str(BIN / "celery"), "-A", "reconi", "beat", "--loglevel=INFO", "-s", str(state)],
        portal.env(**env),
    )


# A browser without a browser -------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: dict
    body: str

    @property
    def location(self) -> str:
        return self.headers.get("location", "")

    def csrf_token(self) -> str:
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', self.body)
        assert match, f"no CSRF token in the page ({self.status})"
        return match.group(1)


class Browser:
    """HTTP as a browser behind the HTTPS load balancer: X-Forwarded-Proto https, cookies kept.

    The portal's cookies are Secure and __Host- prefixed; the load balancer would carry
    them over HTTPS, so this client keeps and sends them on the plain loopback hop. Every
    instance is addressed by one public name (HOST), as behind a load balancer.
    """

    HOST = "localhost"
    # Responses received, per port: what the portal's request counter must add up to.
    answered: Counter = Counter()

    def __init__(self, port: int, *, cookies: dict | None = None):
        self.port = port
        self.cookies: dict[str, str] = dict(cookies or {})

    @property
    def origin(self) -> str:
        return f"https://{self.HOST}"

    def request(self, method: str, path: str, *, data: dict | None = None, headers: dict | None = None) -> Response:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        all_headers = {"Host": self.HOST, "X-Forwarded-Proto": "https", **(headers or {})}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urlencode(data, doseq=True)
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        if method == "POST":
            all_headers.setdefault("Origin", self.origin)
            all_headers.setdefault("Referer", self.origin + path)
        try:
            connection.request(method, path, body=body, headers=all_headers)
            raw = connection.getresponse()
            content = raw.read().decode(errors="replace")
            for header in raw.msg.get_all("Set-Cookie") or []:
                self._keep(header)
            Browser.answered[self.port] += 1
            return Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, content)
        finally:
            connection.close()

    def _keep(self, header: str) -> None:
        for name, morsel in SimpleCookie(header).items():
            if morsel["max-age"] == "0" or (morsel["expires"] and "1970" in morsel["expires"]):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)

    def post_file(self, path: str, field_name: str, filename: str, content: bytes) -> Response:
        token = self.get(path).csrf_token()
        boundary = secrets.token_hex(16)
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n{token}\r\n'
                f'--{boundary}\r\nContent-Disposition: form-data; name="{field_name}"; filename="{filename}"\r\n'
                "Content-Type: application/pdf\r\n\r\n"
            ).encode()
            + content
            + f"\r\n--{boundary}--\r\n".encode()
        )
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {
            "Host": self.HOST,
            "X-Forwarded-Proto": "https",
            "Origin": self.origin,
            "Referer": self.origin + path,
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }
        try:
            connection.request("POST", path, body=body, headers=headers)
            raw = connection.getresponse()
            content = raw.read().decode(errors="replace")
            Browser.answered[self.port] += 1
            return Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, content)
        finally:
            connection.close()

    def post(self, path: str, data: dict, *, csrf_from: str | None = None) -> Response:
        token = self.get(csrf_from or path).csrf_token()
        return self.request("POST", path, data={**data, "csrfmiddlewaretoken": token})

    def login_password(self, email_address: str, password: str) -> Response:
        return self.post("/accounts/login/", {"login": email_address, "password": password})

    def second_factor(self, code: str) -> Response:
        return self.post("/accounts/2fa/authenticate/", {"code": code})

    def login(self, email_address: str, password: str, totp_secret: str) -> None:
        from reconi.demo import totp_now

        first = self.login_password(email_address, password)
        assert first.status == 302 and "/accounts/2fa/authenticate/" in first.location, (first.status, first.location)
        second = self.second_factor(totp_now(totp_secret))
        assert second.status == 302 and "/accounts/" not in second.location, (second.status, second.location)

    def metrics(self, token: str) -> str:
        response = self.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert response.status == 200, response.status
        return response.body


def metric(text: str, name: str, labels: str = "") -> float:
    """One sample of an exposition, or 0 when absent; labels as written: 'what="due"'."""
    pattern = "^" + re.escape(name) + (r"\{" + re.escape(labels) + r"\}" if labels else r"(?:\{\})?") + r" (\S+)$"
    match = re.search(pattern, text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def metric_sum(text: str, name: str, label_filter: str = "") -> float:
    """The sum of every sample of ``name`` whose labels contain ``label_filter``."""
    total = 0.0
    for match in re.finditer("^" + re.escape(name) + r"\{([^}]*)\} (\S+)$", text, re.MULTILINE):
        if label_filter in match.group(1):
            total += float(match.group(2))
    return total
