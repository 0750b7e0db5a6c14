"""Scale-out: two gunicorn instances on two ports, one database and one Redis, behind a
(here absent) load balancer that may send each request to either. A session, a login
rate limit and the refusal of a replayed TOTP code hold across them: nothing that
matters lives in one process."""

import time

import pytest

from reconi.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET, totp_now

from .stack import Browser, gunicorn

pytestmark = pytest.mark.production

DAAN = "daan.bakker@andere-bv.nl"
BRAM = "bram.visser@voorbeeld-bv1.nl"


def test_session_rate_limit_and_totp_replay_hold_across_two_web_instances(stack, procs):
    _a, port_a = gunicorn(procs, stack.portal, name="web-a", workers=1)
    _b, port_b = gunicorn(procs, stack.portal, name="web-b", workers=1)

    # A session started on A is valid on B.
    on_a = Browser(port_a)
    assert on_a.login_password(DAAN, DEMO_PASSWORD).status == 302
    # Both logins below must use the same TOTP code: start early in a 30-second window.
    while 30 - time.time() % 30 < 12:
        time.sleep(0.5)
    code = totp_now(DEMO_TOTP_SECRET)
    done = on_a.second_factor(code)
    assert done.status == 302 and "/accounts/" not in done.location
    on_b = Browser(port_b, cookies=on_a.cookies)
    assert on_b.get("/manage/").status == 200
    assert Browser(port_b).get("/manage/").status == 302  # without the cookie: the login page

    # The same code, replayed on B within its 30 seconds, is refused: B knows A used it.
    replay = Browser(port_b)
    assert replay.login_password(DAAN, DEMO_PASSWORD).status == 302
    refused = replay.second_factor(code)
    assert code == totp_now(DEMO_TOTP_SECRET), "the TOTP window turned over during the test"
    assert refused.status == 200, (refused.status, refused.location)
    assert replay.get("/manage/").status == 302  # still not logged in

    # Failed logins count across instances: 5 per 5 minutes per account (ACCOUNT_RATE_LIMITS).
    for port in (port_a, port_a, port_a, port_b, port_b):
        assert Browser(port).login_password(BRAM, "wrong-password").status == 200
    # The sixth attempt, on B, with the right password: refused by the limit counted on A and B.
    sixth = Browser(port_b).login_password(BRAM, DEMO_PASSWORD)
    assert sixth.status in (200, 429), (sixth.status, sixth.location)
