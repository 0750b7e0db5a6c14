"""Request new permissions (/manage/permissions/new/): the wizard end to end through the test client."""

import datetime
import re

import pytest
from dateutil.relativedelta import relativedelta
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from authorizations.models import Authorization
from organizations.models import Membership
from portal.forms.manage_permissions import USER_SELECT_LIMIT
from portal.views.manage_permission_new import USER_MATCHES
from reconi.levels import AssuranceLevel
from tests.conftest import login, make_manager
from tests.factories import MeansFactory, MembershipFactory, OrganizationFactory, ServiceFactory, UserFactory
from users.models import Means, User

pytestmark = pytest.mark.usefixtures("english")  # the assertions read English messages

W = "wizardtest01"


def url() -> str:
    return reverse("permission_new")


def employee(org, email, level=AssuranceLevel.EH3, **names):
    user = UserFactory(email=email, **names)
    MeansFactory(owner=user, level=level)
    MembershipFactory(user=user, organization=org)
    return user


@pytest.fixture
def cees(org):
    return employee(org, "cees.jansen@voorbeeld-bv1.nl", first_name="Cees", last_name="Jansen")


@pytest.fixture
def ella(org):
    """Linked to org, but her means is only EH2."""
    return employee(org, "ella.eh2@voorbeeld-bv1.nl", AssuranceLevel.EH2, first_name="Ella", last_name="Twee")


@pytest.fixture
def gijs(org):
    """Linked to org with an EH4 means: above anna's manager level (EH3)."""
    return employee(org, "gijs.eh4@voorbeeld-bv1.nl", AssuranceLevel.EH4, first_name="Gijs", last_name="Vier")


@pytest.fixture
def service_eh4(provider):
    return ServiceFactory(provider=provider, name="Douane-aangifte", minimum_level=AssuranceLevel.EH4)


@pytest.fixture
def manager(client, anna):
    return login(client, anna)


def add(client, *, org, user, level, scope="service", service=None, provider=None, w=W, **extra):
    data = {"action": "add", "w": w, "organization": org.pk, "user": user.pk, "level": level, "scope": scope}
    if service is not None:
        data["service"] = getattr(service, "pk", service)
    if provider is not None:
        data["provider"] = getattr(provider, "pk", provider)
    data.update(extra)
    return client.post(url(), data)


def confirm(client, *, period="3", w=W):
    return client.post(url(), {"action": "confirm", "w": w, "period": period})


def stored_lines(client, w=W) -> list[dict]:
    return client.session.get("permission_wizards", {}).get(w, {}).get("lines", [])


def grant_events() -> int:
    return AuditEvent.objects.filter(action="authorization.grant").count()


# The happy path ----------------------------------------------------------------------


def test_two_users_and_two_services_through_every_step_grant_four_with_four_audit_events(
    manager, anna, bram, cees, org, other_org, service_eh2, service_eh3
):
    client = manager
    page = client.get(url())
    assert page.status_code == 200
    assert list(page.context["wizard"].organization_form.fields["organization"].queryset) == [org]
    key = page.context["wizard"].key

    page = client.get(url(), {"w": key, "organization": org.pk})
    assert {bram, cees} <= set(page.context["linked_users"])

    page = client.get(url(), {"w": key, "organization": org.pk, "user": bram.pk})
    enabled = [option["value"] for option in page.context["level_options"] if not option["refusal"]]
    assert enabled == ["EH2", "EH2+", "EH3"]

    page = client.get(url(), {"w": key, "organization": org.pk, "user": bram.pk, "level": "EH3", "q": "Belasting"})
    found = {row["service"] for row in page.context["services"] if row["refusal"] is None}
    assert {service_eh2, service_eh3} <= found
    assert "Add authorization" in page.content.decode()

    for person in (bram, cees):
        for service in (service_eh2, service_eh3):
            response = add(client, org=org, user=person, level="EH3", service=service, w=key, q="Belasting")
            assert response.status_code == 302
            assert response["Location"].startswith(url())
    assert len(stored_lines(client, key)) == 4
    assert not Authorization.objects.exists()  # nothing is granted before confirming

    review = client.get(url(), {"w": key, "step": "review"})
    assert review.status_code == 200
    assert len(review.context["lines"]) == 4

    response = confirm(client, period="3", w=key)
    assert response.status_code == 302
    assert response["Location"] == reverse("permission_list")
    granted = Authorization.objects.filter(organization=org, granted_by=anna, scope="service", level="EH3")
    assert granted.count() == 4
    assert {(a.user, a.service) for a in granted} == {
        (bram, service_eh2),
        (bram, service_eh3),
        (cees, service_eh2),
        (cees, service_eh3),
    }
    today = timezone.localdate()
    assert {a.valid_until for a in granted} == {today + relativedelta(years=3)}
    assert grant_events() == 4
    assert stored_lines(client, key) == []


def test_all_offers_the_all_services_at_level_scope(manager, bram, org, service_eh2):
    page = manager.get(url(), {"w": W, "organization": org.pk, "user": bram.pk, "level": "EH2+", "q": "all"})
    assert page.context["wizard"].is_all
    assert "All services at EH2+" in page.content.decode()

    assert add(manager, org=org, user=bram, level="EH2+", scope="level").status_code == 302
    assert confirm(manager).status_code == 302
    authorization = Authorization.objects.get()
    assert (authorization.scope, authorization.level) == ("level", "EH2+")
    assert authorization.service is None and authorization.provider is None


def test_each_provider_offers_all_of_its_services(manager, bram, org, provider, service_eh2):
    page = manager.get(url(), {"w": W, "organization": org.pk, "user": bram.pk, "level": "EH2", "q": "Omzet"})
    assert list(page.context["providers"]) == [provider]
    assert "All services of Belastingdienst" in page.content.decode()

    assert add(manager, org=org, user=bram, level="EH2", scope="provider", provider=provider).status_code == 302
    assert confirm(manager).status_code == 302
    authorization = Authorization.objects.get()
    assert (authorization.scope, authorization.provider, authorization.service) == ("provider", provider, None)


def test_search_finds_services_by_service_id(manager, bram, org, service_eh2, service_eh3):
    query = {"w": W, "organization": org.pk, "user": bram.pk, "level": "EH3", "q": service_eh3.service_id}
    page = manager.get(url(), query)
    assert [row["service"] for row in page.context["services"]] == [service_eh3]


# Levels ------------------------------------------------------------------------------


def test_service_above_the_chosen_level_is_shown_disabled_and_cannot_be_added(
    manager, bram, org, service_eh2, service_eh3
):
    page = manager.get(url(), {"w": W, "organization": org.pk, "user": bram.pk, "level": "EH2", "q": "Belasting"})
    refusals = {row["service"]: row["refusal"] for row in page.context["services"]}
    assert refusals[service_eh2] is None
    assert "Needs at least EH3" in refusals[service_eh3]
    assert f'aria-describedby="service-{service_eh3.pk}-reason"' in page.content.decode()

    response = add(manager, org=org, user=bram, level="EH2", service=service_eh3)
    assert response.status_code == 200
    assert "Needs at least EH3" in str(response.context["add_form"].errors)
    assert stored_lines(manager) == []


def test_level_above_the_users_means_is_disabled_and_refused_with_the_reason(manager, bram, ella, org, service_eh2):
    page = manager.get(url(), {"w": W, "organization": org.pk, "user": ella.pk})
    refusals = {option["value"]: option["refusal"] for option in page.context["level_options"]}
    assert refusals["EH2"] is None
    assert "means (EH2)" in refusals["EH3"]

    assert add(manager, org=org, user=bram, level="EH3", service=service_eh2).status_code == 302
    response = add(manager, org=org, user=ella, level="EH3", service=service_eh2)
    assert response.status_code == 200
    assert "Above the level of Ella Twee's means (EH2)." in response.context["wizard"].level_form.errors["level"]
    assert "Above the level of Ella Twee" in response.content.decode()
    # Nothing saved, what was entered before is kept.
    assert len(stored_lines(manager)) == 1
    assert len(response.context["lines"]) == 1
    assert not Authorization.objects.exists()


def test_level_above_the_managers_own_level_is_refused(manager, gijs, org, service_eh2):
    page = manager.get(url(), {"w": W, "organization": org.pk, "user": gijs.pk})
    refusals = {option["value"]: option["refusal"] for option in page.context["level_options"]}
    assert refusals["EH3"] is None
    assert refusals["EH4"] == "Above your own manager level (EH3)."

    response = add(manager, org=org, user=gijs, level="EH4", service=service_eh2)
    assert response.status_code == 200
    assert response.context["wizard"].level is None
    assert stored_lines(manager) == []


def test_user_without_active_means_cannot_be_chosen(manager, org, service_eh2):
    nobody = UserFactory(email="no.means@voorbeeld-bv1.nl", first_name="Noor", last_name="Zonder")
    MembershipFactory(user=nobody, organization=org)
    response = add(manager, org=org, user=nobody, level="EH2", service=service_eh2)
    assert response.status_code == 200
    assert "has no active means" in str(response.context["wizard"].user_form.errors)
    assert stored_lines(manager) == []


# Ids from the client -----------------------------------------------------------------


def test_another_organisations_id_is_rejected(manager, bram, other_org, service_eh2):
    response = add(manager, org=other_org, user=bram, level="EH2", service=service_eh2)
    assert response.status_code == 200
    assert "Choose one of the organisations you manage." in str(response.context["wizard"].organization_form.errors)
    assert stored_lines(manager) == []
    assert AuditEvent.objects.filter(action="access.denied").exists()

    page = manager.get(url(), {"organization": other_org.pk})
    assert page.context["wizard"].organization is None
    assert other_org.name not in page.content.decode()


def test_another_organisations_user_is_rejected(manager, daan, org, other_org, service_eh2):
    outsider = employee(other_org, "frank.outsider@andere-bv.nl", first_name="Frank", last_name="Buiten")
    for person in (outsider, daan):
        response = add(manager, org=org, user=person, level="EH2", service=service_eh2)
        assert response.status_code == 200
        assert "Choose a user linked to this organisation." in str(response.context["wizard"].user_form.errors)
    assert stored_lines(manager) == []


def test_unknown_service_or_provider_id_is_rejected(manager, bram, org, service_eh2, provider):
    missing = service_eh2.pk + 10_000
    response = add(manager, org=org, user=bram, level="EH2", service=missing)
    assert "This service is not in the catalogue." in str(response.context["add_form"].errors)
    response = add(manager, org=org, user=bram, level="EH2", scope="provider", provider=provider.pk + 10_000)
    assert "This service provider is not in the catalogue." in str(response.context["add_form"].errors)
    response = add(manager, org=org, user=bram, level="EH2", scope="nonsense", service=service_eh2)
    assert response.context["add_form"].errors
    assert stored_lines(manager) == []


def test_get_never_adds_a_line(manager, bram, org, service_eh2):
    query = {"action": "add", "w": W, "organization": org.pk, "user": bram.pk, "level": "EH2"}
    manager.get(url(), {**query, "scope": "service", "service": service_eh2.pk})
    manager.get(url(), {"action": "confirm", "w": W, "period": "1"})
    assert stored_lines(manager) == []
    assert not Authorization.objects.exists()


def test_posts_need_a_csrf_token(anna, bram, org, service_eh2):
    client = login(Client(enforce_csrf_checks=True), anna)
    response = add(client, org=org, user=bram, level="EH2", service=service_eh2)
    assert response.status_code == 403
    page = client.get(url(), {"w": W, "organization": org.pk, "user": bram.pk, "level": "EH2", "q": "Omzet"})
    assert page.content.decode().count('name="csrfmiddlewaretoken"') >= 2


# Users not linked --------------------------------------------------------------------


@pytest.fixture
def org2(anna):
    second = OrganizationFactory(name="Voorbeeld BV 2", email_domain="voorbeeld-bv2.nl")
    make_manager(anna, second)
    return second


def test_show_unlinked_lists_only_people_of_my_other_organisations(manager, bram, org, org2, other_org):
    eva = employee(org2, "eva.tweede@voorbeeld-bv2.nl", first_name="Eva", last_name="Tweede")
    employee(other_org, "frank.outsider@andere-bv.nl", first_name="Frank", last_name="Buiten")
    MembershipFactory(user=bram, organization=org2)  # linked to both: not "unlinked"

    page = manager.get(url(), {"w": W, "organization": org.pk})
    assert page.context["unlinked_users"] == []
    page = manager.get(url(), {"w": W, "organization": org.pk, "show_unlinked": "1"})
    assert page.context["unlinked_users"] == [eva]
    assert "frank.outsider" not in page.content.decode()


def test_choosing_an_unlinked_user_leads_to_a_link_request_not_an_authorization(manager, org, org2, other_org):
    eva = employee(org2, "eva.tweede@voorbeeld-bv2.nl", first_name="Eva", last_name="Tweede")
    frank = employee(other_org, "frank.outsider@andere-bv.nl", first_name="Frank", last_name="Buiten")

    response = manager.get(url(), {"w": W, "organization": org.pk, "show_unlinked": "1", "unlinked_user": eva.pk})
    assert response.status_code == 302
    path, _sep, query = response["Location"].partition("?")
    assert path.endswith("/manage/requests/new/")
    assert sorted(query.split("&")) == sorted([f"user={eva.pk}", f"organization={org.pk}"])
    assert not Membership.objects.filter(user=eva, organization=org).exists()
    assert not Authorization.objects.exists()

    response = manager.get(url(), {"w": W, "organization": org.pk, "show_unlinked": "1", "unlinked_user": frank.pk})
    assert response.status_code == 200
    assert response.context["wizard"].unlinked_form.errors

    # Nor can an unlinked user be authorized by posting their id.
    response = add(manager, org=org, user=eva, level="EH2", scope="level")
    assert response.status_code == 200
    assert stored_lines(manager) == []


# The list ----------------------------------------------------------------------------


def test_validation_error_keeps_the_list(manager, bram, cees, org, service_eh2, service_eh3):
    assert add(manager, org=org, user=bram, level="EH3", service=service_eh3).status_code == 302
    response = add(manager, org=org, user=cees, level="EH2", service=service_eh3)  # below the minimum
    assert response.status_code == 200
    assert len(response.context["lines"]) == 1
    assert response.context["wizard"].user == cees  # the steps stay as entered
    assert add(manager, org=org, user=cees, level="EH2", service=service_eh2).status_code == 302
    assert len(stored_lines(manager)) == 2


def test_the_same_line_twice_is_refused(manager, bram, org, service_eh2):
    assert add(manager, org=org, user=bram, level="EH2", service=service_eh2).status_code == 302
    response = add(manager, org=org, user=bram, level="EH2", service=service_eh2)
    assert "already in your list" in str(response.context["add_form"].errors)
    assert len(stored_lines(manager)) == 1


def test_each_wizard_keeps_its_own_list(manager, bram, org, service_eh2, service_eh3):
    add(manager, org=org, user=bram, level="EH3", service=service_eh2, w="firstwizard")
    add(manager, org=org, user=bram, level="EH3", service=service_eh3, w="secondwizard")
    assert [line["service"] for line in stored_lines(manager, "firstwizard")] == [service_eh2.pk]
    assert [line["service"] for line in stored_lines(manager, "secondwizard")] == [service_eh3.pk]


def test_remove_takes_one_line_off_the_list(manager, bram, org, service_eh2, service_eh3):
    add(manager, org=org, user=bram, level="EH3", service=service_eh2)
    add(manager, org=org, user=bram, level="EH3", service=service_eh3)
    first = stored_lines(manager)[0]["id"]
    response = manager.post(url(), {"action": "remove", "w": W, "line": first, "step": "review"})
    assert response.status_code == 302
    assert "step=review" in response["Location"]
    assert [line["service"] for line in stored_lines(manager)] == [service_eh3.pk]


def test_confirm_failing_on_one_line_creates_nothing_and_says_which(manager, bram, cees, org, service_eh2, service_eh3):
    for person in (bram, cees):
        assert add(manager, org=org, user=person, level="EH3", service=service_eh3).status_code == 302
    add(manager, org=org, user=bram, level="EH3", service=service_eh2)
    # Between adding and confirming, Cees's means drops to EH2 (rule 1 is checked again).
    Means.objects.filter(owner=cees).update(level=AssuranceLevel.EH2)

    response = confirm(manager)
    assert response.status_code == 200
    assert not Authorization.objects.exists()
    assert grant_events() == 0
    failed = [line for line in response.context["lines"] if line.errors]
    assert [line.user for line in failed] == [cees]
    assert "above the level of Cees Jansen's means (EH2)" in failed[0].errors[0]
    assert "Nothing was saved" in response.content.decode()
    assert len(stored_lines(manager)) == 3


def test_confirm_refuses_a_period_other_than_1_3_or_5(manager, bram, org, service_eh2):
    add(manager, org=org, user=bram, level="EH2", service=service_eh2)
    response = confirm(manager, period="2")
    assert response.status_code == 200
    assert response.context["form"].errors["period"]
    assert not Authorization.objects.exists()
    assert len(stored_lines(manager)) == 1


def test_confirm_checks_the_manager_role_again(manager, anna, bram, org, service_eh2, support):
    from organizations.services import manager_withdraw

    add(manager, org=org, user=bram, level="EH2", service=service_eh2)
    manager_withdraw(actor=support, membership=Membership.objects.get(user=anna, organization=org))
    response = confirm(manager)
    assert response.status_code == 403  # no longer a manager at all
    assert not Authorization.objects.exists()


def test_a_second_confirm_of_the_same_list_grants_nothing_twice(manager, bram, org, service_eh2):
    add(manager, org=org, user=bram, level="EH2", service=service_eh2)
    lines = stored_lines(manager)
    assert confirm(manager, period="1").status_code == 302
    # A second tab that still holds the same list.
    session = manager.session
    session["permission_wizards"] = {W: {"lines": lines, "touched": 0}}
    session.save()
    response = confirm(manager, period="1")
    assert response.status_code == 200
    assert Authorization.objects.count() == 1
    assert "already has this authorization in force" in response.content.decode()


def test_review_shows_the_end_date_of_each_period(manager, bram, org, service_eh2):
    add(manager, org=org, user=bram, level="EH2", service=service_eh2)
    review = manager.get(url(), {"w": W, "step": "review"})
    today = timezone.localdate()
    assert [period["until"] for period in review.context["periods"]] == [
        today + relativedelta(years=years) for years in (1, 3, 5)
    ]
    assert isinstance(review.context["periods"][0]["until"], datetime.date)


# Many linked users: the user step searches ----------------------------------------------


def link_many(organization, count: int) -> None:
    """``count`` people linked to ``organization`` (sorted before Bram Visser), in two queries."""
    people = User.objects.bulk_create(
        User(email=f"mens{i:04d}@voorbeeld-bv1.nl", first_name="Mens", last_name=f"Nummer {i:04d}", password="!")
        for i in range(count)
    )
    Membership.objects.bulk_create(Membership(user=person, organization=organization) for person in people)


def test_with_many_linked_users_the_user_step_offers_a_search_and_at_most_50_options(manager, bram, org):
    link_many(org, USER_SELECT_LIMIT)
    page = manager.get(url(), {"organization": org.pk})
    html = page.content.decode()
    assert 'name="q_user"' in html
    assert len(page.context["linked_users"]) == USER_MATCHES
    select = re.search(r'<select name="user".*?</select>', html, re.S).group(0)
    assert select.count("<option") == USER_MATCHES + 1  # and "Choose a user"
    assert 'data-testid="more-users"' in html
    assert bram not in page.context["linked_users"]


def test_searching_the_user_step_finds_the_person_and_choosing_them_goes_on(manager, bram, org):
    link_many(org, USER_SELECT_LIMIT)
    page = manager.get(url(), {"organization": org.pk, "q_user": "visser"})
    assert page.context["linked_users"] == [bram]
    assert 'data-testid="more-users"' not in page.content.decode()

    page = manager.get(url(), {"organization": org.pk, "q_user": "visser", "user": bram.pk})
    assert page.context["wizard"].user == bram
    assert 'name="q_user" value="visser"' in page.content.decode()


def test_a_user_chosen_by_link_stays_selected_among_many(manager, bram, org):
    link_many(org, USER_SELECT_LIMIT)
    page = manager.get(url(), {"organization": org.pk, "user": bram.pk})
    assert page.context["wizard"].user == bram
    assert bram in page.context["linked_users"]
    assert f'<option value="{bram.pk}" selected' in page.content.decode()


def test_few_linked_users_are_all_listed_without_a_search(manager, bram, cees, org):
    page = manager.get(url(), {"organization": org.pk})
    assert {bram, cees} <= set(page.context["linked_users"])
    assert 'name="q_user"' not in page.content.decode()
