"""What every benchmark here shares: a throwaway database next to yours, timed steps."""

import os
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def bench_database_url() -> str:
    """``DATABASE_URL`` with ``_bench`` appended to its name: never your own database."""
    url = os.environ.get("DATABASE_URL", "")
    parsed = urlparse(url)
    if not parsed.scheme.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (postgres://user@host:5432/name).")
    return urlunparse(parsed._replace(path=f"{parsed.path.rstrip('/')}_bench"))


def recreate_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


class step:  # noqa: N801 - used like a function: `with step("label"):`
    """Prints the label, then how long the block took."""

    def __init__(self, label: str):
        self.label = label

    def __enter__(self):
        self.start = time.perf_counter()
        print(f"{self.label} …", end=" ", flush=True)
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
        print(f"{self.seconds:.1f} s", flush=True)
