"""The Django admin for support staff: everything visible, writes only through services.

Pages are requested under /en/ so that messages are compared in English,
whatever the Dutch catalogue says.
"""

import datetime

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from dateutil.relativedelta import relativedelta
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from audit.models import AuditEvent
from audit.services import audit_record
from authorizations.models import Authorization, AuthorizationStatus, Service
from organizations.models import Branch, Membership, Organization, Representative
from reconi.levels import AssuranceLevel
from tests.conftest import login, make_support
from tests.factories import (
    AuthorizationFactory,
    MeansFactory,
    MembershipFactory,
    OrganizationFactory,
    RepresentativeFactory,
    ServiceFactory,
    UserFactory,
)
from users.models import Means, User

OUR_APPS = {"users", "organizations", "authorizations", "audit", "account", "mfa", "auth"}


def url(name: str, *args, query: str = "") -> str:
    with translation.override("en"):
        return reverse(f"admin:{name}", args=args) + (f"?{query}" if query else "")


def model_url(model, action: str, *args, query: str = "") -> str:
    return url(f"{model._meta.app_label}_{model._meta.model_name}_{action}", *args, query=query)


def post_action(client, model, action: str, objects, **extra):
    data = {"action": action, helpers.ACTION_CHECKBOX_NAME: [obj.pk for obj in objects], "index": 0, **extra}
    return client.post(model_url(model, "changelist"), data, follow=False)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


def today() -> datetime.date:
    return timezone.localdate()


@pytest.fixture
def superuser(db):
    return UserFactory(email="root@reconi.example", is_staff=True, is_superuser=True)


@pytest.fixture
def desk(db):
    """The support user of these tests. Not conftest's ``support``: the manager fixtures
    re-create that one (and its password), which would log the client out."""
    return make_support("desk@reconi.example")


@pytest.fixture
def support_client(client, desk):
    return login(client, desk)


@pytest.fixture
def active_authorization(anna, bram, org, service_eh3):
    """Granted the real way, so the audit log has its event."""
    from authorizations.services import authorization_grant

    return authorization_grant(
        actor=anna, user=bram, organization=org, level="EH3", scope="service", service=service_eh3, years=1
    )


@pytest.fixture
def world(active_authorization, anna, org):
    """At least one row of every model the admin shows."""
    RepresentativeFactory(organization=org, name="Carla Smit", email="carla.smit@voorbeeld-bv1.nl")
    EmailAddress.objects.create(user=anna, email=anna.email, verified=True, primary=True)
    Authenticator.objects.create(user=anna, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"})
    Branch.objects.create(organization=org, number="000012345678", name="Vestiging Utrecht")
    return active_authorization


def registered_models():
    return sorted(
        (model for model in admin.site._registry if model._meta.app_label in OUR_APPS),
        key=lambda model: model._meta.label,
    )


# Every page opens for support ---------------------------------------------------------


def test_every_model_of_the_domain_is_registered():
    labels = {model._meta.label for model in admin.site._registry}
    assert {
        "users.User",
        "users.Means",
        "organizations.Organization",
        "organizations.Representative",
        "organizations.Membership",
        "authorizations.ServiceProvider",
        "authorizations.Service",
        "authorizations.Authorization",
        "audit.AuditEvent",
    } <= labels


# Second factors hold secrets: support has no page for them (tests/security/test_support_sees_no_secret.py).
SUPPORT_HIDDEN = {Authenticator}


@pytest.mark.parametrize(
    "model", [m for m in registered_models() if m not in SUPPORT_HIDDEN], ids=lambda model: model._meta.label
)
def test_support_opens_the_changelist_and_a_change_page(support_client, world, model):
    response = support_client.get(model_url(model, "changelist"))
    assert response.status_code == 200, model
    obj = model._default_manager.order_by("pk").first()
    assert obj is not None, f"the world fixture has no {model._meta.label}"
    response = support_client.get(model_url(model, "change", obj.pk))
    assert response.status_code == 200, model


@pytest.mark.parametrize(
    "model", [User, Means, Organization, Representative, Membership, Service, Authorization, Branch], ids=str
)
def test_support_opens_the_add_pages(support_client, world, model):
    assert support_client.get(model_url(model, "add")).status_code == 200


def test_search_widgets_of_the_grant_form_answer_support(support_client, world, bram):
    with translation.override("en"):
        autocomplete = reverse("admin:autocomplete")
    response = support_client.get(
        autocomplete,
        {"app_label": "authorizations", "model_name": "authorization", "field_name": "user", "term": "bram"},
    )
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["results"]] == [str(bram.pk)]


def test_admin_login_goes_through_allauth(client, db):
    response = client.get(url("login"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_plain_user_gets_no_admin(client, pim):
    login(client, pim)
    response = client.get(model_url(Authorization, "changelist"))
    assert response.status_code in (302, 403)
    assert response.status_code == 403 or "login" in response.url


# Search and filters -----------------------------------------------------------------------


def test_organisations_are_found_by_kvk_number(support_client, org, other_org):
    response = support_client.get(model_url(Organization, "changelist", query=f"q={org.kvk_number}"))
    assert list(response.context["cl"].result_list) == [org]


def test_authorizations_are_found_by_service_name_email_and_kvk(support_client, world, service_eh3, bram, org):
    AuthorizationFactory()  # someone else, elsewhere
    for term in (service_eh3.name, bram.email, org.kvk_number, service_eh3.service_id):
        response = support_client.get(model_url(Authorization, "changelist", query=f"q={term}"))
        assert list(response.context["cl"].result_list) == [world], term


@pytest.mark.parametrize("status", [*AuthorizationStatus.values, "expiring"])
def test_status_filter_uses_the_derived_status(support_client, db, status):
    made = {
        "active": AuthorizationFactory(),
        "expiring": AuthorizationFactory(expiring=True),
        "expired": AuthorizationFactory(expired=True),
        "revoked": AuthorizationFactory(revoked=True),
        "pending": AuthorizationFactory(pending=True),
    }
    response = support_client.get(model_url(Authorization, "changelist", query=f"status={status}"))
    found = set(response.context["cl"].result_list)
    if status == "active":  # an expiring one is still active
        assert found == {made["active"], made["expiring"]}
    else:
        assert found == {made[status]}


def test_authorizations_filter_by_level_and_organisation(support_client, db):
    mine = AuthorizationFactory(level=AssuranceLevel.EH2)
    AuthorizationFactory(level=AssuranceLevel.EH2)
    response = support_client.get(
        model_url(Authorization, "changelist", query=f"level=EH2&organization__id__exact={mine.organization_id}")
    )
    assert list(response.context["cl"].result_list) == [mine]


# Authorization actions go through the services ----------------------------------------------


def test_revoke_asks_for_confirmation_first(support_client, world):
    response = post_action(support_client, Authorization, "revoke", [world])
    assert response.status_code == 200
    assert b"cannot be undone" in response.content
    world.refresh_from_db()
    assert world.revoked_at is None


def test_revoke_goes_through_the_service_as_the_support_user(support_client, desk, world):
    response = post_action(support_client, Authorization, "revoke", [world], post="yes")
    assert response.status_code == 302
    world.refresh_from_db()
    assert world.status == AuthorizationStatus.REVOKED
    assert world.revoked_by == desk
    event = AuditEvent.objects.get(action="authorization.revoke", object_id=str(world.pk))
    assert event.actor == desk


@pytest.mark.parametrize("years", [1, 3, 5])
def test_renew_extends_by_exactly_the_chosen_years_through_the_service(support_client, desk, world, years):
    old_until = world.valid_until
    post_action(support_client, Authorization, f"renew_{years}", [world])
    world.refresh_from_db()
    assert world.valid_until == old_until + relativedelta(years=years)
    assert AuditEvent.objects.filter(action="authorization.renew", object_id=str(world.pk), actor=desk).exists()


def test_renewing_a_revoked_authorization_shows_the_error_and_changes_nothing(support_client, desk, world):
    from authorizations.services import authorization_revoke

    authorization_revoke(actor=desk, authorization=world)
    world.refresh_from_db()
    before = (world.valid_from, world.valid_until, world.revoked_at)
    events = AuditEvent.objects.count()
    response = post_action(support_client, Authorization, "renew_1", [world])
    response = support_client.get(response.url)
    assert any("cannot be renewed" in message for message in messages_of(response))
    world.refresh_from_db()
    assert (world.valid_from, world.valid_until, world.revoked_at) == before
    assert AuditEvent.objects.count() == events


def test_one_refusal_does_not_stop_the_others(support_client, desk, world, bram, org, service_eh2):
    revoked = AuthorizationFactory(user=bram, organization=org, service=service_eh2, revoked=True, revoked_by=desk)
    old_until = world.valid_until
    response = support_client.get(post_action(support_client, Authorization, "renew_1", [world, revoked]).url)
    world.refresh_from_db()
    assert world.valid_until == old_until + relativedelta(years=1)
    found = messages_of(response)
    assert any("Renewed 1 authorizations" in message for message in found)
    assert any("cannot be renewed" in message for message in found)


def test_reactivate_starts_a_new_period_through_the_service(support_client, desk, bram, org, service_eh2):
    expired = AuthorizationFactory(user=bram, organization=org, service=service_eh2, expired=True)
    post_action(support_client, Authorization, "reactivate", [expired])
    expired.refresh_from_db()
    assert expired.valid_from == today()
    assert expired.valid_until == today() + relativedelta(years=1)
    assert AuditEvent.objects.filter(action="authorization.reactivate", object_id=str(expired.pk), actor=desk)


def test_reactivating_a_revoked_authorization_is_refused(support_client, desk, world):
    from authorizations.services import authorization_revoke

    authorization_revoke(actor=desk, authorization=world)
    response = support_client.get(post_action(support_client, Authorization, "reactivate", [world]).url)
    assert any("cannot be reactivated" in message for message in messages_of(response))
    world.refresh_from_db()
    assert world.status == AuthorizationStatus.REVOKED


def test_authorization_change_page_changes_no_field(support_client, world):
    response = support_client.post(
        model_url(Authorization, "change", world.pk),
        {"level": "EH4", "valid_until": "2099-01-01", "revoked_at": ""},
    )
    assert response.status_code in (200, 302)
    world.refresh_from_db()
    assert world.level == "EH3"
    assert world.valid_until != datetime.date(2099, 1, 1)
    page = support_client.get(model_url(Authorization, "change", world.pk)).content.decode()
    assert 'name="level"' not in page and 'name="_save"' not in page


def test_adding_an_authorization_goes_through_grant(support_client, desk, bram, org, service_eh2):
    response = support_client.post(
        model_url(Authorization, "add"),
        {
            "user": bram.pk,
            "organization": org.pk,
            "scope": "service",
            "service": service_eh2.pk,
            "level": "EH2",
            "years": 3,
        },
    )
    assert response.status_code == 302
    authorization = Authorization.objects.get(user=bram, organization=org)
    assert authorization.granted_by == desk
    assert authorization.valid_until == authorization.valid_from + relativedelta(years=3)
    assert AuditEvent.objects.filter(action="authorization.grant", object_id=str(authorization.pk), actor=desk)


def test_adding_an_authorization_above_the_means_level_shows_the_rule_and_saves_nothing(
    support_client, bram, org, service_eh2
):
    response = support_client.post(
        model_url(Authorization, "add"),
        {
            "user": bram.pk,
            "organization": org.pk,
            "scope": "service",
            "service": service_eh2.pk,
            "level": "EH4",
            "years": 1,
        },
    )
    assert response.status_code == 200
    assert "above the level" in str(response.context["form"].errors)
    assert not Authorization.objects.exists()
    assert not AuditEvent.objects.filter(action="authorization.grant").exists()


# Means and memberships ------------------------------------------------------------------------


def test_issuing_a_means_goes_through_the_service(support_client, desk, db):
    person = UserFactory()
    response = support_client.post(
        model_url(Means, "add"), {"owner": person.pk, "level": "EH3", "type": "password_totp", "years": 3}
    )
    assert response.status_code == 302
    means = Means.objects.get(owner=person)
    assert means.valid_until == means.valid_from + relativedelta(years=3)
    assert AuditEvent.objects.filter(action="means.issue", object_id=str(means.pk), actor=desk).exists()


def test_a_second_active_means_is_refused_on_the_form(support_client, bram):
    response = support_client.post(
        model_url(Means, "add"), {"owner": bram.pk, "level": "EH3", "type": "password_totp", "years": 1}
    )
    assert response.status_code == 200
    assert "already has an active means" in str(response.context["form"].errors)
    assert Means.objects.filter(owner=bram).count() == 1


def test_the_owner_of_a_means_is_never_editable(support_client, bram, pim):
    means = Means.objects.get(owner=bram)
    page = support_client.get(model_url(Means, "change", means.pk)).content.decode()
    assert 'name="owner"' not in page
    support_client.post(model_url(Means, "change", means.pk), {"owner": pim.pk, "level": "EH4"})
    means.refresh_from_db()
    assert (means.owner, means.level) == (bram, "EH3")


def test_upgrade_action_goes_through_the_service(support_client, desk, pim):
    means = Means.objects.get(owner=pim)
    post_action(support_client, Means, "upgrade_to_eh3", [means])
    means.refresh_from_db()
    assert means.level == "EH3"
    assert AuditEvent.objects.filter(action="means.upgrade", object_id=str(means.pk), actor=desk).exists()


def test_withdraw_manager_role_goes_through_the_service(support_client, desk, anna, org):
    membership = Membership.objects.get(user=anna, organization=org)
    post_action(support_client, Membership, "withdraw_manager_role", [membership])
    membership.refresh_from_db()
    assert membership.manager_level is None
    assert not Organization.objects.managed_by(anna).exists()
    assert AuditEvent.objects.filter(action="manager.withdraw", actor=desk).exists()


def test_withdrawing_from_a_non_manager_shows_the_error(support_client, bram, org):
    membership = Membership.objects.get(user=bram, organization=org)
    response = support_client.get(post_action(support_client, Membership, "withdraw_manager_role", [membership]).url)
    assert any("is not a manager" in message for message in messages_of(response))


def test_linking_a_user_goes_through_the_service_and_refuses_duplicates(support_client, desk, bram, org, other_org):
    response = support_client.post(model_url(Membership, "add"), {"user": bram.pk, "organization": other_org.pk})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="membership.link", organization=other_org, actor=desk).exists()
    response = support_client.post(model_url(Membership, "add"), {"user": bram.pk, "organization": org.pk})
    assert response.status_code == 200
    assert "already linked" in str(response.context["form"].errors)
    assert Membership.objects.filter(user=bram).count() == 2


# Organisations -----------------------------------------------------------------------------


def test_an_invalid_rsin_is_refused_and_nothing_is_saved(support_client, db):
    response = support_client.post(
        model_url(Organization, "add"),
        {
            "name": "Fout BV",
            "kvk_number": "12345678",
            "rsin": "123456789",
            "branch_number": "",
            "email_domain": "",
            **_empty_inlines(),
        },
    )
    assert response.status_code == 200
    assert "elfproef" in str(response.context["adminform"].form.errors)
    assert not Organization.objects.exists()


def test_adding_an_organisation_goes_through_the_service(support_client, desk, db):
    response = support_client.post(
        model_url(Organization, "add"),
        {
            "name": "Nieuw BV",
            "kvk_number": "87654321",
            "rsin": "812345678",
            "branch_number": "",
            "email_domain": "",
            **_empty_inlines(),
        },
    )
    assert response.status_code == 302
    organization = Organization.objects.get(kvk_number="87654321")
    assert AuditEvent.objects.filter(action="organization.create", organization=organization, actor=desk).exists()


def test_changing_an_organisation_is_audited(support_client, desk, org):
    data = {
        "name": "Voorbeeld BV 1 (nieuw)",
        "kvk_number": org.kvk_number,
        "rsin": "",
        "branch_number": "",
        "email_domain": org.email_domain,
        **_empty_inlines(),
    }
    response = support_client.post(model_url(Organization, "change", org.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    event = AuditEvent.objects.get(action="organization.change", organization=org)
    assert event.actor == desk and event.data["fields"] == {"name": "Voorbeeld BV 1 (nieuw)"}


def _empty_inlines() -> dict:
    return {
        "representatives-TOTAL_FORMS": 0,
        "representatives-INITIAL_FORMS": 0,
        "memberships-TOTAL_FORMS": 0,
        "memberships-INITIAL_FORMS": 0,
        "branches-TOTAL_FORMS": 0,
        "branches-INITIAL_FORMS": 0,
    }


# Users: support cannot raise rights ------------------------------------------------------------


def test_support_cannot_make_anyone_superuser_or_staff(support_client, pim, desk):
    page = support_client.get(model_url(User, "change", pim.pk)).content.decode()
    assert 'name="is_superuser"' not in page and 'name="groups"' not in page
    support_client.post(
        model_url(User, "change", pim.pk),
        {
            "email": pim.email,
            "first_name": "Pim",
            "last_name": "Plain",
            "language": "nl",
            "is_active": "on",
            "is_superuser": "on",
            "is_staff": "on",
            "groups": [Group.objects.get(name="Support").pk],
            **_user_inlines(),
        },
    )
    pim.refresh_from_db()
    assert not (pim.is_superuser or pim.is_staff)
    assert not pim.groups.exists()


def test_support_can_only_view_staff_accounts(support_client, superuser):
    assert support_client.get(model_url(User, "change", superuser.pk)).status_code == 200
    response = support_client.post(
        model_url(User, "change", superuser.pk),
        {"email": "taken-over@example.org", "language": "nl", "is_active": "on", **_user_inlines()},
    )
    assert response.status_code == 403
    superuser.refresh_from_db()
    assert superuser.email == "root@reconi.example"
    assert support_client.get(url("auth_user_password_change", superuser.pk)).status_code == 403


def _user_inlines() -> dict:
    return {
        "means-TOTAL_FORMS": 0,
        "means-INITIAL_FORMS": 0,
        "memberships-TOTAL_FORMS": 0,
        "memberships-INITIAL_FORMS": 0,
        "branches-TOTAL_FORMS": 0,
        "branches-INITIAL_FORMS": 0,
    }


# The audit log is read-only for everyone ------------------------------------------------------


@pytest.fixture(params=["support", "superuser"])
def staff_client(request, client, desk, superuser):
    return login(client, desk if request.param == "support" else superuser)


def test_nobody_adds_changes_or_deletes_audit_events_in_the_admin(staff_client, world):
    event = AuditEvent.objects.order_by("pk").first()
    before = (event.action, event.hash, AuditEvent.objects.count())
    assert staff_client.get(model_url(AuditEvent, "add")).status_code == 403
    response = staff_client.post(model_url(AuditEvent, "change", event.pk), {"action": "tampered", "data": "{}"})
    assert response.status_code == 403
    # The delete page answers with a message and a redirect (tests/test_admin_deletes.py).
    assert staff_client.get(model_url(AuditEvent, "delete", event.pk)).status_code == 302
    assert staff_client.post(model_url(AuditEvent, "delete", event.pk), {"post": "yes"}).status_code == 302
    post_action(staff_client, AuditEvent, "delete_selected", [event], post="yes")
    event.refresh_from_db()
    assert (event.action, event.hash, AuditEvent.objects.count()) == before


def test_audit_changelist_offers_no_actions_and_checks_each_hash(staff_client, world):
    response = staff_client.get(model_url(AuditEvent, "changelist"))
    assert response.context["action_form"] is None
    assert b"icon-yes.svg" in response.content  # the "hash valid" column


def test_verifying_an_intact_chain_says_so(staff_client, world):
    response = staff_client.get(url("audit_auditevent_verify"), follow=True)
    assert any("intact" in message for message in messages_of(response))


def test_verifying_a_tampered_chain_names_the_event(staff_client, world):
    event = AuditEvent.objects.order_by("pk").first()
    with connection.cursor() as cursor:
        postgres = connection.vendor == "postgresql"
        if postgres:
            # The database refuses updates (append-only trigger); someone with superuser
            # rights on the database would not be stopped by it, and that is what the chain is for.
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE audit_auditevent SET action = 'tampered' WHERE id = %s", [event.pk])
        if postgres:
            cursor.execute("SET LOCAL session_replication_role = origin")
    response = staff_client.get(url("audit_auditevent_verify"), follow=True)
    assert any(f"broken at event {event.pk}" in message for message in messages_of(response))


def test_support_group_may_view_audit_events_but_not_change_or_delete_them(support):
    assert support.has_perm("audit.view_auditevent")
    assert not support.has_perm("audit.change_auditevent")
    assert not support.has_perm("audit.delete_auditevent")
    assert support.has_perm("organizations.change_membership")  # the withdraw action


# Lists do not run a query per row ----------------------------------------------------------------


def _rows(model, count: int, world_bits) -> None:
    """Add ``count`` rows that show in ``model``'s changelist."""
    anna, org, provider = world_bits
    for i in range(count):
        if model is Authorization:
            AuthorizationFactory(scope="provider", service=None, provider=provider) if i % 2 else AuthorizationFactory()
        elif model is Means:
            MeansFactory()
        elif model is Membership:
            MembershipFactory(organization=org)
        elif model is Representative:
            RepresentativeFactory()
        elif model is Service:
            ServiceFactory(provider=provider)
        elif model is Organization:
            OrganizationFactory()
        elif model is User:
            UserFactory()
        elif model is AuditEvent:
            from django.db import transaction

            with transaction.atomic():
                audit_record(actor=anna, action="test.event", obj=org, organization=org, data={"n": i})


LISTED = [Authorization, Means, Membership, Representative, Service, Organization, User, AuditEvent]


def _changelist_queries(client, model) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(model_url(model, "changelist"))
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("model", LISTED, ids=lambda model: model._meta.label)
def test_changelist_query_count_does_not_grow_with_rows(support_client, anna, org, provider, model):
    _rows(model, 5, (anna, org, provider))
    at_5 = _changelist_queries(support_client, model)
    _rows(model, 45, (anna, org, provider))
    assert model._default_manager.count() >= 50
    assert _changelist_queries(support_client, model) == at_5


@pytest.mark.parametrize("rows", [5, 50])
def test_authorization_changelist_stays_within_a_fixed_number_of_queries(
    support_client, anna, org, provider, rows, django_assert_max_num_queries
):
    _rows(Authorization, rows, (anna, org, provider))
    with django_assert_max_num_queries(12):
        response = support_client.get(model_url(Authorization, "changelist"))
    assert len(response.context["cl"].result_list) == rows


def test_support_adds_a_branch_through_the_service_and_a_bad_number_changes_nothing(support_client, world, org):
    url = model_url(Branch, "add")
    response = support_client.post(url, {"organization": org.pk, "number": "12345", "name": "Kort"})
    assert response.status_code == 200 and "exactly 12 digits" in response.content.decode()
    assert Branch.objects.count() == 1
    response = support_client.post(url, {"organization": org.pk, "number": "000099999999", "name": "Zwolle"})
    assert response.status_code == 302
    assert Branch.objects.filter(organization=org, number="000099999999").exists()
    assert AuditEvent.objects.filter(action="branch.add").count() == 1
