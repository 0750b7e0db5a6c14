"""Celery tasks: take ids, call a service. Each is safe to run twice (row leases, unique keys).

Late acks (CELERY_TASK_ACKS_LATE) mean a worker killed mid-task leaves its message
on the broker for the next worker. The row it was sending stays leased until
NOTIFICATIONS_DELIVERY_LEASE has passed; then the redelivered task (or the sweep)
sends it again, and the dead attempt shows as "interrupted" in the outbox.
"""

from celery import shared_task

from . import services

# Per task run; a bigger backlog is handed on to the next run, so no task runs for long.
FLUSH_BATCH = 500


@shared_task(name="notifications.deliver_email", bind=True, max_retries=8)
def email_deliver_task(self, email_id: int) -> str:
    result = services.email_deliver(email_id=email_id)
    # In-process (no broker) a retry would sleep in the caller's request: the sweep retries instead.
    # Past max_retries the sweep carries on: the task's retries only make the first hour quick.
    if result.status in ("retry", "waiting") and not self.request.is_eager and self.request.retries < self.max_retries:
        raise self.retry(countdown=max(result.retry_in or 0, 0.5))
    return result.status


@shared_task(name="notifications.flush_outbox", bind=True)
def outbox_flush_task(self) -> dict:
    limit = None if self.request.is_eager else FLUSH_BATCH
    result = services.outbox_flush(limit=limit)
    if limit is not None and result.processed >= limit:
        services.broker_publish(outbox_flush_task)
    return {"sent": result.sent, "failed": result.failed, "retry": result.retry}
