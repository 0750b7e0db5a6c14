"""The production smoke test: the whole stack as it runs in production, used as a manager would.

gunicorn (2 workers), a Celery worker and celery beat with reconi.settings.production,
PostgreSQL through the app's own role, a Redis server and an SMTP server of the test's own.
A demo manager logs in with the second factor, renews one authorization and revokes
another; beat runs the reminder job on a short test schedule; every email is counted at
the SMTP server. Then the worker stops, a revocation waits on the broker, the worker
starts again and the email arrives. /metrics shows the figures. Prints its counts.
"""

import re
import time
from collections import Counter

import pytest

from reconi.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET

from .stack import Browser, celery_beat, celery_worker, gunicorn, metric, metric_sum, wait_for

pytestmark = pytest.mark.production

ANNA = "anna.dejong@voorbeeld-bv1.nl"
REMINDER_EVERY = 3


def _authorization(db, *, user: str, service: str) -> tuple[int, object]:
    rows = db.query(
        """SELECT a.id, a.valid_until FROM authorizations_authorization a
           JOIN users_user u ON u.id = a.user_id JOIN authorizations_service s ON s.id = a.service_id
           WHERE u.email = %s AND s.name = %s AND a.revoked_at IS NULL""",
        [user, service],
    )
    assert len(rows) == 1, rows
    return rows[0]


def _outbox(db) -> dict[int, tuple[str, str]]:
    rows = db.query("SELECT id, kind, status FROM notifications_outboxemail")
    return {pk: (kind, status) for pk, kind, status in rows}


def _kinds_at_smtp(stack) -> Counter:
    """What arrived at the SMTP server, by outbox kind (the Message-ID carries the outbox row)."""
    outbox = _outbox(stack.db)
    kinds = Counter()
    for message_id in stack.mail.message_ids():
        match = re.match(r"<outbox\.(\d+)\.", message_id or "")
        kinds[outbox[int(match.group(1))][0] if match else "?"] += 1
    return kinds


def _reminder_run(browser, token) -> tuple[float, float]:
    text = browser.metrics(token)
    return metric(text, "reconi_reminder_last_run_timestamp_seconds"), metric(
        text, "reconi_reminder_last_run_items", 'what="claimed"'
    )


def test_production_stack_end_to_end(stack, procs, capsys):
    started = time.monotonic()
    db, mail, portal, processes = stack.db, stack.mail, stack.portal, procs
    env = {"REMINDERS_EVERY_SECONDS": REMINDER_EVERY, "BEAT_LOCK_TTL": 6}
    already = mail.count()
    sent_before = {pk for pk, (_kind, status) in _outbox(db).items() if status == "sent"}  # the demo data's
    phases = {}
    web, port = gunicorn(processes, portal, name="web", workers=2, **env)
    worker = celery_worker(processes, portal, **env)
    browser = Browser(port)
    token = portal.metrics_token
    phases["start web+worker"] = time.monotonic() - started

    # A demo manager logs in with password and TOTP.
    browser.login(ANNA, DEMO_PASSWORD, DEMO_TOTP_SECRET)
    assert browser.get("/manage/").status == 200
    assert browser.get("/manage/permissions/").status == 200
    # Static files come from the web instance itself (WhiteNoise), collected as the image build does.
    stylesheet = browser.get("/static/css/reconi.css")
    assert stylesheet.status == 200 and "text/css" in stylesheet.headers["content-type"]

    # Renew one authorization by a year.
    renew_id, until = _authorization(db, user="bram.visser@voorbeeld-bv1.nl", service="Omzetbelasting aangifte")
    response = browser.post(f"/manage/permissions/{renew_id}/renew/", {"period": "1"})
    assert response.status == 302, response.status
    (new_until,) = db.query("SELECT valid_until FROM authorizations_authorization WHERE id = %s", [renew_id])[0]
    assert new_until.year == until.year + 1

    # Revoke another: its email reaches the SMTP server through the worker.
    revoke_id, _ = _authorization(db, user="carla.smit@voorbeeld-bv1.nl", service="Jaarrekening deponeren")
    assert browser.post(f"/manage/permissions/{revoke_id}/revoke/", {}).status == 302
    wait_for(lambda: _kinds_at_smtp(stack)["authorization_revoked"] == 1, timeout=60, message="revocation email")

    phases["login, renew, revoke"] = time.monotonic() - started - sum(phases.values())
    # The reminder job, run by beat on its (short) schedule; the worker sends what it queues.
    celery_beat(processes, portal, **env)
    wait_for(lambda: _reminder_run(browser, token)[0] > 0, timeout=90, message="a reminder run by beat")
    wait_for(
        lambda: (
            _kinds_at_smtp(stack)["renewal_reminder_user"] > 0
            and all(status == "sent" for kind, status in _outbox(db).values() if kind.startswith("renewal_"))
        ),
        timeout=90,
        message="the reminder emails at the SMTP server",
    )
    first_run = _reminder_run(browser, token)[0]
    # Later runs of the schedule find everything claimed: nothing is sent twice.
    wait_for(lambda: _reminder_run(browser, token)[0] > first_run, timeout=60, message="another reminder run")
    assert _reminder_run(browser, token)[1] == 0
    reminders = {k: v for k, v in _kinds_at_smtp(stack).items() if k.startswith("renewal_")}
    reminder_rows = sum(1 for kind, _status in _outbox(db).values() if kind.startswith("renewal_"))
    assert sum(reminders.values()) == reminder_rows > 0

    phases["beat reminders"] = time.monotonic() - started - sum(phases.values())
    # The worker stops; a revocation waits on the broker; the worker starts again and sends it.
    worker.stop()
    assert not worker.alive()
    waiting_id, _ = _authorization(db, user="bram.visser@voorbeeld-bv1.nl", service="Loonaangifte")
    before = mail.count()
    assert browser.post(f"/manage/permissions/{waiting_id}/revoke/", {}).status == 302
    time.sleep(3)
    assert mail.count() == before, "an email went out with no worker running"
    while_stopped = browser.metrics(token)
    assert metric(while_stopped, "reconi_outbox_backlog") >= 1
    assert metric(while_stopped, "reconi_celery_queue_length", 'queue="celery"') >= 1
    worker = celery_worker(processes, portal, name="worker-again", **env)
    wait_for(lambda: _kinds_at_smtp(stack)["authorization_revoked"] == 2, timeout=60, message="the waiting email")

    # /metrics after the run: the outbox is empty, the reminder figures are there, both
    # gunicorn workers' requests are counted.
    answered_before_scrape = Browser.answered[port]
    text = browser.metrics(token)
    assert metric(text, "reconi_outbox_backlog") == 0
    assert metric(text, "reconi_outbox_failed") == 0
    assert metric(text, "reconi_reminder_last_run_duration_seconds") > 0
    requests = metric_sum(text, "reconi_http_requests_total")
    # Every request answered by either gunicorn worker is counted (multiprocess mode adds them up).
    assert requests == answered_before_scrape, (requests, answered_before_scrape)
    assert metric_sum(text, "reconi_http_requests_total", 'view="permission_revoke"') >= 4  # 2 GETs, 2 POSTs

    kinds = _kinds_at_smtp(stack)
    sent = {pk for pk, (_kind, status) in _outbox(db).items() if status == "sent"} - sent_before
    assert mail.count() - already == sum(kinds.values()) == len(sent)
    with capsys.disabled():
        print(
            "\nSMOKE production stack (gunicorn x2 workers, celery worker, beat, PostgreSQL app role, Redis, SMTP): "
            f"emails at SMTP {mail.count() - already} {dict(sorted(kinds.items()))}; "
            f"reminder emails {sum(reminders.values())} (once, over several beat runs); "
            f"revocation emails {kinds['authorization_revoked']} (1 sent while the worker was stopped, after its "
            f"restart); /metrics: requests {requests:.0f}, outbox backlog {metric(text, 'reconi_outbox_backlog'):.0f}, "
            f"failed {metric(text, 'reconi_outbox_failed'):.0f}, last reminder run "
            f"{metric(text, 'reconi_reminder_last_run_duration_seconds'):.3f}s; "
            f"{time.monotonic() - started:.0f}s ("
            + ", ".join(f"{name} {seconds:.0f}s" for name, seconds in phases.items())
            + ")"
        )
        print("\n".join(line for line in text.splitlines() if line.startswith(("reconi_outbox", "reconi_reminder"))))
