"""Rule 6: expired or revoked authorizations grant nothing; status is derived from
the dates and revoked_at, never stored: pending, active, expired, revoked."""

import datetime

import pytest
from django.utils import timezone

from authorizations.models import Authorization, AuthorizationStatus
from authorizations.selectors import user_may_use_service
from tests.factories import AuthorizationFactory, UserFactory


def _dates(case):
    today = timezone.localdate()
    day = datetime.timedelta(days=1)
    return {
        # name: (valid_from, valid_until, revoked, expected status)
        "active": (today - day * 100, today + day * 100, False, "active"),
        "starts_today": (today, today + day * 100, False, "active"),
        "ends_today": (today - day * 100, today, False, "active"),
        "starts_tomorrow": (today + day, today + day * 100, False, "pending"),
        "ended_yesterday": (today - day * 100, today - day, False, "expired"),
        "revoked_active": (today - day * 100, today + day * 100, True, "revoked"),
        "revoked_expired": (today - day * 100, today - day, True, "revoked"),
        "revoked_pending": (today + day, today + day * 100, True, "revoked"),
    }[case]


CASES = [
    "active",
    "starts_today",
    "ends_today",
    "starts_tomorrow",
    "ended_yesterday",
    "revoked_active",
    "revoked_expired",
    "revoked_pending",
]


@pytest.fixture
def make(bram, org, service_eh2):
    def make(case):
        valid_from, valid_until, revoked, _expected = _dates(case)
        extra = {"revoked_at": timezone.now(), "revoked_by": UserFactory()} if revoked else {}
        return AuthorizationFactory(
            user=bram, organization=org, service=service_eh2, valid_from=valid_from, valid_until=valid_until, **extra
        )

    return make


def test_status_is_not_a_stored_column():
    columns = {field.column for field in Authorization._meta.concrete_fields}
    assert "status" not in columns
    assert {"valid_from", "valid_until", "revoked_at"} <= columns


@pytest.mark.parametrize("case", CASES)
def test_python_status_follows_dates_and_revoked_at(make, case):
    assert make(case).status == _dates(case)[3]


@pytest.mark.parametrize("case", CASES)
def test_sql_status_agrees_with_the_python_status(make, case):
    authorization = make(case)
    annotated = Authorization.objects.with_status().get(pk=authorization.pk)
    assert annotated.status_value == authorization.status == _dates(case)[3]


@pytest.mark.parametrize("case", CASES)
def test_with_status_in_and_in_force_agree_with_the_python_status(make, case):
    authorization = make(case)
    expected = _dates(case)[3]
    for status in AuthorizationStatus.values:
        found = Authorization.objects.with_status_in([status]).filter(pk=authorization.pk).exists()
        assert found is (status == expected), status
    assert Authorization.objects.in_force().filter(pk=authorization.pk).exists() is (expected == "active")


def test_all_three_agree_on_a_mixed_set_and_on_another_day(make):
    rows = [make(case) for case in CASES]
    later = timezone.localdate() + datetime.timedelta(days=50)
    for on in [None, later]:
        python = {a.pk: a.status_on(on) for a in rows}
        sql = dict(Authorization.objects.with_status(on).values_list("pk", "status_value"))
        assert sql == python
        for status in AuthorizationStatus.values:
            in_status = set(Authorization.objects.with_status_in([status], on=on).values_list("pk", flat=True))
            assert in_status == {pk for pk, value in python.items() if value == status}
        in_force = set(Authorization.objects.in_force(on).values_list("pk", flat=True))
        assert in_force == {pk for pk, value in python.items() if value == "active"}
    # On day 50 the pending ones have started and nothing else changed state.
    assert Authorization.objects.with_status_in(["pending"], on=later).count() == 0


def test_with_status_in_several_statuses_is_their_union(make):
    rows = {case: make(case) for case in ["active", "starts_tomorrow", "ended_yesterday", "revoked_active"]}
    found = set(Authorization.objects.with_status_in(["expired", "revoked"]).values_list("pk", flat=True))
    assert found == {rows["ended_yesterday"].pk, rows["revoked_active"].pk}
    assert Authorization.objects.with_status_in([]).count() == 0


@pytest.mark.parametrize("case", CASES)
def test_only_an_active_authorization_lets_the_user_in(make, bram, org, service_eh2, case):
    make(case)
    allowed = user_may_use_service(user=bram, organization=org, service=service_eh2, level="EH2")
    assert allowed is (_dates(case)[3] == "active")


def test_status_display_is_the_label(make):
    assert make("ended_yesterday").get_status_display() == "Expired"
