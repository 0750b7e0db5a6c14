"""The beat schedule: reminders daily at 07:00 Amsterdam time, the outbox every minute."""

from celery.schedules import crontab

from reconi.celery import app


def test_reminders_run_daily_at_seven_in_amsterdam_and_the_outbox_every_minute():
    schedule = app.conf.beat_schedule
    reminders, outbox = schedule["renewal-reminders"], schedule["outbox-flush"]
    assert reminders["schedule"] == crontab(hour=7, minute=0)
    assert app.conf.timezone == "Europe/Amsterdam"
    assert outbox["schedule"] == 60.0
    app.loader.import_default_modules()
    assert {reminders["task"], outbox["task"]} <= set(app.tasks)


def test_tasks_acknowledge_late_so_a_dead_worker_loses_nothing():
    from authorizations.tasks import renewal_reminders_task
    from notifications.tasks import email_deliver_task, outbox_flush_task

    assert all(task.acks_late for task in (email_deliver_task, outbox_flush_task, renewal_reminders_task))
    assert app.conf.task_reject_on_worker_lost
