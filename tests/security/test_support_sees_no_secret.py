"""Issue 11, finding 1-3 (deliverable 3): support sees no secret.

Second-factor secrets are encrypted at rest and out of support's admin; no live
signing link, password link or one-time code is readable in the admin; nobody
sets another person's password there (a password link instead, audited); every
admin change to a person, a means of login or a role is audited; the
representative page gives support no full date of birth to sign with.
"""

import importlib

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.apps import apps as global_apps
from django.contrib.admin import helpers
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation

from audit.models import AuditEvent
from notifications.models import OutboxEmail
from reconi.crypto import decrypt_text, is_encrypted
from reconi.demo import DEMO_TOTP_SECRET, totp_now
from requests_app import services
from tests.conftest import login
from tests.factories import UserFactory
from users.models import User
from users.services import user_password_reset_send

from ..requests_app.conftest import code_from_outbox, en_url, link_for

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NO_INLINES = {
    "means-TOTAL_FORMS": 0,
    "means-INITIAL_FORMS": 0,
    "memberships-TOTAL_FORMS": 0,
    "memberships-INITIAL_FORMS": 0,
}


def admin_url(name: str, *args) -> str:
    with translation.override("en"):
        return reverse(f"admin:{name}", args=args)


@pytest.fixture
def superuser(db):
    return UserFactory(email="root@reconi.example", is_staff=True, is_superuser=True)


@pytest.fixture
def desk_client(client, support):
    return login(client, support)


# Secrets at rest -----------------------------------------------------------------------------


def test_totp_secret_is_stored_encrypted_and_still_verifies(pim):
    cache.clear()
    authenticator = TOTP.activate(pim, DEMO_TOTP_SECRET).instance
    stored = Authenticator.objects.get(pk=authenticator.pk).data["secret"]
    assert DEMO_TOTP_SECRET not in str(Authenticator.objects.get(pk=authenticator.pk).data)
    assert is_encrypted(stored) and decrypt_text(stored) == DEMO_TOTP_SECRET
    assert TOTP(Authenticator.objects.get(pk=authenticator.pk)).validate_code(totp_now(DEMO_TOTP_SECRET))


def test_recovery_code_seed_is_stored_encrypted(pim):
    codes = RecoveryCodes.activate(pim)
    stored = Authenticator.objects.get(pk=codes.instance.pk).data["seed"]
    assert is_encrypted(stored)
    assert RecoveryCodes(Authenticator.objects.get(pk=codes.instance.pk)).validate_code(codes.get_unused_codes()[0])


def test_a_secret_in_clear_is_not_accepted_as_encrypted(pim):
    """No silent fallback: a row the migration missed fails loudly instead of working in clear."""
    authenticator = Authenticator.objects.create(user=pim, type="totp", data={"secret": SECRET})
    with pytest.raises(ValueError):
        TOTP(authenticator).validate_code("123456")


def test_the_data_migration_encrypts_rows_written_in_clear(pim, bram):
    totp = Authenticator.objects.create(user=pim, type="totp", data={"secret": SECRET})
    recovery = Authenticator.objects.create(
        user=pim, type="recovery_codes", data={"seed": "ab" * 40, "used_mask": 0, "migrated_codes": ["12345678"]}
    )
    already = TOTP.activate(bram, DEMO_TOTP_SECRET).instance
    before = dict(Authenticator.objects.get(pk=already.pk).data)
    migration = importlib.import_module("users.migrations.0002_encrypt_authenticator_secrets")

    migration.encrypt_existing(global_apps, None)
    migration.encrypt_existing(global_apps, None)  # twice changes nothing more

    totp.refresh_from_db()
    recovery.refresh_from_db()
    assert decrypt_text(totp.data["secret"]) == SECRET
    assert decrypt_text(recovery.data["seed"]) == "ab" * 40
    assert [decrypt_text(code) for code in recovery.data["migrated_codes"]] == ["12345678"]
    assert recovery.data["used_mask"] == 0
    assert Authenticator.objects.get(pk=already.pk).data == before


def test_seeded_demo_totp_still_works_through_the_login(client, anna):
    cache.clear()
    TOTP.activate(anna, DEMO_TOTP_SECRET)
    anna.set_password("reconi-demo")
    anna.save()
    EmailAddress.objects.create(user=anna, email=anna.email, verified=True, primary=True)
    response = client.post(reverse("account_login"), {"login": anna.email, "password": "reconi-demo"})
    assert response.url == reverse("mfa_authenticate")
    response = client.post(reverse("mfa_authenticate"), {"code": totp_now(DEMO_TOTP_SECRET)})
    assert response.status_code == 302 and response.url != reverse("mfa_authenticate")


# No second-factor page for support; superusers see no data ------------------------------------


def test_support_group_has_no_authenticator_permission(support):
    assert not support.has_perm("mfa.view_authenticator")
    codenames = set(Group.objects.get(name="Support").permissions.values_list("codename", flat=True))
    assert not {c for c in codenames if c.endswith("_authenticator")}


def test_support_gets_no_authenticator_page_and_the_user_page_shows_only_the_kind(desk_client, pim):
    authenticator = TOTP.activate(pim, SECRET).instance
    assert desk_client.get(admin_url("mfa_authenticator_changelist")).status_code == 403
    assert desk_client.get(admin_url("mfa_authenticator_change", authenticator.pk)).status_code == 403
    page = desk_client.get(admin_url("users_user_change", pim.pk)).content.decode()
    assert "TOTP" in page or "Authenticator" in page
    assert SECRET not in page and "fernet:" not in page


def test_superuser_sees_no_secret_data_either(client, superuser, pim):
    authenticator = TOTP.activate(pim, SECRET).instance
    login(client, superuser)
    page = client.get(admin_url("mfa_authenticator_change", authenticator.pk)).content.decode()
    assert SECRET not in page and "fernet:" not in page


def test_deleting_a_second_factor_in_the_admin_is_audited(client, superuser, pim):
    authenticator = TOTP.activate(pim, SECRET).instance
    login(client, superuser)
    response = client.post(admin_url("mfa_authenticator_delete", authenticator.pk), {"post": "yes"})
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="authenticator.delete")
    assert event.actor == superuser and event.data["user"] == pim.email and event.data["type"] == "totp"


# No live links or codes in the outbox admin -----------------------------------------------------


def test_outbox_admin_masks_the_signing_link_and_the_code(client, desk_client, eva, org, carla):
    request = services.appointment_apply(actor=eva, organization=org, level="EH3")
    token = link_for(request, carla)
    sign_url = en_url("sign", token=token)
    client.post(
        sign_url,
        {"action": "identify", "id-name": carla.name, "id-date_of_birth": carla.date_of_birth.isoformat()},
    )
    code = code_from_outbox(carla.email)
    invitation = OutboxEmail.objects.get(kind="signing_request", to__iexact=carla.email)
    code_mail = OutboxEmail.objects.get(kind="signing_code", to__iexact=carla.email)
    assert token in invitation.body_text and code in code_mail.body_text  # what is delivered is intact

    for email in (invitation, code_mail):
        page = desk_client.get(admin_url("notifications_outboxemail_change", email.pk)).content.decode()
        assert token not in page
        assert token.split(":")[0] not in page
        assert f"{code}<" not in page and f" {code}" not in page and f">{code}" not in page
        assert "/sign/••••••" in page or "••••••" in page


def test_outbox_admin_masks_the_password_link_of_a_welcome_email(desk_client, support, pim):
    user_password_reset_send(actor=support, user=pim)
    email = OutboxEmail.objects.get(kind="password_reset_link", to=pim.email)
    key = email.body_text.split("/reset/key/")[1].split("/")[0]
    assert len(key) > 10
    page = desk_client.get(admin_url("notifications_outboxemail_change", email.pk)).content.decode()
    assert key not in page
    assert "/reset/key/••••••" in page


# No password field for other people; a password link, audited ------------------------------------


def test_the_user_page_has_no_password_field_and_the_set_password_page_is_closed(desk_client, client, superuser, pim):
    page = desk_client.get(admin_url("users_user_change", pim.pk)).content.decode()
    assert 'name="password' not in page and 'type="password"' not in page
    assert admin_url("auth_user_password_change", pim.pk) not in page and "../password/" not in page
    assert desk_client.get(admin_url("auth_user_password_change", pim.pk)).status_code == 403
    response = desk_client.post(
        admin_url("auth_user_password_change", pim.pk), {"password1": "Overgenomen-123", "password2": "Overgenomen-123"}
    )
    assert response.status_code == 403
    pim.refresh_from_db()
    assert not pim.check_password("Overgenomen-123")
    login(client, superuser)
    assert client.get(admin_url("auth_user_password_change", pim.pk)).status_code == 403


def test_a_user_added_in_the_admin_gets_no_password_from_support(desk_client):
    page = desk_client.get(admin_url("users_user_add")).content.decode()
    assert 'name="password1"' not in page
    response = desk_client.post(
        admin_url("users_user_add"),
        {
            "email": "nieuw@voorbeeld-bv1.nl",
            "first_name": "Nieuw",
            "last_name": "Persoon",
            "password1": "x" * 12,
            **NO_INLINES,
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert not User.objects.get(email="nieuw@voorbeeld-bv1.nl").has_usable_password()


def test_support_sends_a_password_link_and_it_is_audited(desk_client, support, pim):
    response = desk_client.post(
        admin_url("users_user_changelist"),
        {"action": "send_password_link", helpers.ACTION_CHECKBOX_NAME: [pim.pk], "index": 0},
    )
    assert response.status_code == 302
    assert OutboxEmail.objects.filter(kind="password_reset_link", to=pim.email).count() == 1
    event = AuditEvent.objects.get(action="user.password_reset_link")
    assert event.actor == support and event.object_id == str(pim.pk)


def test_support_cannot_send_a_password_link_to_a_staff_account(desk_client, superuser):
    desk_client.post(
        admin_url("users_user_changelist"),
        {"action": "send_password_link", helpers.ACTION_CHECKBOX_NAME: [superuser.pk], "index": 0},
    )
    assert not OutboxEmail.objects.filter(kind="password_reset_link").exists()
    assert not AuditEvent.objects.filter(action="user.password_reset_link").exists()


def test_support_cannot_change_a_login_address(desk_client, pim):
    """A new address plus a password link would hand the account to whoever chose the address."""
    desk_client.post(
        admin_url("users_user_change", pim.pk),
        {
            "email": "overname@example.org",
            "first_name": "Pim",
            "language": "nl",
            "is_active": "on",
            **NO_INLINES,
        },
    )
    pim.refresh_from_db()
    assert pim.email == "pim.plain@voorbeeld-bv1.nl"


def test_changing_a_group_in_the_admin_is_audited(client, superuser):
    login(client, superuser)
    response = client.post(admin_url("auth_group_add"), {"name": "Tweede lijn"})
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="group.create")
    assert event.actor == superuser


# The representative page ----------------------------------------------------------------------


def test_support_sees_the_directors_year_of_birth_only_and_cannot_redirect_the_links(desk_client, carla):
    page = desk_client.get(admin_url("organizations_representative_change", carla.pk)).content.decode()
    assert "1968" in page
    for shown in ("14-03-1968", "1968-03-14", "14 March 1968", "March 14, 1968", "14 maart 1968"):
        assert shown not in page
    desk_client.post(
        admin_url("organizations_representative_change", carla.pk),
        {
            "organization": carla.organization_id,
            "name": carla.name,
            "email": "support-inbox@reconi.example",
            "date_of_birth": "1968-03-14",
            "authority": carla.authority,
            "extract_date": carla.extract_date.isoformat() if carla.extract_date else "",
        },
    )
    carla.refresh_from_db()
    assert carla.email == "carla.smit@voorbeeld-bv1.nl"
