"""Rule 5: authorizations run valid_from..valid_until; renewals extend by exactly
1, 3 or 5 years from the current end date; no period exceeds 5 years."""

import datetime

import pytest
from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.utils import timezone

from audit.models import AuditEvent
from authorizations.models import Authorization
from authorizations.services import authorization_reactivate, authorization_renew
from reconi.rules import end_date_refusal, new_end, periods_that_fit
from tests.factories import AuthorizationFactory, UserFactory
from tests.rules.conftest import grant, nothing_changes
from users.services import check_period, means_issue

BAD_PERIODS = [2, 0, 6, 4, -1, 10, "x", "", None, 2.5, 1.5, 5.9, True, "3 years", [3]]
PERIOD_MESSAGE = "Choose a period of 1, 3 or 5 years."


@pytest.mark.parametrize("years", [1, 3, 5, "1", "3", "5"])
def test_periods_of_1_3_or_5_years_are_accepted(years):
    assert check_period(years) == int(years)


@pytest.mark.parametrize("years", BAD_PERIODS)
def test_other_periods_are_refused(years):
    with pytest.raises(ValidationError) as excinfo:
        check_period(years)
    assert excinfo.value.message_dict == {"period": [PERIOD_MESSAGE]}


@pytest.mark.parametrize("years", [1, 3, 5])
def test_grant_runs_exactly_the_chosen_years_from_today(anna, bram, org, service_eh2, years):
    today = timezone.localdate()
    authorization = grant(actor=anna, user=bram, organization=org, service=service_eh2, years=years)
    assert authorization.valid_from == today
    assert authorization.valid_until == today + relativedelta(years=years)


@pytest.mark.parametrize("years", BAD_PERIODS)
def test_grant_with_another_period_changes_nothing(anna, bram, org, service_eh2, years):
    with nothing_changes(), pytest.raises(ValidationError) as excinfo:
        grant(actor=anna, user=bram, organization=org, service=service_eh2, years=years)
    assert excinfo.value.message_dict == {"period": [PERIOD_MESSAGE]}


def test_a_granted_period_never_exceeds_5_years(anna, bram, org, service_eh2):
    authorization = grant(actor=anna, user=bram, organization=org, service=service_eh2, years=5)
    assert authorization.valid_until <= authorization.valid_from + relativedelta(years=5)
    with nothing_changes(), pytest.raises(ValidationError, match="1, 3 or 5 years"):
        grant(actor=anna, user=bram, organization=org, service=service_eh2, years=6)


@pytest.mark.parametrize("years", [1, 3])
def test_renew_extends_by_exactly_n_years_from_the_current_end_date(anna, bram, org, service_eh2, years):
    end = timezone.localdate() + datetime.timedelta(days=40)
    authorization = AuthorizationFactory(user=bram, organization=org, service=service_eh2, valid_until=end)
    start = authorization.valid_from
    renewed = authorization_renew(
        actor=anna, authorization=authorization, years=years, expected_valid_until=authorization.valid_until
    )
    assert renewed.valid_until == end + relativedelta(years=years)
    assert renewed.valid_from == start
    stored = Authorization.objects.get(pk=authorization.pk)
    assert (stored.valid_from, stored.valid_until) == (start, end + relativedelta(years=years))


def test_renew_of_a_leap_day_end_lands_on_the_last_day_of_february(anna, bram, org, service_eh2):
    authorization = AuthorizationFactory(
        user=bram,
        organization=org,
        service=service_eh2,
        valid_from=datetime.date(2023, 3, 1),
        valid_until=datetime.date(2028, 2, 29),
    )
    renewed = authorization_renew(
        actor=anna, authorization=authorization, years=1, expected_valid_until=authorization.valid_until
    )
    assert renewed.valid_until == datetime.date(2029, 2, 28)


@pytest.mark.parametrize("years", BAD_PERIODS)
def test_renew_with_another_period_changes_nothing(anna, bram, org, service_eh2, years):
    authorization = AuthorizationFactory(user=bram, organization=org, service=service_eh2)
    with nothing_changes(), pytest.raises(ValidationError) as excinfo:
        authorization_renew(
            actor=anna, authorization=authorization, years=years, expected_valid_until=authorization.valid_until
        )
    assert excinfo.value.message_dict == {"period": [PERIOD_MESSAGE]}


@pytest.mark.parametrize("years", [2, 0, 6, "x"])
def test_reactivate_with_another_period_changes_nothing(anna, bram, org, service_eh2, years):
    authorization = AuthorizationFactory(user=bram, organization=org, service=service_eh2, expired=True)
    with nothing_changes(), pytest.raises(ValidationError, match="1, 3 or 5 years"):
        authorization_reactivate(actor=anna, authorization=authorization, years=years)


@pytest.mark.parametrize("years", [2, 0, 6, "x"])
def test_means_period_is_1_3_or_5_years_too(support, years):
    person = UserFactory()
    with nothing_changes(), pytest.raises(ValidationError, match="1, 3 or 5 years"):
        means_issue(actor=support, owner=person, level="EH3", years=years)


def test_renew_writes_one_audit_event_with_old_and_new_end(anna, bram, org, service_eh2):
    end = timezone.localdate() + datetime.timedelta(days=10)
    authorization = AuthorizationFactory(user=bram, organization=org, service=service_eh2, valid_until=end)
    count = AuditEvent.objects.count()
    authorization_renew(
        actor=anna, authorization=authorization, years=3, expected_valid_until=authorization.valid_until
    )
    assert AuditEvent.objects.count() == count + 1
    event = AuditEvent.objects.order_by("-id").first()
    assert event.data["from"] == end.isoformat()
    assert event.data["to"] == (end + relativedelta(years=3)).isoformat()


def test_renewing_what_was_already_renewed_meanwhile_changes_nothing(anna, bram, org, service_eh2):
    # Two tabs showed the same end date; the second click must not add another period.
    authorization = AuthorizationFactory(user=bram, organization=org, service=service_eh2, expiring=True)
    end = authorization.valid_until
    first = authorization_renew(
        actor=anna, authorization=authorization, years=1, expected_valid_until=authorization.valid_until
    )
    with nothing_changes(), pytest.raises(ValidationError) as excinfo:
        authorization_renew(
            actor=anna, authorization=authorization, years=1, expected_valid_until=authorization.valid_until
        )
    new_end = (end + relativedelta(years=1)).isoformat()
    assert excinfo.value.messages == [
        f"This authorization was changed meanwhile and now runs until {new_end}; nothing was changed. "
        "Check it and try again if needed."
    ]
    # Renewing what one sees now is fine: the returned instance, or the date the page showed.
    second = authorization_renew(actor=anna, authorization=first, years=1, expected_valid_until=first.valid_until)
    assert second.valid_until == end + relativedelta(years=2)
    third = authorization_renew(
        actor=anna, authorization=authorization, years=1, expected_valid_until=second.valid_until
    )
    assert third.valid_until == end + relativedelta(years=3)


def test_a_grant_cannot_start_in_the_past(anna, bram, org, service_eh2):
    # A backdated grant would look as if it had been in force before anyone granted it.
    with nothing_changes(), pytest.raises(ValidationError) as excinfo:
        grant(
            actor=anna,
            user=bram,
            organization=org,
            service=service_eh2,
            valid_from=timezone.localdate() - datetime.timedelta(days=1),
        )
    assert excinfo.value.message_dict == {"valid_from": ["An authorization cannot start before today."]}


def test_a_grant_may_start_later_and_is_pending_until_then(anna, bram, org, service_eh2):
    start = timezone.localdate() + datetime.timedelta(days=14)
    authorization = grant(actor=anna, user=bram, organization=org, service=service_eh2, valid_from=start, years=3)
    assert (authorization.valid_from, authorization.valid_until) == (start, start + relativedelta(years=3))
    assert authorization.status == "pending"


# An end date is never more than five years after the day it is set ---------------------------------


def _too_far(end, today=None) -> str:
    today = today or timezone.localdate()
    return (
        f"An end date can be at most five years ahead (until {(today + relativedelta(years=5)).isoformat()}); "
        f"{end.isoformat()} is too far."
    )


def test_the_periods_that_fit_are_those_ending_within_five_years_of_today():
    today = datetime.date(2026, 12, 1)
    assert periods_that_fit(current_end=None, today=today) == [1, 3, 5]
    assert periods_that_fit(current_end=today - datetime.timedelta(days=3), today=today) == [1, 3, 5]
    assert periods_that_fit(current_end=today + datetime.timedelta(days=20), today=today) == [1, 3]
    assert periods_that_fit(current_end=today + relativedelta(years=2), today=today) == [1, 3]
    assert periods_that_fit(current_end=today + relativedelta(years=2, days=1), today=today) == [1]
    assert periods_that_fit(current_end=today + relativedelta(years=4, days=1), today=today) == []
    assert end_date_refusal(end=today + relativedelta(years=5), today=today) is None
    assert end_date_refusal(end=today + relativedelta(years=5, days=1), today=today).code == "too_far_ahead"


def test_three_five_year_renewals_never_reach_twenty_years_ahead(anna, bram, org, service_eh2):
    """Issue finding: rule 5 read per renewal let an authorization run twenty years ahead."""
    authorization = grant(actor=anna, user=bram, organization=org, service=service_eh2, years=5)
    end = authorization.valid_until
    for years in (5, 3, 1):
        with nothing_changes(), pytest.raises(ValidationError) as excinfo:
            authorization_renew(actor=anna, authorization=authorization, years=years, expected_valid_until=end)
        assert excinfo.value.message_dict == {"period": [_too_far(end + relativedelta(years=years))]}


def test_a_renewal_that_ends_within_five_years_is_allowed(anna, bram, org, service_eh2):
    authorization = grant(actor=anna, user=bram, organization=org, service=service_eh2, years=1)
    renewed = authorization_renew(
        actor=anna, authorization=authorization, years=3, expected_valid_until=authorization.valid_until
    )
    assert renewed.valid_until == timezone.localdate() + relativedelta(years=4)
    with nothing_changes(), pytest.raises(ValidationError):
        authorization_renew(actor=anna, authorization=renewed, years=3, expected_valid_until=renewed.valid_until)


def test_a_later_start_cannot_push_the_end_beyond_five_years(anna, bram, org, service_eh2):
    start = timezone.localdate() + datetime.timedelta(days=14)
    with nothing_changes(), pytest.raises(ValidationError) as excinfo:
        grant(actor=anna, user=bram, organization=org, service=service_eh2, valid_from=start, years=5)
    assert excinfo.value.message_dict == {"period": [_too_far(start + relativedelta(years=5))]}


def test_a_means_cannot_end_more_than_five_years_ahead_either(support):
    start = timezone.localdate() + datetime.timedelta(days=1)
    with nothing_changes(), pytest.raises(ValidationError) as excinfo:
        means_issue(actor=support, owner=UserFactory(), level="EH3", years=5, valid_from=start)
    assert excinfo.value.message_dict == {"period": [_too_far(start + relativedelta(years=5))]}


def test_a_renewal_from_an_end_date_in_the_past_runs_from_today():
    today = datetime.date(2026, 12, 1)
    assert new_end(current_end=datetime.date(2026, 1, 1), years=1, today=today) == datetime.date(2027, 12, 1)
    assert new_end(current_end=datetime.date(2027, 1, 1), years=1, today=today) == datetime.date(2028, 1, 1)
