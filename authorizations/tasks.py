"""Celery tasks of this app: take ids (or nothing), call a service; safe to run twice."""

from celery import shared_task

from .reminders.services import renewal_reminders_send


@shared_task(name="authorizations.send_renewal_reminders")
def renewal_reminders_task() -> dict:
    # Each reminder is claimed once in the ledger, so a second run sends nothing twice.
    run = renewal_reminders_send()
    return {"due": run.due, "claimed": run.claimed, "queued": run.queued, "failed": run.failed}
