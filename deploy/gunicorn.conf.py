"""gunicorn settings for production: `gunicorn reconi.wsgi:application --config deploy/gunicorn.conf.py`.

Command-line options win over these. PORT and WEB_CONCURRENCY (workers) come from the environment.
With several workers, /metrics adds up the figures of all of them through prometheus_client's
multiprocess mode: PROMETHEUS_MULTIPROC_DIR must be set to an empty directory writable by the
workers (the Dockerfile sets /tmp/prometheus); it is emptied when gunicorn starts.
"""

import os
import shutil
from pathlib import Path

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
timeout = 60
graceful_timeout = 30
# One worker restarts after this many requests: a leak cannot grow without bound.
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
# The load balancer in front of gunicorn sets X-Forwarded-Proto; trust it from these addresses.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        # Figures of a previous run would be added to this one's.
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
