"""Renewing a means (docs/means-lifecycle.md).

The holder follows the reminder's link and asks for 1, 3 or 5 years; a working
manager approves (renewed at once), or else the representative signs and support
fulfils. Managers renew means themselves from Manage -> Users, one or a selection.
Each renewal extends from the current end (or today when expired), exactly once.
"""

import datetime
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from audit.models import AuditEvent
from authorizations.models import Authorization
from authorizations.reminders.services import renewal_reminders_send
from authorizations.services import authorization_renew
from notifications.models import OutboxEmail
from organizations.models import Membership
from organizations.services import manager_withdraw, means_renew_bulk
from reconi.levels import AssuranceLevel
from requests_app.models import Request
from requests_app.services import (
    means_renewal_approve,
    means_renewal_request_create,
    request_approve,
    request_fulfil,
)
from tests.conftest import login
from tests.factories import AuthorizationFactory, MeansFactory, MembershipFactory, OrganizationFactory, UserFactory
from tests.requests_app.conftest import en_url, outbox, sign_as
from tests.rules.conftest import snapshot
from users.models import Means

pytestmark = pytest.mark.usefixtures("english")


def today():
    return timezone.localdate()


def means_of(user) -> Means:
    return Means.objects.get(owner=user, status=Means.Status.ACTIVE)


def expiring(user, days=40) -> Means:
    means = means_of(user)
    Means.objects.filter(pk=means.pk).update(valid_until=today() + datetime.timedelta(days=days))
    means.refresh_from_db()
    return means


def unchanged():
    """Snapshot of the domain tables plus the requests; compare before and after."""
    return {**snapshot(), "requests": list(Request.objects.order_by("pk").values("pk", "status", "payload"))}


@pytest.fixture
def no_manager(anna, org, support):
    """org without a working manager: anna's role is withdrawn."""
    manager_withdraw(actor=support, membership=Membership.objects.get(user=anna, organization=org))
    return org


# --------------------------------------------------------------------------- the holder's request


def test_without_a_manager_the_representative_signs_and_support_fulfils_once(client, bram, carla, no_manager, support):
    means = expiring(bram)
    old_until = means.valid_until
    request = means_renewal_request_create(actor=bram, means=means, organization=no_manager, years=3)
    assert request.status == Request.Status.AWAITING_SIGNATURE
    assert outbox("signing_request", carla.email).exists()
    assert request.payload_for_means_renewal().price == Decimal("0.00")

    sign_as(client, request, carla)
    request.refresh_from_db()
    assert request.status == Request.Status.SUBMITTED
    means.refresh_from_db()
    assert means.valid_until == old_until  # signing alone renews nothing

    request_approve(actor=support, request=request)
    request_fulfil(actor=support, request=request)
    means.refresh_from_db()
    assert means.valid_until == old_until + relativedelta(years=3)
    assert outbox("means_renewed", bram.email).count() == 1

    before = unchanged()
    with pytest.raises(ValidationError):
        request_fulfil(actor=support, request=request)
    assert unchanged() == before
    assert AuditEvent.objects.filter(action="means.renew").count() == 1


def test_with_a_working_manager_the_manager_approves_and_the_means_is_renewed_at_once(client, anna, bram, org):
    means = expiring(bram)
    request = means_renewal_request_create(actor=bram, means=means, organization=org, years=1)
    assert request.payload_for_means_renewal().approvers == (anna.pk,)
    assert outbox("means_renewal_approve", anna.email).count() == 1
    assert not outbox("signing_request").exists()

    login(client, anna)
    url = en_url("request_detail", pk=request.pk)
    assert b"Approve and renew" in client.get(url).content
    client.post(url, {"action": "approve_renewal"})
    means.refresh_from_db()
    request.refresh_from_db()
    assert request.status == Request.Status.FULFILLED
    assert means.valid_until == today() + datetime.timedelta(days=40) + relativedelta(years=1)

    before = unchanged()
    response = client.post(url, {"action": "approve_renewal"}, follow=True)
    assert "no longer awaits approval" in response.content.decode()
    assert unchanged() == before


def test_a_manager_below_the_means_level_cannot_approve_so_the_representative_signs(bram, carla, org, support):
    eh2_manager = UserFactory(email="erik.laag@voorbeeld-bv1.nl", first_name="Erik", last_name="Laag")
    MeansFactory(owner=eh2_manager, level=AssuranceLevel.EH2)
    from tests.conftest import make_manager

    make_manager(eh2_manager, org, level=AssuranceLevel.EH2)
    request = means_renewal_request_create(actor=bram, means=expiring(bram), organization=org, years=1)
    assert request.payload_for_means_renewal().approvers == ()
    assert request.status == Request.Status.AWAITING_SIGNATURE
    with pytest.raises(ValidationError, match="above your own manager level"):
        means_renewal_approve(actor=eh2_manager, request=request)


def test_an_expired_means_is_renewed_from_today(bram, carla, no_manager, support, client):
    means = means_of(bram)
    Means.objects.filter(pk=means.pk).update(valid_until=today() - datetime.timedelta(days=10))
    means.refresh_from_db()
    request = means_renewal_request_create(actor=bram, means=means, organization=no_manager, years=1)
    sign_as(client, request, carla)
    request_approve(actor=support, request=request)
    request_fulfil(actor=support, request=request)
    means.refresh_from_db()
    assert means.valid_until == today() + relativedelta(years=1)


def test_a_renewal_made_meanwhile_is_not_applied_again(anna, bram, carla, no_manager, support, client):
    means = expiring(bram)
    request = means_renewal_request_create(actor=bram, means=means, organization=no_manager, years=1)
    sign_as(client, request, carla)
    request_approve(actor=support, request=request)
    # Support renews the means some other way first (say, a second request fulfilled by hand).
    Means.objects.filter(pk=means.pk).update(valid_until=means.valid_until + relativedelta(years=1))
    before = unchanged()
    with pytest.raises(ValidationError, match="renewed meanwhile"):
        request_fulfil(actor=support, request=request)
    assert unchanged() == before


# --------------------------------------------------------------------------- the holder's page: bad input


def test_the_renewal_page_shows_periods_price_and_summary(client, bram, org):
    means = expiring(bram)
    login(client, bram, second_factor=False)
    page = client.get(en_url("means_renew", pk=means.pk)).content.decode()
    for years in (1, 3):
        assert f'value="{years}"' in page
        assert f'data-testid="price-{years}"' in page
    # 40 days + 5 years would end more than five years from today: not offered.
    assert 'value="5"' not in page
    assert "€ 0.00" in page


@pytest.mark.parametrize("period", ["2", "5", "", "3.0", "x"])
def test_a_period_that_is_not_offered_gives_a_message_and_changes_nothing(client, bram, org, period):
    means = expiring(bram)
    login(client, bram, second_factor=False)
    before = unchanged()
    response = client.post(en_url("means_renew", pk=means.pk), {"period": period, "organization": org.pk})
    assert response.status_code == 200
    assert "Choose a period of 1, 3 or 5 years." in response.content.decode()
    assert unchanged() == before


def test_someone_elses_means_is_a_404_and_changes_nothing(client, bram, pim, org):
    login(client, pim, second_factor=False)
    means = expiring(bram)
    before = unchanged()
    assert client.get(en_url("means_renew", pk=means.pk)).status_code == 404
    assert client.post(en_url("means_renew", pk=means.pk), {"period": "1", "organization": org.pk}).status_code == 404
    assert Request.objects.count() == 0
    assert snapshot()["users.Means"] == before["users.Means"]
    with pytest.raises(PermissionDenied):
        means_renewal_request_create(actor=pim, means=means, organization=org, years=1)


def test_an_organisation_the_holder_is_not_linked_to_is_refused(client, bram, org, other_org):
    means = expiring(bram)
    login(client, bram, second_factor=False)
    response = client.post(en_url("means_renew", pk=means.pk), {"period": "1", "organization": other_org.pk})
    assert response.status_code == 200
    assert Request.objects.count() == 0


def test_a_double_submit_makes_one_request_with_a_clear_message(client, bram, anna, org):
    means = expiring(bram)
    login(client, bram, second_factor=False)
    url = en_url("means_renew", pk=means.pk)
    first = client.post(url, {"period": "3", "organization": org.pk})
    assert first.status_code == 302
    second = client.post(url, {"period": "3", "organization": org.pk})
    assert "You already asked to renew this means" in second.content.decode()
    assert Request.objects.filter(kind=Request.Kind.MEANS_RENEWAL).count() == 1


def test_the_home_page_offers_renewal_and_shows_the_request_under_way(client, bram, anna, org):
    means = expiring(bram)
    login(client, bram, second_factor=False)
    home = client.get(en_url("home")).content.decode()
    assert reverse("means_renew", kwargs={"pk": means.pk}).replace("/en", "") in home.replace("/en", "")
    request = means_renewal_request_create(actor=bram, means=means, organization=org, years=1)
    home = client.get(en_url("home")).content.decode()
    assert request.number in home
    assert "Waiting for your authorization manager" in home


# --------------------------------------------------------------------------- the reminder's link


def test_the_means_reminder_links_to_the_holders_renewal_page(bram, org, settings):
    means = expiring(bram, days=55)
    renewal_reminders_send(today=today())
    email = OutboxEmail.objects.get(kind="renewal_reminder_user", to=bram.email)
    with translation.override(bram.language):
        path = reverse("means_renew", kwargs={"pk": means.pk})
    assert settings.PORTAL_BASE_URL + path in email.body_text
    assert path in email.body_html
    renewal_reminders_send(today=today())
    assert OutboxEmail.objects.filter(kind="renewal_reminder_user", to=bram.email).count() == 1


# --------------------------------------------------------------------------- managers renew digitally


def test_manager_renews_a_selection_of_means_in_one_go_and_a_double_submit_changes_nothing(client, anna, bram, pim):
    bram_means, pim_means = expiring(bram, 20), expiring(pim, 300)
    login(client, anna)
    preview = client.get(en_url("users_means_renew") + f"?ids={bram.pk}&ids={pim.pk}").content.decode()
    assert 'data-testid="means-renew-row"' in preview
    data = {
        "means": [bram_means.pk, pim_means.pk],
        f"until-{bram_means.pk}": bram_means.valid_until.isoformat(),
        f"until-{pim_means.pk}": pim_means.valid_until.isoformat(),
        "period": "1",
    }
    assert client.post(en_url("users_means_renew"), data).status_code == 302
    bram_means.refresh_from_db()
    pim_means.refresh_from_db()
    assert bram_means.valid_until == today() + datetime.timedelta(days=20) + relativedelta(years=1)
    assert pim_means.valid_until == today() + datetime.timedelta(days=300) + relativedelta(years=1)

    before = unchanged()
    again = client.post(en_url("users_means_renew"), data)
    assert "renewed meanwhile" in again.content.decode()
    assert "Nothing was renewed." in again.content.decode()
    assert unchanged() == before


def test_manager_cannot_renew_a_means_above_their_own_level(client, anna, org):
    eh4 = UserFactory(email="vera.hoog@voorbeeld-bv1.nl", first_name="Vera", last_name="Hoog")
    means = MeansFactory(owner=eh4, level=AssuranceLevel.EH4)
    MembershipFactory(user=eh4, organization=org)
    before = unchanged()
    with pytest.raises(ValidationError, match="above your own manager level"):
        means_renew_bulk(actor=anna, selection={means.pk: means.valid_until}, years=1)
    login(client, anna)
    page = client.get(en_url("users_means_renew") + f"?ids={eh4.pk}").content.decode()
    assert 'data-testid="not-renewable"' in page
    assert unchanged() == before


def test_manager_of_another_organisation_gets_404_on_the_means_renewal(client, daan, bram):
    means = expiring(bram)
    login(client, daan)
    before = unchanged()
    assert client.get(en_url("users_means_renew") + f"?ids={bram.pk}").status_code == 404
    data = {"means": [means.pk], f"until-{means.pk}": means.valid_until.isoformat(), "period": "1"}
    assert client.post(en_url("users_means_renew"), data).status_code == 404
    with pytest.raises(PermissionDenied):
        means_renew_bulk(actor=daan, selection={means.pk: means.valid_until}, years=1)
    after = unchanged()  # the refused attempts are logged (audit), nothing else changed
    assert after["users.Means"] == before["users.Means"]
    assert after["requests"] == before["requests"]


@pytest.mark.parametrize("period", ["2", "0", ""])
def test_manager_period_2_gives_a_message_and_changes_nothing(client, anna, bram, period):
    means = expiring(bram)
    login(client, anna)
    before = unchanged()
    data = {"means": [means.pk], f"until-{means.pk}": means.valid_until.isoformat(), "period": period}
    response = client.post(en_url("users_means_renew"), data)
    assert "Choose a period of 1, 3 or 5 years." in response.content.decode()
    assert unchanged() == before


# --------------------------------------------------------------------------- the holder's authorizations


def test_renewing_a_means_leaves_the_authorizations_as_they_are(anna, bram, org, service_eh2):
    means = expiring(bram)
    authorization = AuthorizationFactory(user=bram, organization=org, service=service_eh2)
    dates = (authorization.valid_from, authorization.valid_until)
    means_renew_bulk(actor=anna, selection={means.pk: means.valid_until}, years=3)
    authorization.refresh_from_db()
    assert (authorization.valid_from, authorization.valid_until) == dates


def test_an_expired_means_keeps_its_authorizations_which_work_again_after_renewal(anna, bram, org, service_eh2):
    authorization = AuthorizationFactory(user=bram, organization=org, service=service_eh2)
    means = means_of(bram)
    Means.objects.filter(pk=means.pk).update(valid_until=today() - datetime.timedelta(days=1))
    means.refresh_from_db()
    # While the means has expired the authorization is kept, but nothing can be done with it.
    with pytest.raises(ValidationError, match="no active means"):
        authorization_renew(actor=anna, authorization=authorization, years=1)
    assert Authorization.objects.get(pk=authorization.pk).revoked_at is None

    means_renew_bulk(actor=anna, selection={means.pk: means.valid_until}, years=1)
    renewed = authorization_renew(actor=anna, authorization=authorization, years=1)
    assert renewed.valid_until == authorization.valid_until + relativedelta(years=1)


def test_a_means_of_another_person_never_moves(bram, pim, org):
    """A renewal request names one means; the holder of another cannot use it (rule 4)."""
    other = OrganizationFactory()
    MembershipFactory(user=pim, organization=other)
    with pytest.raises(PermissionDenied):
        means_renewal_request_create(actor=pim, means=means_of(bram), organization=org, years=1)
