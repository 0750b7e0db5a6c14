"""Branch numbers (vestigingsnummers): an authorization may be restricted to one known branch of its
organisation. The wizard asks for it, the list shows and filters it, reminders and forms mention it;
a service that refuses branch restrictions cannot get one; bad input changes nothing."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from authorizations.models import Authorization
from authorizations.services import authorization_grant
from notifications.models import OutboxEmail
from notifications.services import renewal_reminders_send
from organizations.models import Branch
from organizations.services import branch_add
from requests_app.models import Request
from requests_app.services import request_create
from requests_app.signing import form_html
from tests.conftest import login
from tests.factories import AuthorizationFactory, ServiceFactory
from tests.rules.conftest import snapshot

pytestmark = pytest.mark.usefixtures("english")

BRANCH = "000012345678"
OTHER_BRANCH = "000087654321"
W = "branchwizard1"


@pytest.fixture
def branch(anna, org):
    return branch_add(actor=anna, organization=org, number=BRANCH, name="Vestiging Utrecht")


@pytest.fixture
def foreign_branch(daan, other_org):
    return branch_add(actor=daan, organization=other_org, number=OTHER_BRANCH, name="Andere vestiging")


@pytest.fixture
def no_branches_service(provider):
    return ServiceFactory(provider=provider, name="Toeslagen", minimum_level="EH2", refuses_branch_restriction=True)


def grant(anna, bram, org, service, branch_number):
    return authorization_grant(
        actor=anna,
        user=bram,
        organization=org,
        level="EH2",
        scope="service",
        service=service,
        branch_number=branch_number,
        years=1,
    )


# --------------------------------------------------------------------------- the rule


def test_an_authorization_restricted_to_a_known_branch_is_granted(anna, bram, org, service_eh2, branch):
    authorization = grant(anna, bram, org, service_eh2, BRANCH)
    assert authorization.branch_number == BRANCH


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("12345", "exactly 12 digits"),
        ("00001234567a", "exactly 12 digits"),
        ("0000123456789", "exactly 12 digits"),
        (OTHER_BRANCH, "is not a known branch of Voorbeeld BV 1"),
        ("000000000001", "is not a known branch of Voorbeeld BV 1"),
    ],
)
def test_a_bad_or_foreign_branch_is_refused_with_a_clear_message_and_nothing_changes(
    anna, bram, org, service_eh2, branch, foreign_branch, number, message
):
    before = snapshot()
    with pytest.raises(ValidationError, match=message):
        grant(anna, bram, org, service_eh2, number)
    assert snapshot() == before


def test_a_service_that_refuses_branch_restrictions_cannot_get_one(anna, bram, org, no_branches_service, branch):
    with pytest.raises(ValidationError, match="does not accept a restriction to one branch"):
        grant(anna, bram, org, no_branches_service, BRANCH)
    assert grant(anna, bram, org, no_branches_service, "").branch_number == ""


def test_the_same_target_for_the_whole_organisation_and_for_a_branch_are_two_authorizations(
    anna, bram, org, service_eh2, branch
):
    grant(anna, bram, org, service_eh2, "")
    grant(anna, bram, org, service_eh2, BRANCH)
    with pytest.raises(ValidationError, match="already has this authorization"):
        grant(anna, bram, org, service_eh2, BRANCH)


# --------------------------------------------------------------------------- branches are maintained


def test_managers_add_branches_of_their_own_organisations_only(client, anna, org, other_org):
    login(client, anna)
    url = reverse("branch_list")
    assert client.post(url, {"organization": org.pk, "number": BRANCH, "name": "Utrecht"}).status_code == 302
    again = client.post(url, {"organization": org.pk, "number": BRANCH}).content.decode()
    assert "is already a branch of Voorbeeld BV 1" in again
    bad = client.post(url, {"organization": org.pk, "number": "12-34"}).content.decode()
    assert "exactly 12 digits" in bad
    foreign = client.post(url, {"organization": other_org.pk, "number": OTHER_BRANCH}).content.decode()
    assert "Choose one of the organisations you manage." in foreign
    assert list(Branch.objects.values_list("organization__name", "number")) == [(org.name, BRANCH)]


def test_a_manager_sees_only_the_branches_of_their_organisations(client, daan, branch, foreign_branch):
    login(client, daan)
    page = client.get(reverse("branch_list")).content.decode()
    assert OTHER_BRANCH in page and BRANCH not in page


# --------------------------------------------------------------------------- the wizard, the list, the reminder


def wizard_add(client, org, user, service, branch_number):
    return client.post(
        reverse("permission_new"),
        {
            "action": "add",
            "w": W,
            "organization": org.pk,
            "user": user.pk,
            "level": "EH2",
            "scope": "service",
            "service": service.pk,
            "branch": branch_number,
        },
    )


def test_the_wizard_asks_for_a_branch_and_grants_it(client, anna, bram, org, service_eh2, branch):
    login(client, anna)
    page = client.get(
        reverse("permission_new"), {"w": W, "organization": org.pk, "user": bram.pk, "level": "EH2", "q": "Omzet"}
    ).content.decode()
    assert 'data-testid="wizard-branch"' in page and BRANCH in page
    wizard_add(client, org, bram, service_eh2, BRANCH)
    review = client.get(reverse("permission_new"), {"w": W, "step": "review"}).content.decode()
    assert f"branch {BRANCH}" in review
    client.post(reverse("permission_new"), {"action": "confirm", "w": W, "period": "1"})
    assert Authorization.objects.get(user=bram).branch_number == BRANCH


def test_the_wizard_refuses_a_branch_of_another_organisation_and_adds_nothing(
    client, anna, bram, org, service_eh2, branch, foreign_branch
):
    login(client, anna)
    response = wizard_add(client, org, bram, service_eh2, OTHER_BRANCH)
    assert "is not a known branch of Voorbeeld BV 1" in response.content.decode()
    assert client.session.get("permission_wizards", {}).get(W, {}).get("lines", []) == []


def test_the_wizard_shows_a_refusing_service_as_not_addable_with_a_branch(
    client, anna, bram, org, no_branches_service, branch
):
    login(client, anna)
    page = client.get(
        reverse("permission_new"),
        {"w": W, "organization": org.pk, "user": bram.pk, "level": "EH2", "q": "Toeslagen", "branch": BRANCH},
    ).content.decode()
    assert "does not accept a restriction to one branch" in page
    response = wizard_add(client, org, bram, no_branches_service, BRANCH)
    assert "does not accept a restriction to one branch" in response.content.decode()


def test_the_list_shows_and_filters_the_branch(client, anna, bram, org, service_eh2, service_eh3, branch):
    restricted = grant(anna, bram, org, service_eh2, BRANCH)
    whole = AuthorizationFactory(user=bram, organization=org, service=service_eh3)
    login(client, anna)
    page = client.get(reverse("permission_list")).content.decode()
    assert f"branch {BRANCH}" in page
    filtered = client.get(reverse("permission_list"), {"branch": BRANCH}).content.decode()
    assert f'data-id="{restricted.pk}"' in filtered and f'data-id="{whole.pk}"' not in filtered
    bad = client.get(reverse("permission_list"), {"branch": "abc"}).content.decode()
    assert "exactly 12 digits" in bad and 'data-testid="permission-row"' not in bad


def test_the_reminders_mention_the_branch(anna, bram, org, service_eh2, branch):
    authorization = grant(anna, bram, org, service_eh2, BRANCH)
    Authorization.objects.filter(pk=authorization.pk).update(
        valid_until=timezone.localdate() + datetime.timedelta(days=20)
    )
    renewal_reminders_send(today=timezone.localdate())
    for kind, to in (("renewal_reminder_user", bram.email), ("renewal_reminder_manager", anna.email)):
        email = OutboxEmail.objects.get(kind=kind, to=to)
        assert BRANCH in email.body_text, kind
        assert BRANCH in email.body_html, kind


def test_the_form_mentions_the_branch(anna, org, bram):
    request = request_create(
        actor=anna,
        kind=Request.Kind.NEW_AUTHORIZATIONS,
        organization=org,
        payload={"authorizations": [{"user_id": bram.pk, "scope": "level", "level": "EH2", "branch_number": BRANCH}]},
        language="en",
    )
    assert f"branch {BRANCH}" in form_html(request, for_pdf=True)
