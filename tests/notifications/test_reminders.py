"""Renewal reminders (rule 14) on the in-process path."""

import datetime

import pytest
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from authorizations.reminders.services import renewal_reminders_send
from authorizations.services import authorization_renew
from notifications.models import OutboxEmail, RenewalReminder
from reconi.levels import AssuranceLevel
from tests.conftest import make_manager
from tests.factories import AuthorizationFactory, MeansFactory, MembershipFactory, UserFactory

from .conftest import days

Stage = RenewalReminder.Stage


def run(**kwargs):
    result = renewal_reminders_send(**kwargs)
    return result


def emails(kind=None):
    rows = OutboxEmail.objects.order_by("id")
    return list(rows.filter(kind=kind) if kind else rows)


def authorization(user, org, until, **kwargs):
    return AuthorizationFactory(
        user=user,
        organization=org,
        valid_from=timezone.localdate() - relativedelta(years=1),
        valid_until=until,
        **kwargs,
    )


def test_two_months_before_the_user_and_the_manager_are_reminded(anna, bram, org, service_eh2):
    expiring = authorization(bram, org, days(50), service=service_eh2)
    result = run()
    assert result.claimed == 1 and result.queued == 2
    (user_mail,) = emails("renewal_reminder_user")
    (manager_mail,) = emails("renewal_reminder_manager")
    assert user_mail.to == bram.email and manager_mail.to == anna.email
    assert RenewalReminder.objects.get().key == f"reminder:authorization:{expiring.pk}:{expiring.valid_until}:2m"
    assert "Omzetbelasting" in user_mail.body_text and "Omzetbelasting" in manager_mail.body_html
    # Delivered in-process after commit: here the run's flush was captured, so flush now.
    from notifications.services import outbox_flush

    assert outbox_flush().sent == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted([bram.email, anna.email])


def test_running_the_job_twice_sends_nothing_twice(anna, bram, org):
    authorization(bram, org, days(50))
    run()
    second = run()
    assert (second.due, second.claimed, second.queued) == (0, 0, 0)
    assert len(emails()) == 2


@pytest.mark.parametrize(
    ("days_left", "stage"),
    [(0, Stage.ONE_WEEK), (7, Stage.ONE_WEEK), (8, Stage.ONE_MONTH), (20, Stage.ONE_MONTH), (50, Stage.TWO_MONTHS)],
)
def test_only_the_stage_not_yet_passed_is_sent(bram, org, days_left, stage):
    item = authorization(bram, org, days(days_left))
    run()
    assert list(RenewalReminder.objects.values_list("object_id", "stage")) == [(item.pk, stage)]
    assert len(emails("renewal_reminder_user")) == 1


def test_nothing_beyond_two_months_nor_expired_nor_revoked(bram, org):
    authorization(bram, org, timezone.localdate() + relativedelta(months=2, days=1))
    authorization(bram, org, days(-1))
    authorization(bram, org, days(30), revoked=True)
    assert run().due == 0
    assert emails() == []


def test_each_stage_comes_once_as_the_date_approaches(anna, bram, org):
    item = authorization(bram, org, days(55))
    today = timezone.localdate()
    for offset in range(0, 56):
        run(today=today + datetime.timedelta(days=offset))
    stages = list(RenewalReminder.objects.filter(object_id=item.pk).order_by("id").values_list("stage", flat=True))
    assert stages == [Stage.TWO_MONTHS, Stage.ONE_MONTH, Stage.ONE_WEEK]
    assert len(emails("renewal_reminder_user")) == 3
    assert len(emails("renewal_reminder_manager")) == 3


def test_a_renewal_moves_the_date_and_arms_the_next_round(anna, bram, org, service_eh2):
    item = authorization(bram, org, days(20), service=service_eh2, level=AssuranceLevel.EH2)
    run()
    authorization_renew(actor=anna, authorization=item, years=1)
    item.refresh_from_db()
    assert run().due == 0  # renewed: nothing due now
    later = item.valid_until - datetime.timedelta(days=50)
    result = run(today=later)
    assert result.claimed == 1
    assert RenewalReminder.objects.filter(object_id=item.pk, valid_until=item.valid_until, stage="2m").exists()


def test_each_manager_gets_one_digest_listing_all_their_expiring_authorizations(
    anna, bram, pim, org, other_org, daan, service_eh2
):
    second_manager = UserFactory(email="mia.manager@voorbeeld-bv1.nl", first_name="Mia")
    MeansFactory(owner=second_manager, level=AssuranceLevel.EH3)
    make_manager(second_manager, org)
    rows = [authorization(bram, org, days(d)) for d in (5, 20, 50)] + [authorization(pim, org, days(40))]
    outsider = authorization(UserFactory(), other_org, days(10))
    run()
    digests = {e.to: e for e in emails("renewal_reminder_manager")}
    assert set(digests) == {anna.email, second_manager.email, daan.email}
    for manager in (anna.email, second_manager.email):
        body = digests[manager].body_text
        assert body.count("\n- ") == 4
        ids = ",".join(str(a.pk) for a in sorted(rows, key=lambda a: a.valid_until))
        assert f"/manage/permissions/renew/?ids={ids}" in body
    assert digests[daan.email].body_text.count("\n- ") == 1
    assert f"?ids={outsider.pk}" in digests[daan.email].body_text
    # The user gets one email listing their own three, with whom to ask for renewal.
    bram_mail = OutboxEmail.objects.get(kind="renewal_reminder_user", to=bram.email)
    assert bram_mail.body_text.count("\n- ") == 3
    assert f"mailto:{anna.email}" in bram_mail.body_html and f"mailto:{second_manager.email}" in bram_mail.body_html


def test_a_former_manager_gets_no_digest(anna, bram, org):
    from organizations.models import Membership

    Membership.objects.filter(user=anna, organization=org).update(manager_until=days(-1))
    authorization(bram, org, days(20))
    run()
    assert emails("renewal_reminder_manager") == []
    assert len(emails("renewal_reminder_user")) == 1


def test_reminders_are_written_in_each_recipients_language(anna, bram, org):
    anna.language = "en"
    anna.save()
    item = authorization(bram, org, datetime.date(timezone.localdate().year + 1, 1, 10))
    run(today=item.valid_until - datetime.timedelta(days=20))
    manager_mail = OutboxEmail.objects.get(kind="renewal_reminder_manager")
    user_mail = OutboxEmail.objects.get(kind="renewal_reminder_user")
    assert (manager_mail.language, user_mail.language) == ("en", "nl")
    assert "10 January" in manager_mail.body_text and "/en/manage/permissions/renew/?ids=" in manager_mail.body_text
    assert "10 januari" in user_mail.body_text
    assert manager_mail.body_text.startswith("Dear Anna,") and user_mail.body_text.startswith("Beste Bram,")


def test_an_expiring_means_reminds_its_owner(bram):
    means = bram.means.get()
    means.valid_until = days(6)
    means.save()
    run()
    (reminder,) = emails("renewal_reminder_user")
    assert reminder.to == bram.email and "EH3" in reminder.body_text
    assert RenewalReminder.objects.get().key == f"reminder:means:{means.pk}:{means.valid_until}:1w"


def test_a_template_error_fails_that_email_and_the_others_still_go_out(anna, bram, org, settings, tmp_path):
    # A manager's digest whose template breaks: the users' emails are still queued and sent.
    broken = tmp_path / "notifications" / "email"
    broken.mkdir(parents=True)
    (broken / "renewal_reminder_manager_body.txt").write_text("{% if %}")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    authorization(bram, org, days(20))
    result = run()
    assert (result.queued, result.failed) == (1, 1)
    failed = OutboxEmail.objects.get(kind="renewal_reminder_manager")
    assert failed.status == OutboxEmail.Status.FAILED and "TemplateSyntaxError" in failed.last_error
    from notifications.services import outbox_flush

    assert outbox_flush().sent == 1 and mail.outbox[0].to == [bram.email]


def test_dry_run_lists_and_changes_nothing(anna, bram, org, capsys):
    authorization(bram, org, days(20))
    call_command("send_renewal_reminders", "--dry-run")
    out = capsys.readouterr().out
    assert f"renewal_reminder_user → {bram.email}" in out and f"renewal_reminder_manager → {anna.email}" in out
    assert "1 reminders due, 2 emails would be sent" in out
    assert not RenewalReminder.objects.exists() and not OutboxEmail.objects.exists()


def test_the_command_runs_the_job_and_mails_arrive(anna, bram, org, django_capture_on_commit_callbacks, capsys):
    authorization(bram, org, days(20))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_renewal_reminders")
    assert "1 reminders due, 2 emails queued." in capsys.readouterr().out
    assert sorted(m.to[0] for m in mail.outbox) == sorted([anna.email, bram.email])
    assert set(OutboxEmail.objects.values_list("status", flat=True)) == {OutboxEmail.Status.SENT}


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_send_each_reminder_once(org, anna, bram, pim):
    from tests.rules.conftest import run_simultaneously

    for user in (bram, pim):
        for d in (5, 20, 50):
            authorization(user, org, days(d))
    MembershipFactory(organization=org)  # a plain member: no digest
    results = run_simultaneously(lambda _: renewal_reminders_send(), count=4)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r.claimed for r in results) == 6
    assert RenewalReminder.objects.count() == 6
    assert sorted(OutboxEmail.objects.values_list("to", flat=True)) == sorted([anna.email, bram.email, pim.email])
    # Eager in-process delivery after each commit: every email went out once.
    assert sorted(m.to[0] for m in mail.outbox) == sorted([anna.email, bram.email, pim.email])


def test_the_digest_link_opens_the_renew_page_with_those_rows(client, anna, bram, pim, org, service_eh2, service_eh3):
    import re

    from tests.conftest import login

    rows = [
        authorization(bram, org, days(20), service=service_eh2),
        authorization(pim, org, days(40), service=service_eh3),
    ]
    run()
    digest = OutboxEmail.objects.get(kind="renewal_reminder_manager")
    url = re.search(r"http://\S+/manage/permissions/renew/\?ids=\S+", digest.body_text).group(0)
    login(client, anna)
    page = client.get(url.removeprefix(settings.PORTAL_BASE_URL))
    assert page.status_code == 200
    for row in rows:
        assert row.service.name in page.text
