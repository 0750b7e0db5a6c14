"""Login strength per level for every person (issue 11 items 1, 2 and 4; DESIGN section 1).

EH2 a password; EH2+ and EH3 a second factor (authenticator app or security key); EH4 a
security key and nothing weaker; staff a second factor for /admin/; confirming a
sensitive step asks for the strongest factor the person has. The browser test
(tests/browser/test_security_key.py) enrols and uses a real (virtual) security key.
"""

import re
import time

import pytest
from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.models import Permission
from django.urls import reverse

from organizations.models import Membership
from organizations.services import manager_withdraw
from reconi.demo import DEMO_TOTP_SECRET, totp_now
from reconi.levels import AssuranceLevel
from reconi.login_strength import Strength, required_strength
from tests.conftest import login, make_manager
from tests.factories import MeansFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-password-1"


def person(email: str, level: str | None, *, password: str = PASSWORD, **fields):
    user = UserFactory(email=email, **fields)
    user.set_password(password)
    user.save()
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    if level:
        MeansFactory(owner=user, level=level)
    return user


def security_key(user) -> Authenticator:
    """A WebAuthn authenticator row (the browser test registers a real one)."""
    return Authenticator.objects.create(user=user, type=Authenticator.Type.WEBAUTHN, data={"name": "Key"})


def age_login(client, seconds=3600):
    session = client.session
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {**record, "at": record["at"] - seconds} for record in session[AUTHENTICATION_METHODS_SESSION_KEY]
    ]
    session.save()


def location(response) -> str:
    assert response.status_code == 302, response.status_code
    return response["Location"]


# --- the policy ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "strength"),
    [
        (None, Strength.PASSWORD),
        (AssuranceLevel.EH2, Strength.PASSWORD),
        (AssuranceLevel.EH2_PLUS, Strength.SECOND_FACTOR),
        (AssuranceLevel.EH3, Strength.SECOND_FACTOR),
        (AssuranceLevel.EH4, Strength.SECURITY_KEY),
    ],
)
def test_required_strength_follows_the_level_of_the_means(level, strength):
    assert required_strength(person("p@voorbeeld-bv1.nl", level)) == strength


def test_an_expired_means_asks_for_nothing_more_than_a_password():
    user = person("oud@voorbeeld-bv1.nl", None)
    MeansFactory(owner=user, level=AssuranceLevel.EH4, expired=True)
    assert required_strength(user) == Strength.PASSWORD


def test_staff_always_need_a_second_factor(support):
    assert required_strength(support) == Strength.SECOND_FACTOR
    assert required_strength(UserFactory(email="root@reconi.example", is_staff=True, is_superuser=True)) == (
        Strength.SECOND_FACTOR
    )


# --- every person, not only managers (finding 6) --------------------------------------------


def test_eh2_user_needs_only_a_password(client, pim):
    login(client, pim, second_factor=False)
    assert client.get(reverse("home")).status_code == 200


@pytest.mark.parametrize("level", [AssuranceLevel.EH2_PLUS, AssuranceLevel.EH3])
def test_user_who_is_no_manager_is_made_to_set_up_a_second_factor_first(client, level):
    user = person("medewerker@voorbeeld-bv1.nl", level)
    login(client, user, second_factor=False)
    for url in [reverse("home"), reverse("account_email"), reverse("manage_overview")]:
        assert location(client.get(url)).startswith(reverse("mfa_activate_totp"))


def test_user_with_an_authenticator_but_a_password_only_session_is_asked_for_the_code(client, bram):
    TOTP.activate(bram, DEMO_TOTP_SECRET)
    login(client, bram, second_factor=False)
    assert location(client.get(reverse("home"))).startswith(reverse("mfa_reauthenticate"))


def test_eh3_manager_with_second_factor_opens_manage(client, anna):
    login(client, anna, second_factor=True)
    assert client.get(reverse("manage_overview")).status_code == 200


def test_eh3_manager_without_authenticator_is_sent_to_enrol_first(client, anna):
    login(client, anna, second_factor=False)
    assert location(client.get(reverse("manage_overview"))).startswith(reverse("mfa_activate_totp"))


def test_eh2_manager_needs_only_a_password(client, org):
    manager = UserFactory(email="eh2.manager@voorbeeld-bv1.nl")
    MeansFactory(owner=manager, level=AssuranceLevel.EH2)
    make_manager(manager, org, level=AssuranceLevel.EH2)
    login(client, manager, second_factor=False)
    assert client.get(reverse("manage_overview")).status_code == 200


def test_logging_out_and_public_pages_stay_open_without_the_factor(client, bram):
    login(client, bram, second_factor=False)
    assert client.get(reverse("verify")).status_code == 200
    assert location(client.post(reverse("account_logout"))) == "/"
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db(transaction=True)  # allauth announces the new factor when the transaction commits
def test_first_login_that_needs_a_second_factor_sets_it_up_and_lets_the_person_in(client):
    """A real login with the password, the forced set-up with a code of the new secret, then in."""
    user = person("eerste.keer@voorbeeld-bv1.nl", AssuranceLevel.EH3)
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert location(response) == reverse("home")  # no authenticator yet: no second step at login
    setup = location(client.get(reverse("home")))
    assert setup.startswith(reverse("mfa_activate_totp"))
    page = client.get(setup)
    assert page.status_code == 200, "the fresh login is enough to set up the factor"
    secret = re.search(r'id="authenticator_secret"[^>]*value="([A-Z2-7]+)"', page.content.decode()).group(1)
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_now(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    assert client.get(reverse("home")).status_code == 200


def test_login_with_password_then_totp_code_records_the_second_factor(client, anna):
    EmailAddress.objects.create(user=anna, email=anna.email, verified=True, primary=True)
    anna.set_password(PASSWORD)
    anna.save()
    TOTP.activate(anna, DEMO_TOTP_SECRET)
    response = client.post(reverse("account_login"), {"login": anna.email, "password": PASSWORD})
    assert location(response) == reverse("mfa_authenticate")
    assert location(client.get(reverse("manage_overview"))).startswith(reverse("account_login"))  # not yet in
    response = client.post(reverse("mfa_authenticate"), {"code": totp_now(DEMO_TOTP_SECRET)})
    assert response.status_code == 302
    assert client.get(reverse("manage_overview")).status_code == 200


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


def test_an_upgraded_means_asks_for_the_stronger_factor_on_the_next_request(client, bram):
    TOTP.activate(bram, DEMO_TOTP_SECRET)
    login(client, bram)  # with the authenticator code
    assert client.get(reverse("home")).status_code == 200
    bram.means.update(level=AssuranceLevel.EH4)
    assert location(client.get(reverse("home"))).startswith(reverse("mfa_add_webauthn"))


# --- EH4: a security key and nothing weaker ----------------------------------------------------


@pytest.fixture
def femke(org):
    user = person("femke.dekker@voorbeeld-bv1.nl", AssuranceLevel.EH4, first_name="Femke", last_name="Dekker")
    Membership.objects.create(user=user, organization=org)
    return user


def _session_with(client, user, factor: str):
    client.force_login(user)
    session = client.session
    now = time.time()
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {"method": "password", "at": now, "email": user.email},
        {"method": "mfa", "at": now, "type": factor},
    ]
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()


def test_eh4_person_with_only_an_authenticator_app_must_add_a_security_key(client, femke):
    TOTP.activate(femke, DEMO_TOTP_SECRET)
    _session_with(client, femke, "totp")
    assert location(client.get(reverse("home"))).startswith(reverse("mfa_add_webauthn"))
    assert client.get(reverse("mfa_add_webauthn")).status_code == 200


def test_eh4_session_that_used_a_code_is_asked_for_the_security_key(client, femke):
    TOTP.activate(femke, DEMO_TOTP_SECRET)
    security_key(femke)
    for factor in ("totp", "recovery_codes"):
        _session_with(client, femke, factor)
        assert location(client.get(reverse("home"))).startswith(reverse("mfa_reauthenticate_webauthn"))
    _session_with(client, femke, "webauthn")
    assert client.get(reverse("home")).status_code == 200


def test_eh4_login_refuses_a_valid_authenticator_code_once_a_security_key_exists(rf, femke):
    from users.mfa_forms import LevelAuthenticateForm, LevelReauthenticateForm

    TOTP.activate(femke, DEMO_TOTP_SECRET)
    security_key(femke)
    for form_class in (LevelAuthenticateForm, LevelReauthenticateForm):
        form = form_class(user=femke, data={"code": totp_now(DEMO_TOTP_SECRET)})
        assert not form.is_valid()
        assert form.has_error("code", "code_refused_at_eh4")


def test_eh4_person_cannot_set_up_an_authenticator_app_as_the_factor(client, femke):
    _session_with(client, femke, "webauthn")
    client.get(reverse("mfa_activate_totp"))
    secret = client.session["mfa.totp.secret"]
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_now(secret)})
    assert response.status_code == 200
    assert not Authenticator.objects.filter(user=femke, type=Authenticator.Type.TOTP).exists()


# --- staff and /admin/ (finding 4) -------------------------------------------------------------


def test_support_with_a_password_only_session_does_not_open_the_admin(client, support):
    login(client, support, second_factor=False)
    assert location(client.get("/admin/")).startswith(reverse("mfa_activate_totp"))
    TOTP.activate(support, DEMO_TOTP_SECRET)
    assert location(client.get("/admin/")).startswith(reverse("mfa_reauthenticate"))


def test_superuser_with_a_password_only_session_does_not_open_the_admin(client):
    admin = UserFactory(email="root@reconi.example", is_staff=True, is_superuser=True)
    login(client, admin, second_factor=False)
    assert location(client.get("/admin/")).startswith(reverse("mfa_activate_totp"))


def test_staff_with_a_second_factor_open_the_admin(client, support):
    login(client, support)
    assert client.get("/admin/").status_code == 200


def test_staff_log_in_to_the_admin_with_password_and_code(client, support):
    support.set_password(PASSWORD)
    support.save()
    EmailAddress.objects.create(user=support, email=support.email, verified=True, primary=True)
    TOTP.activate(support, DEMO_TOTP_SECRET)
    response = client.post(reverse("account_login"), {"login": support.email, "password": PASSWORD, "next": "/admin/"})
    assert location(response) == reverse("mfa_authenticate")
    response = client.post(reverse("mfa_authenticate"), {"code": totp_now(DEMO_TOTP_SECRET)})
    assert client.get("/admin/").status_code == 200
    assert Permission.objects.exists()  # the admin index rendered with the group's rights


# --- confirming a sensitive step (finding 5) ---------------------------------------------------


def test_with_a_second_factor_the_password_page_no_longer_confirms(client, anna):
    anna.set_password(PASSWORD)
    anna.save()
    TOTP.activate(anna, DEMO_TOTP_SECRET)
    login(client, anna)
    age_login(client)
    assert location(client.get(reverse("account_reauthenticate"))).startswith(reverse("mfa_reauthenticate"))
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    response = client.post(reverse("mfa_deactivate_totp"))
    assert location(response).startswith(reverse("mfa_reauthenticate"))
    assert Authenticator.objects.filter(user=anna, type=Authenticator.Type.TOTP).exists()


def test_changing_the_email_address_after_a_while_asks_for_the_second_factor(client, anna):
    """(allauth refuses to add an address to an account with a second factor at all.)"""
    EmailAddress.objects.create(user=anna, email=anna.email, verified=True, primary=True)
    EmailAddress.objects.create(user=anna, email="a.dejong@voorbeeld-bv1.nl", verified=True, primary=False)
    TOTP.activate(anna, DEMO_TOTP_SECRET)
    login(client, anna)
    age_login(client)
    response = client.post(reverse("account_email"), {"action_primary": "", "email": "a.dejong@voorbeeld-bv1.nl"})
    assert location(response).startswith(reverse("mfa_reauthenticate"))
    assert EmailAddress.objects.get_primary_email(anna) == anna.email
    # The code confirms, and the suspended change goes through.
    client.post(location(response), {"code": totp_now(DEMO_TOTP_SECRET)})
    assert EmailAddress.objects.get_primary_email(anna) == "a.dejong@voorbeeld-bv1.nl"


def test_changing_the_password_after_a_while_asks_for_the_second_factor(client, anna):
    anna.set_password(PASSWORD)
    anna.save()
    TOTP.activate(anna, DEMO_TOTP_SECRET)
    login(client, anna)
    age_login(client)
    new = {"oldpassword": PASSWORD, "password1": "another-long-pass-2", "password2": "another-long-pass-2"}
    response = client.post(reverse("account_change_password"), new)
    assert location(response).startswith(reverse("mfa_reauthenticate"))
    anna.refresh_from_db()
    assert anna.check_password(PASSWORD)


def test_removing_the_second_factor_after_a_while_asks_for_it_again(client, anna):
    TOTP.activate(anna, DEMO_TOTP_SECRET)
    login(client, anna)
    age_login(client)
    response = client.post(reverse("mfa_deactivate_totp"))
    assert location(response).startswith(reverse("mfa_reauthenticate"))
    assert Authenticator.objects.filter(user=anna, type=Authenticator.Type.TOTP).exists()


def test_without_a_second_factor_the_password_confirms(client, pim):
    pim.set_password(PASSWORD)
    pim.save()
    EmailAddress.objects.create(user=pim, email=pim.email, verified=True, primary=True)
    login(client, pim, second_factor=False)
    age_login(client)
    response = client.post(reverse("account_email"), {"action_add": "", "email": "p.plain@voorbeeld-bv1.nl"})
    assert location(response).startswith(reverse("account_reauthenticate"))


def test_eh4_person_confirms_with_the_security_key_only(client, femke):
    from allauth.account.adapter import get_adapter

    TOTP.activate(femke, DEMO_TOTP_SECRET)
    security_key(femke)
    methods = [method["id"] for method in get_adapter().get_reauthentication_methods(femke)]
    assert methods == ["mfa_reauthenticate:webauthn"]
    EmailAddress.objects.create(user=femke, email="f.dekker@voorbeeld-bv1.nl", verified=True, primary=False)
    _session_with(client, femke, "webauthn")
    age_login(client)
    response = client.post(reverse("account_email"), {"action_primary": "", "email": "f.dekker@voorbeeld-bv1.nl"})
    assert location(response).startswith(reverse("mfa_reauthenticate_webauthn"))
    assert location(client.get(reverse("mfa_reauthenticate"))).startswith(reverse("mfa_reauthenticate_webauthn"))


def test_insecure_webauthn_origins_are_allowed_in_dev_and_tests_only():
    from pathlib import Path

    from reconi.settings import base

    assert base.MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN is False
    production = (Path(base.__file__).parent / "production.py").read_text()
    assert "MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN" not in production
    assert "webauthn" in base.MFA_SUPPORTED_TYPES
