"""The security baseline (docs/rules.md): the Manage tab needs the login strength
of the manager's level, and rights are read afresh on every request."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.urls import reverse

from organizations.models import Membership
from organizations.services import manager_withdraw
from reconi.demo import DEMO_TOTP_SECRET, totp_now
from reconi.levels import AssuranceLevel
from tests.conftest import login, make_manager
from tests.factories import MeansFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_eh3_manager_with_second_factor_opens_manage(client, anna):
    login(client, anna, second_factor=True)
    assert client.get(reverse("manage_overview")).status_code == 200


def test_eh3_manager_without_second_factor_in_session_is_asked_for_it(client, anna):
    TOTP.activate(anna, DEMO_TOTP_SECRET)
    login(client, anna, second_factor=False)
    response = client.get(reverse("manage_overview"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))


def test_eh3_manager_without_authenticator_is_sent_to_enrol_first(client, anna):
    login(client, anna, second_factor=False)
    response = client.get(reverse("manage_overview"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_activate_totp"))


def test_eh2_manager_needs_only_a_password(client, org):
    manager = UserFactory(email="eh2.manager@voorbeeld-bv1.nl")
    MeansFactory(owner=manager, level=AssuranceLevel.EH2)
    make_manager(manager, org, level=AssuranceLevel.EH2)
    login(client, manager, second_factor=False)
    assert client.get(reverse("manage_overview")).status_code == 200


def test_eh2_plus_manager_needs_a_second_factor(client, org):
    manager = UserFactory(email="eh2plus.manager@voorbeeld-bv1.nl")
    MeansFactory(owner=manager, level=AssuranceLevel.EH2_PLUS)
    make_manager(manager, org, level=AssuranceLevel.EH2_PLUS)
    login(client, manager, second_factor=False)
    assert client.get(reverse("manage_overview")).status_code == 302


def test_withdrawn_manager_role_fails_on_the_very_next_request(client, anna, org, support):
    login(client, anna)
    assert client.get(reverse("manage_overview")).status_code == 200
    manager_withdraw(actor=support, membership=Membership.objects.get(user=anna, organization=org))
    assert client.get(reverse("manage_overview")).status_code == 403


def test_manager_whose_means_expired_loses_the_manage_tab(client, anna):
    login(client, anna)
    means = anna.means.get()
    means.valid_from = means.valid_from.replace(year=2000)
    means.valid_until = means.valid_from.replace(year=2001)
    means.save()
    assert client.get(reverse("manage_overview")).status_code == 403


def test_login_with_password_then_totp_code_records_the_second_factor(client, anna):
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=anna, email=anna.email, verified=True, primary=True)
    anna.set_password("a-long-password-1")
    anna.save()
    TOTP.activate(anna, DEMO_TOTP_SECRET)
    response = client.post(reverse("account_login"), {"login": anna.email, "password": "a-long-password-1"})
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get(reverse("manage_overview")).status_code == 302  # not yet logged in
    response = client.post(reverse("mfa_authenticate"), {"code": totp_now(DEMO_TOTP_SECRET)})
    assert response.status_code == 302
    assert client.get(reverse("manage_overview")).status_code == 200


def _age_login(client, seconds=3600):
    from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY

    session = client.session
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {**record, "at": record["at"] - seconds} for record in session[AUTHENTICATION_METHODS_SESSION_KEY]
    ]
    session.save()


def test_adding_an_email_after_a_while_asks_to_authenticate_again(client, bram):
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=bram, email=bram.email, verified=True, primary=True)
    login(client, bram, second_factor=False)
    _age_login(client)
    response = client.post(reverse("account_email"), {"action_add": "", "email": "b.visser@voorbeeld-bv1.nl"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert not EmailAddress.objects.filter(email="b.visser@voorbeeld-bv1.nl").exists()


def test_removing_the_second_factor_after_a_while_asks_for_it_again(client, anna):
    from allauth.mfa.models import Authenticator

    TOTP.activate(anna, DEMO_TOTP_SECRET)
    login(client, anna)
    _age_login(client)
    response = client.post(reverse("mfa_deactivate_totp"))
    assert response.status_code == 302
    assert response["Location"].startswith((reverse("account_reauthenticate"), reverse("mfa_reauthenticate")))
    assert Authenticator.objects.filter(user=anna, type=Authenticator.Type.TOTP).exists()
