"""seed_demo: the demo of docs/contract.md ("Demo data"), idempotent, never in production."""

import datetime

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from allauth.mfa.utils import decrypt
from dateutil.relativedelta import relativedelta
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from guardian.models import UserObjectPermission

from audit.models import AuditEvent
from audit.selectors import audit_chain_broken_at
from authorizations.catalogue import CATALOGUE
from authorizations.models import Authorization, AuthorizationStatus, Service, ServiceProvider
from organizations.models import Membership, Organization, Representative
from reconi.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET, totp_now
from reconi.levels import AssuranceLevel
from reconi.roles import is_support
from reconi.validators import rsin_is_valid
from users.models import Means, User

ANNA = "anna.dejong@voorbeeld-bv1.nl"
BRAM = "bram.visser@voorbeeld-bv1.nl"
CARLA = "carla.smit@voorbeeld-bv1.nl"
DAAN = "daan.bakker@andere-bv.nl"
SUPPORT = "support@reconi.example"
ADMIN = "admin@reconi.example"
DEMO_LOGINS = [ANNA, BRAM, CARLA, DAAN, SUPPORT, ADMIN]


@pytest.fixture
def seeded(db):
    call_command("seed_demo", verbosity=0)


def org(name: str) -> Organization:
    return Organization.objects.get(name=name)


def row_counts() -> dict[str, int]:
    models = [
        User,
        EmailAddress,
        Authenticator,
        Means,
        Organization,
        Representative,
        Membership,
        ServiceProvider,
        Service,
        Authorization,
        AuditEvent,
        UserObjectPermission,
        User.groups.through,
    ]
    return {model._meta.label: model.objects.count() for model in models}


@pytest.mark.parametrize("email", DEMO_LOGINS)
def test_every_demo_login_authenticates_with_the_demo_password_and_a_verified_address(seeded, email):
    user = authenticate(username=email, password=DEMO_PASSWORD)
    assert user is not None and user.email == email
    # ACCOUNT_EMAIL_VERIFICATION is mandatory: without this row allauth would not let them in.
    assert EmailAddress.objects.filter(user=user, email=email, verified=True, primary=True).exists()


def test_support_is_staff_in_the_support_group_and_admin_is_superuser(seeded):
    support = User.objects.get(email=SUPPORT)
    assert support.is_staff and not support.is_superuser
    assert support.groups.filter(name="Support").exists()
    assert is_support(support)
    admin = User.objects.get(email=ADMIN)
    assert admin.is_staff and admin.is_superuser


def test_organisations_have_valid_identifiers_and_their_email_domains(seeded):
    expected = {"Voorbeeld BV 1": "voorbeeld-bv1.nl", "Voorbeeld BV 2": "voorbeeld-bv2.nl", "Andere BV": "andere-bv.nl"}
    for name, domain in expected.items():
        organization = org(name)
        organization.full_clean()
        assert len(organization.kvk_number) == 8 and organization.kvk_number.isdigit()
        assert rsin_is_valid(organization.rsin)
        assert organization.email_domain == domain


def test_carla_is_sole_director_of_bv1_and_bv2_and_andere_bv_has_a_director(seeded):
    carla = User.objects.get(email=CARLA)
    for name in ("Voorbeeld BV 1", "Voorbeeld BV 2"):
        representative = Representative.objects.get(organization=org(name), email=CARLA)
        assert representative.authority == Representative.Authority.SOLE
        assert representative.user == carla
    assert Representative.objects.filter(organization=org("Andere BV")).exists()


def test_anna_manages_bv1_and_bv2_at_eh3_and_daan_manages_andere_bv(seeded):
    anna, daan = User.objects.get(email=ANNA), User.objects.get(email=DAAN)
    assert set(Organization.objects.managed_by(anna).values_list("name", flat=True)) == {
        "Voorbeeld BV 1",
        "Voorbeeld BV 2",
    }
    assert set(Organization.objects.managed_by(daan).values_list("name", flat=True)) == {"Andere BV"}
    assert set(Membership.objects.filter(user=anna).values_list("manager_level", flat=True)) == {AssuranceLevel.EH3}
    for email in (BRAM, CARLA, SUPPORT, ADMIN):
        assert not Organization.objects.managed_by(User.objects.get(email=email)).exists()


def test_bram_is_linked_to_bv1_only_so_bv2_does_not_see_him(seeded):
    bram = User.objects.get(email=BRAM)
    assert list(Membership.objects.filter(user=bram).values_list("organization__name", flat=True)) == ["Voorbeeld BV 1"]
    assert not User.objects.filter(memberships__organization=org("Voorbeeld BV 2"), email=BRAM).exists()


@pytest.mark.parametrize("email", [ANNA, BRAM, CARLA, DAAN])
def test_each_demo_person_has_an_active_eh3_means(seeded, email):
    means = Means.objects.active().get(owner__email=email)
    assert means.level == AssuranceLevel.EH3


@pytest.mark.parametrize("name", ["Voorbeeld BV 1", "Voorbeeld BV 2", "Andere BV"])
def test_authorizations_in_every_state_at_every_organisation(seeded, name):
    today = timezone.localdate()
    authorizations = Authorization.objects.filter(organization=org(name))
    for status in (AuthorizationStatus.ACTIVE, AuthorizationStatus.EXPIRED, AuthorizationStatus.REVOKED):
        assert authorizations.with_status_in([status]).exists(), status
    expiring = authorizations.in_force(today).filter(valid_until__lte=today + relativedelta(months=2))
    assert expiring.exists()
    # "Expiring" means inside the reminder window, not expired already.
    assert all(a.valid_until > today for a in expiring)


def test_demo_authorizations_obey_the_level_rules(seeded):
    for authorization in Authorization.objects.select_related("service", "user"):
        means = Means.objects.filter(owner=authorization.user).latest("valid_until")
        assert AssuranceLevel.is_at_most(authorization.level, means.level)  # rule 1
        if authorization.service is not None:
            assert AssuranceLevel.is_at_most(authorization.service.minimum_level, authorization.level)  # rule 2
        assert authorization.valid_until <= authorization.valid_from + relativedelta(years=5)  # rule 5


def test_revoked_demo_authorizations_were_revoked_through_the_service(seeded):
    revoked = Authorization.objects.with_status_in([AuthorizationStatus.REVOKED])
    assert revoked.exists()
    for authorization in revoked:
        assert authorization.revoked_by is not None
        assert AuditEvent.objects.filter(action="authorization.revoke", object_id=str(authorization.pk)).exists()


def test_catalogue_is_loaded_with_fixed_uuids_and_derived_service_ids(seeded):
    assert ServiceProvider.objects.count() == len(CATALOGUE) >= 5
    names = set(ServiceProvider.objects.values_list("name", flat=True))
    assert {"Belastingdienst", "UWV", "Gemeente Amsterdam"} <= names
    for provider in CATALOGUE:
        assert len(provider.oin) == 20 and provider.oin.isdigit()
        for item in provider.services:
            service = Service.objects.get(uuid=item.uuid)
            assert service.service_id == f"urn:etoegang:DV:{provider.oin}:services:{item.index}"
            assert service.minimum_level == item.minimum_level
    assert set(Service.objects.values_list("minimum_level", flat=True)) == set(AssuranceLevel.values)


def test_second_run_changes_nothing(seeded):
    before = row_counts()
    dates = list(Authorization.objects.order_by("pk").values_list("pk", "valid_from", "valid_until", "revoked_at"))
    call_command("seed_demo", verbosity=0)
    assert row_counts() == before
    assert list(Authorization.objects.order_by("pk").values_list("pk", "valid_from", "valid_until", "revoked_at")) == (
        dates
    )


def test_every_seeded_change_is_in_an_intact_audit_chain(seeded):
    assert AuditEvent.objects.filter(action="manager.appoint").count() == 3
    assert audit_chain_broken_at() is None


def test_refuses_to_run_unless_allowed_by_settings(db, settings):
    settings.SEED_DEMO_ALLOWED = False
    with pytest.raises(CommandError, match="refuses"):
        call_command("seed_demo", verbosity=0)
    assert not User.objects.exists()
    assert not Organization.objects.exists()


def test_refuses_to_run_with_production_settings_even_when_the_flag_is_set(db, settings, monkeypatch):
    settings.SEED_DEMO_ALLOWED = True
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "reconi.settings.production")
    with pytest.raises(CommandError, match="production"):
        call_command("seed_demo", verbosity=0)
    assert not User.objects.exists()


def test_production_settings_do_not_allow_seeding():
    from reconi.settings import base

    assert not getattr(base, "SEED_DEMO_ALLOWED", False)


@pytest.mark.parametrize("email", [ANNA, DAAN])
def test_totp_code_from_the_demo_secret_verifies_with_allauth(seeded, email):
    cache.clear()  # allauth remembers used codes
    authenticator = Authenticator.objects.get(user__email=email, type=Authenticator.Type.TOTP)
    assert decrypt(authenticator.data["secret"]) == DEMO_TOTP_SECRET  # stored through the mfa adapter, as allauth does
    now = datetime.datetime.now().timestamp()
    wrong = totp_now(DEMO_TOTP_SECRET, at=now - 3600)
    assert TOTP(authenticator).validate_code(totp_now(DEMO_TOTP_SECRET))
    assert not TOTP(authenticator).validate_code(wrong)
    codes = RecoveryCodes(Authenticator.objects.get(user__email=email, type=Authenticator.Type.RECOVERY_CODES))
    assert len(codes.get_unused_codes()) > 0


def test_demo_manager_logs_in_with_password_and_authenticator_code(seeded, client):
    cache.clear()
    response = client.post(reverse("account_login"), {"login": ANNA, "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("mfa_authenticate")
    response = client.post(reverse("mfa_authenticate"), {"code": totp_now(DEMO_TOTP_SECRET)})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(User.objects.get(email=ANNA).pk)


def test_backdated_demo_authorizations_are_granted_by_the_service_and_their_move_is_audited(seeded):
    today = timezone.localdate()
    moved = Authorization.objects.filter(valid_from__lt=today)
    assert moved.count() == 6  # the three expiring and three expired ones
    for authorization in moved:
        assert AuditEvent.objects.filter(action="authorization.grant", object_id=str(authorization.pk)).exists()
        backdate = AuditEvent.objects.get(action="demo.backdate", object_id=str(authorization.pk))
        assert backdate.data["valid_until"] == authorization.valid_until.isoformat()
