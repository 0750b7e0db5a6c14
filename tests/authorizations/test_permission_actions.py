"""Row actions of the Permissions list (issue 3, items 4-7): revoke, renew one, renew many, activate.

Every change is a POST through the services with an audit event; GET only shows a confirmation;
bad input gives a clear message and changes nothing; another organisation's id is a 404.
"""

import re
from contextlib import contextmanager

import pytest
from dateutil.relativedelta import relativedelta
from django.urls import reverse, reverse_lazy
from django.utils import timezone, translation

from audit.models import AuditEvent
from authorizations.models import Authorization
from notifications.models import OutboxEmail
from tests.conftest import login
from tests.factories import AuthorizationFactory

LIST = reverse_lazy("permission_list")


@pytest.fixture(autouse=True)
def english():
    """The assertions read the English messages: every URL here is reversed under /en/."""
    with translation.override("en"):
        yield


def today():
    return timezone.localdate()


def fresh(authorization) -> Authorization:
    return Authorization.objects.get(pk=authorization.pk)


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def text(response) -> str:
    return response.content.decode()


@contextmanager
def nothing_changes():
    """No authorization changes and no audit event other than a logged refusal; no email queued."""
    before = list(Authorization.objects.order_by("pk").values())
    audit_before = set(AuditEvent.objects.exclude(action="access.denied").values_list("pk", flat=True))
    outbox_before = OutboxEmail.objects.count()
    yield
    assert list(Authorization.objects.order_by("pk").values()) == before
    assert set(AuditEvent.objects.exclude(action="access.denied").values_list("pk", flat=True)) == audit_before
    assert OutboxEmail.objects.count() == outbox_before


@pytest.fixture
def manager(client, anna):
    return login(client, anna)


def seen(authorization, **data) -> dict:
    """A renew or activate form as the page sent it: with the end date the manager saw."""
    return {"seen_until": authorization.valid_until.isoformat(), **data}


def renew(client, authorization, period, **extra):
    return client.post(
        reverse("permission_renew", args=[authorization.pk]), seen(authorization, period=period), **extra
    )


def activate(client, authorization, period, **extra):
    return client.post(
        reverse("permission_activate", args=[authorization.pk]), seen(authorization, period=period), **extra
    )


@pytest.fixture
def active(bram, org, service_eh2):
    return AuthorizationFactory(user=bram, organization=org, service=service_eh2, level="EH2")


@pytest.fixture
def expired(bram, org, service_eh2):
    return AuthorizationFactory(user=bram, organization=org, service=service_eh2, level="EH2", expired=True)


@pytest.fixture
def revoked(bram, org, service_eh2):
    return AuthorizationFactory(user=bram, organization=org, service=service_eh2, level="EH2", revoked=True)


@pytest.fixture
def theirs(daan, other_org, service_eh2):
    """An authorization of the organisation daan manages, which anna does not."""
    return AuthorizationFactory(user=daan, organization=other_org, service=service_eh2, level="EH2")


@pytest.fixture
def theirs_expired(daan, other_org, service_eh2):
    return AuthorizationFactory(user=daan, organization=other_org, service=service_eh2, level="EH2", expired=True)


# --- Revoke (item 4) -------------------------------------------------------------------------------


def test_revoke_get_shows_a_confirmation_and_changes_nothing(manager, active):
    with nothing_changes():
        response = manager.get(reverse("permission_revoke", args=[active.pk]))
    assert response.status_code == 200
    html = text(response)
    assert "can no longer log in for Voorbeeld BV 1" in html
    assert f'<form method="post" action="{reverse("permission_revoke", args=[active.pk])}"' in html
    assert "csrfmiddlewaretoken" in html


def test_revoke_post_revokes_at_once_audits_and_emails_the_user(manager, anna, bram, active):
    response = manager.post(reverse("permission_revoke", args=[active.pk]), {"next": LIST + "?q=bram"}, follow=True)
    assert response.redirect_chain[-1][0] == LIST + "?q=bram"
    stored = fresh(active)
    assert stored.status == "revoked" and stored.revoked_by == anna
    assert not Authorization.objects.in_force().filter(pk=active.pk).exists()
    [event] = events("authorization.revoke")
    assert event.object_id == str(active.pk) and event.actor == anna
    assert OutboxEmail.objects.filter(kind="authorization_revoked", to=bram.email).count() == 1
    assert "can no longer log in for Voorbeeld BV 1" in text(response)
    # the list shows it no longer, unless inactive rows are asked for
    assert f'data-id="{active.pk}"' not in text(manager.get(LIST))
    assert f'data-id="{active.pk}" data-status="revoked"' in text(manager.get(LIST, {"show_inactive": "1"}))


def test_revoking_an_already_revoked_one_says_so_and_changes_nothing(manager, revoked):
    with nothing_changes():
        response = manager.post(reverse("permission_revoke", args=[revoked.pk]), follow=True)
    assert "This authorization was already revoked." in text(response)


def test_revoke_of_another_organisations_id_is_404_changes_nothing_and_is_logged(manager, anna, theirs):
    with nothing_changes():
        assert manager.get(reverse("permission_revoke", args=[theirs.pk])).status_code == 404
        assert manager.post(reverse("permission_revoke", args=[theirs.pk])).status_code == 404
    denied = AuditEvent.objects.filter(action="access.denied", actor=anna)
    assert denied.count() == 2
    assert denied.first().data["pk"] == str(theirs.pk)


def test_revoke_of_an_unknown_id_is_404(manager):
    assert manager.post(reverse("permission_revoke", args=[999999])).status_code == 404


def test_revoke_refuses_a_foreign_next_url(manager, active):
    response = manager.post(reverse("permission_revoke", args=[active.pk]), {"next": "https://evil.example/"})
    assert response.status_code == 302
    assert response["Location"] == LIST


# --- Renew one (item 5) ----------------------------------------------------------------------------


def test_renew_get_offers_the_periods_that_fit_with_their_new_end_dates_and_changes_nothing(manager, active):
    with nothing_changes():
        response = manager.get(reverse("permission_renew", args=[active.pk]))
    assert response.status_code == 200
    html = text(response)
    assert f'name="seen_until" value="{active.valid_until:%Y-%m-%d}"' in html
    for years in (1, 3, 5):
        new_end = active.valid_until + relativedelta(years=years)
        fits = new_end <= today() + relativedelta(years=5)
        assert (f'name="period" id="period-{years}" value="{years}"' in html) == fits
        assert (f'<time datetime="{new_end:%Y-%m-%d}">' in html) == fits


@pytest.mark.parametrize("years", [1, 3])
def test_renew_extends_by_exactly_the_chosen_years_with_an_audit_event(manager, anna, active, years):
    response = renew(manager, active, str(years))
    assert response.status_code == 302 and response["Location"] == LIST
    assert fresh(active).valid_until == active.valid_until + relativedelta(years=years)
    [event] = events("authorization.renew")
    assert event.object_id == str(active.pk) and event.data["years"] == years and event.actor == anna


def test_renew_beyond_five_years_ahead_is_refused_and_changes_nothing(manager, active):
    with nothing_changes():
        response = renew(manager, active, "5", follow=True)
    assert "An end date can be at most five years ahead" in text(response)


@pytest.mark.parametrize("period", ["2", "0", "10", "", "abc"])
def test_renew_with_a_bad_period_gives_a_message_and_changes_nothing(manager, active, period):
    with nothing_changes():
        response = renew(manager, active, period)
    assert response.status_code == 200
    assert "Choose a period of 1, 3 or 5 years." in text(response)


def test_a_repeated_renew_submit_changes_nothing_and_says_so(manager, active):
    """Issue finding: a double submit renewed twice. The form carries the end date the manager saw."""
    assert renew(manager, active, "1").status_code == 302
    once = fresh(active).valid_until
    with nothing_changes():
        response = renew(manager, active, "1", follow=True)  # the same form, sent again
    assert fresh(active).valid_until == once == active.valid_until + relativedelta(years=1)
    assert (
        f"This authorization was changed meanwhile and now runs until {once.isoformat()}; nothing was changed."
        in text(response)
    )
    assert len(events("authorization.renew")) == 1


def test_a_renew_form_without_the_end_date_seen_changes_nothing(manager, active):
    with nothing_changes():
        response = manager.post(reverse("permission_renew", args=[active.pk]), {"period": "1"})
    assert response.status_code == 200
    assert "This page was out of date; nothing was changed." in text(response)


def test_renew_of_an_expired_one_says_activate_instead_and_changes_nothing(manager, expired):
    with nothing_changes():
        response = renew(manager, expired, "1", follow=True)
    assert "This authorization has expired; activate it instead, which starts a new period." in text(response)


def test_renew_of_a_revoked_one_says_request_a_new_one_and_changes_nothing(manager, revoked):
    with nothing_changes():
        response = renew(manager, revoked, "1", follow=True)
    assert "A revoked authorization cannot be renewed or reactivated; request a new one." in text(response)


def test_renew_above_the_users_means_gives_the_reason_and_changes_nothing(manager, bram, org, service_eh2):
    bram.means.update(level="EH2")
    eh3 = AuthorizationFactory(user=bram, organization=org, service=service_eh2, level="EH3")
    with nothing_changes():
        response = renew(manager, eh3, "1", follow=True)
    assert "EH3 is above the level of Bram Visser&#x27;s means (EH2)." in text(response)


def test_renew_of_another_organisations_id_is_404_and_changes_nothing(manager, theirs):
    with nothing_changes():
        assert manager.get(reverse("permission_renew", args=[theirs.pk])).status_code == 404
        assert renew(manager, theirs, "1").status_code == 404


# --- Renew many: the "Renew permissions" button (item 5) ---------------------------------------------


def many(authorizations, **data) -> dict:
    """The "Renew permissions" form: the ids, and each row's end date as the page showed it."""
    return {
        "ids": [a.pk for a in authorizations],
        **{f"until_{a.pk}": a.valid_until.isoformat() for a in authorizations},
        **data,
    }


@pytest.fixture
def two(bram, org, service_eh2):
    return [
        AuthorizationFactory(user=bram, organization=org, service=service_eh2, expiring=True),
        AuthorizationFactory(user=bram, organization=org, service=service_eh2),
    ]


def test_renew_many_get_shows_the_selection_with_new_end_dates_and_changes_nothing(manager, two):
    url = reverse("permission_renew_many")
    with nothing_changes():
        response = manager.get(url, {"ids": [a.pk for a in two]})
    assert response.status_code == 200
    html = text(response)
    assert sorted(int(pk) for pk in re.findall(r'data-testid="renew-row" data-id="(\d+)"', html)) == sorted(
        a.pk for a in two
    )
    for authorization in two:
        for years in (1, 3):  # five years would end too far ahead for the running one: not offered
            new_end = authorization.valid_until + relativedelta(years=years)
            assert f'<td class="text-nowrap" data-period="{years}"><time datetime="{new_end:%Y-%m-%d}">' in html
        assert 'data-period="5"' not in html and 'id="period-5"' not in html
        assert f'name="ids" value="{authorization.pk}" checked' in html
        assert f'name="until_{authorization.pk}" value="{authorization.valid_until:%Y-%m-%d}"' in html
    assert "Renew 2 permissions" in html


def test_renew_many_post_renews_each_with_one_audit_event_per_authorization(manager, anna, two, active):
    response = manager.post(reverse("permission_renew_many"), many(two, period="3"), follow=True)
    for authorization in two:
        assert fresh(authorization).valid_until == authorization.valid_until + relativedelta(years=3)
    assert fresh(active).valid_until == active.valid_until  # not selected, not touched
    renewed = events("authorization.renew")
    assert sorted(e.object_id for e in renewed) == sorted(str(a.pk) for a in two)
    assert all(e.actor == anna for e in renewed)
    assert "2 permissions renewed." in text(response)


def test_renew_many_with_everything_expiring_lists_only_the_expiring_running_ones(
    manager, two, expired, bram, org, service_eh2
):
    revoked_soon = AuthorizationFactory(user=bram, organization=org, service=service_eh2, expiring=True, revoked=True)
    with nothing_changes():
        response = manager.get(reverse("permission_renew_many"), {"expiring": "1"})
    shown = [int(pk) for pk in re.findall(r'data-testid="renew-row" data-id="(\d+)"', text(response))]
    assert shown == [two[0].pk]
    assert revoked_soon.pk not in shown and expired.pk not in shown


def test_renew_many_with_an_id_of_another_organisation_is_404_and_changes_nothing(manager, two, theirs):
    ids = [two[0].pk, theirs.pk]
    with nothing_changes():
        assert manager.get(reverse("permission_renew_many"), {"ids": ids}).status_code == 404
        assert manager.post(reverse("permission_renew_many"), {"ids": ids, "period": "1"}).status_code == 404


@pytest.mark.parametrize("ids", [["abc"], ["1;2"]])
def test_renew_many_with_garbage_ids_is_404(manager, two, ids):
    with nothing_changes():
        assert manager.post(reverse("permission_renew_many"), {"ids": ids, "period": "1"}).status_code == 404


def test_renew_many_with_period_two_gives_a_message_and_changes_nothing(manager, two):
    with nothing_changes():
        response = manager.post(reverse("permission_renew_many"), many(two, period="2"))
    assert response.status_code == 200
    assert "Choose a period of 1, 3 or 5 years." in text(response)


def test_renew_many_renews_nothing_when_one_of_them_cannot_be_renewed(manager, two, revoked):
    with nothing_changes():
        response = manager.post(reverse("permission_renew_many"), many([two[0], revoked, two[1]], period="1"))
    html = text(response)
    assert "cannot be renewed; nothing was renewed" in html
    assert "A revoked authorization cannot be renewed or reactivated; request a new one." in html


def test_renew_many_is_all_or_nothing_when_a_service_check_fails(manager, two, bram, org, service_eh2):
    """The second row fails rule 1 in the service: the first one's renewal is rolled back too."""
    bram.means.update(level="EH2")
    too_high = AuthorizationFactory(
        user=bram,
        organization=org,
        service=service_eh2,
        level="EH3",
        valid_until=two[1].valid_until + relativedelta(days=1),
    )
    with nothing_changes():
        response = manager.post(reverse("permission_renew_many"), many([*two, too_high], period="1"))
    assert "is above the level of Bram Visser" in text(response)
    assert "Nothing was renewed: some permissions cannot be renewed." in text(response)
    assert f'data-id="{too_high.pk}" class="table-danger"' in text(response)


def test_a_repeated_renew_many_submit_changes_nothing_and_says_so(manager, two):
    assert manager.post(reverse("permission_renew_many"), many(two, period="1")).status_code == 302
    with nothing_changes():
        response = manager.post(reverse("permission_renew_many"), many(two, period="1"))
    assert "Nothing was renewed" in text(response)
    assert "was changed meanwhile" in text(response)
    assert len(events("authorization.renew")) == 2


def test_renew_many_without_a_selection_sends_back_with_a_message(manager, two):
    with nothing_changes():
        response = manager.get(reverse("permission_renew_many"), follow=True)
    assert response.redirect_chain[-1][0] == LIST
    assert "Select the permissions you want to renew first." in text(response)


# --- Activate (item 6) -----------------------------------------------------------------------------


def test_activate_get_shows_the_new_period_and_changes_nothing(manager, expired):
    with nothing_changes():
        response = manager.get(reverse("permission_activate", args=[expired.pk]))
    assert response.status_code == 200
    assert f'action="{reverse("permission_activate", args=[expired.pk])}"' in text(response)


def test_activate_starts_a_new_period_of_one_year_by_default_choice(manager, anna, expired):
    response = activate(manager, expired, "1", follow=True)
    stored = fresh(expired)
    assert stored.status == "active"
    assert stored.valid_from == today()
    assert stored.valid_until == today() + relativedelta(years=1)
    [event] = events("authorization.reactivate")
    assert event.object_id == str(expired.pk) and event.actor == anna
    assert f'data-id="{expired.pk}" data-status="active"' in text(manager.get(LIST))
    assert "activated until" in text(response)


def test_activate_for_five_years(manager, expired):
    activate(manager, expired, "5")
    assert fresh(expired).valid_until == today() + relativedelta(years=5)


def test_activating_a_revoked_one_says_why_not_and_changes_nothing(manager, revoked):
    with nothing_changes():
        page = manager.get(reverse("permission_activate", args=[revoked.pk]))
        response = activate(manager, revoked, "1", follow=True)
    assert "A revoked authorization cannot be renewed or reactivated; request a new one." in text(page)
    assert "A revoked authorization cannot be renewed or reactivated; request a new one." in text(response)


def test_activating_a_running_one_is_refused_and_changes_nothing(manager, active):
    with nothing_changes():
        response = activate(manager, active, "1", follow=True)
    assert "Only an expired authorization can be activated." in text(response)


def test_a_repeated_activate_submit_changes_nothing_and_says_so(manager, expired):
    assert activate(manager, expired, "1").status_code == 302
    now = fresh(expired)
    with nothing_changes():
        response = activate(manager, expired, "3", follow=True)  # the form of before, sent again
    assert fresh(expired).valid_until == now.valid_until
    assert "was changed meanwhile" in text(response)
    assert len(events("authorization.reactivate")) == 1


def test_activate_with_period_two_gives_a_message_and_changes_nothing(manager, expired):
    with nothing_changes():
        response = activate(manager, expired, "2")
    assert "Choose a period of 1, 3 or 5 years." in text(response)


def test_activate_of_another_organisations_id_is_404_and_changes_nothing(manager, theirs_expired):
    with nothing_changes():
        assert manager.get(reverse("permission_activate", args=[theirs_expired.pk])).status_code == 404
        assert activate(manager, theirs_expired, "1").status_code == 404


# --- Who may act (item 8) --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data"),
    [("permission_revoke", {}), ("permission_renew", {"period": "1"}), ("permission_activate", {"period": "1"})],
)
def test_a_plain_user_gets_403_and_changes_nothing(client, pim, active, expired, name, data):
    login(client, pim)
    target = expired if name == "permission_activate" else active
    with nothing_changes():
        assert client.post(reverse(name, args=[target.pk]), data).status_code == 403
        assert client.post(reverse("permission_renew_many"), {"ids": [active.pk], "period": "1"}).status_code == 403


def test_a_manager_without_second_factor_is_sent_to_the_mfa_step_and_changes_nothing(client, anna, active):
    login(client, anna, second_factor=False)
    with nothing_changes():
        response = client.post(reverse("permission_revoke", args=[active.pk]))
    assert response.status_code == 302
    assert "/accounts/2fa/" in response["Location"]


def test_support_staff_cannot_use_the_manage_pages(client, support, active):
    login(client, support)
    with nothing_changes():
        assert client.post(reverse("permission_revoke", args=[active.pk])).status_code == 403


def test_put_and_delete_are_not_allowed(manager, active):
    with nothing_changes():
        assert manager.delete(reverse("permission_revoke", args=[active.pk])).status_code == 405
        assert manager.put(reverse("permission_renew", args=[active.pk])).status_code == 405
        assert manager.post(LIST).status_code == 405


def test_every_action_form_carries_a_csrf_token(manager, active, expired):
    html = text(manager.get(LIST, {"show_inactive": "1"}))
    forms = re.findall(r'<form method="post".*?</form>', html, flags=re.S)
    assert len(forms) >= 2
    assert all("csrfmiddlewaretoken" in form for form in forms)
