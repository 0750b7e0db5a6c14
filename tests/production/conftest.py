"""One production stack per test session: a database of its own (migrated by its owner role,
the demo data loaded, an app role that owns nothing), a Redis server and an SMTP server of
its own, and the portal's signing certificate. The tests start web, worker and beat on it."""

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.conftest import require_or_skip

from .stack import BIN, ROOT, Database, MailSink, Portal, Processes, redis_server


@dataclass
class Stack:
    db: Database
    mail: MailSink
    portal: Portal
    processes: Processes
    tmp: Path


def _owner_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    require_or_skip(url.startswith(("postgres://", "postgresql://")), "PostgreSQL (DATABASE_URL)")
    require_or_skip(bool(shutil.which("redis-server")), "redis-server")
    return url


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    owner_url = _owner_url()
    base = (urlparse(owner_url).path.lstrip("/") or "reconi") + "_prod"
    tmp = tmp_path_factory.mktemp("production")
    processes = Processes(tmp)
    db = Database(owner_url=owner_url, name=base, app_role=f"{base}_app")
    mail = None
    try:
        db.create()
        mail = MailSink()
        redis_url = redis_server(processes, tmp)
        portal = Portal(
            db=db,
            redis_url=redis_url,
            smtp_port=mail.port,
            var_dir=tmp / "var",
            signing_dir=tmp / "signing",
        )
        portal.var_dir.mkdir()
        _signing_certificate(portal.signing_dir)
        portal.manage("migrate", "--noinput")
        portal.manage("collectstatic", "--noinput")  # as the image build does
        # seed_demo refuses production settings: load the demo data as a developer would, in-process.
        _seed(portal)
        db.grant_app_role()
        yield Stack(db=db, mail=mail, portal=portal, processes=processes, tmp=tmp)
    finally:
        processes.stop_all()
        if mail:
            mail.stop()
        db.drop()


@pytest.fixture
def procs(stack, request):
    """The processes one test starts (web, worker, beat), all stopped by pid when it ends."""
    processes = Processes(stack.tmp)
    yield processes
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    if failed:
        print("\n" + processes.report())
    processes.stop_all()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report


def _seed(portal: Portal) -> None:
    """seed_demo refuses production settings: the demo data goes in as a developer loads it,
    with tasks in-process and emails to memory, so that none of its emails reach the SMTP server."""
    env = portal.env(DJANGO_SETTINGS_MODULE="reconi.settings.dev", CELERY_BROKER_URL="", EMAIL_URL="locmem:")
    env["DATABASE_URL"] = portal.db.url
    subprocess.run([str(BIN / "python"), "manage.py", "seed_demo"], cwd=ROOT, env=env, check=True, timeout=300)


def _signing_certificate(directory: Path) -> None:
    """The organisation's certificate, as an operator would install it (here: a self-signed one)."""
    from reconi.pdf import _create_dev_certificate

    directory.mkdir()
    _create_dev_certificate(directory / "key.pem", directory / "cert.pem")
