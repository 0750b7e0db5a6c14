"""The Celery app. Broker: CELERY_BROKER_URL (Redis); without it tasks run in-process.

Start a worker with `make worker` and the schedule (CELERY_BEAT_SCHEDULE) with `make beat`.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reconi.settings.dev")

app = Celery("reconi")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
