"""`make bench` stays runnable: each benchmark at a toy size, as a subprocess, ends with its RESULT line.

The figures mean nothing at this size; what is checked is that the scripts still work
against today's schema (their data is generated with raw SQL that a new column can break).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="the benchmarks need PostgreSQL"
)

SCRIPTS = [
    ["pdf_sign.py", "--runs", "1"],
    ["reminders.py", "--authorizations", "3000", "--users", "600", "--organizations", "30", "--rounds", "1"],
    ["manage_pages.py", "--big", "2000", "--filler", "2000", "--users", "3000", "--runs", "1", "--seconds", "1"],
]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda s: s[0])
def test_the_benchmark_runs_and_prints_its_result(script):
    assert connection.vendor == "postgresql"
    env = {**os.environ, "DATABASE_URL": os.environ["DATABASE_URL"]}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script[0]), *script[1:]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1].startswith("RESULT: "), result.stdout[-2000:]
