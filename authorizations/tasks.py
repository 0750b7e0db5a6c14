"""Celery tasks of this app: take ids (or nothing), call a service; safe to run twice."""

import time

from celery import shared_task

from reconi.metrics import reminder_run_record

from .reminders.services import renewal_reminders_send


# The name predates the job's move to this app; beat, queued messages and the alerts know it.
@shared_task(name="notifications.send_renewal_reminders")
def renewal_reminders_task() -> dict:
    # Each reminder is claimed once in the ledger, so a second run sends nothing twice.
    started = time.time()
    run = renewal_reminders_send()
    reminder_run_record(
        started=started, finished=time.time(), due=run.due, claimed=run.claimed, queued=run.queued, failed=run.failed
    )
    return {"due": run.due, "claimed": run.claimed, "queued": run.queued, "failed": run.failed}
