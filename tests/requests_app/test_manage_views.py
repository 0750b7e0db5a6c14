"""Manage tab, Requests: list, link request (rule 9), the request page (sign after the second factor, cancel),
and the user's own accept/decline on the home page."""

import time

import pytest
from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.mfa.models import Authenticator

from organizations.models import Membership
from requests_app.models import Request
from requests_app.services import link_request_create, means_request_create
from tests.conftest import login, make_manager
from tests.factories import OrganizationFactory

PERSON = {
    "first_name": "Jan",
    "last_name": "de Vries",
    "date_of_birth": "1980-04-12",
    "email": "jan.devries@voorbeeld-bv1.nl",
    "level": "EH3",
    "years": 3,
}


@pytest.fixture
def org2(anna):
    organization = OrganizationFactory(name="Voorbeeld BV 2", email_domain="voorbeeld-bv2.nl")
    make_manager(anna, organization)
    return organization


@pytest.fixture
def draft(anna, org):
    return means_request_create(actor=anna, organization=org, people=[PERSON])


def test_list_shows_my_organisations_requests_only(client, anna, daan, draft, other_org):
    other = means_request_create(
        actor=daan, organization=other_org, people=[{**PERSON, "email": "jan.devries@andere-bv.nl"}]
    )
    html = login(client, anna).get("/en/manage/requests/").content.decode()
    assert draft.number in html and other.number not in html

    html = client.get("/en/manage/requests/", {"status": "submitted"}).content.decode()
    assert draft.number not in html


def test_request_of_another_organisation_is_404(client, daan, draft):
    assert login(client, daan).get(f"/en/manage/requests/{draft.pk}/").status_code == 404


def test_new_request_offers_only_organisations_i_manage(client, anna, bram, org2, other_org):
    html = login(client, anna).get("/en/manage/requests/new/").content.decode()
    assert "Voorbeeld BV 2" in html and other_org.name not in html


def test_new_request_preselects_user_and_organisation_from_the_wizard(client, anna, bram, org2):
    html = login(client, anna).get(f"/en/manage/requests/new/?user={bram.pk}&organization={org2.pk}").content.decode()
    assert f'value="{bram.pk}" selected' in html and f'value="{org2.pk}" selected' in html


def test_link_request_for_an_organisation_i_do_not_manage_changes_nothing(client, anna, bram, other_org):
    response = login(client, anna).post(
        "/en/manage/requests/new/", {"user": bram.pk, "organization": other_org.pk, "reason": "works for them too"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Choose an organisation you manage." in html
    assert "works for them too" in html
    assert not Request.objects.exists()


def test_link_request_is_made_and_shown(client, anna, bram, org2):
    response = login(client, anna).post("/en/manage/requests/new/", {"user": bram.pk, "organization": org2.pk})
    link = Request.objects.get()
    assert response["Location"].endswith(f"/manage/requests/{link.pk}/")
    assert link.status == Request.Status.AWAITING_SIGNATURE


def _age_authentication(client, seconds):
    session = client.session
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {**record, "at": time.time() - seconds} for record in session[AUTHENTICATION_METHODS_SESSION_KEY]
    ]
    session.save()


def test_signing_asks_for_the_second_factor_again_when_it_is_stale(client, anna, draft):
    Authenticator.objects.create(user=anna, type=Authenticator.Type.TOTP, data={"secret": "unused"})
    login(client, anna)
    _age_authentication(client, 3600)

    response = client.post(f"/en/manage/requests/{draft.pk}/", {"action": "sign"})

    assert "/accounts/2fa/reauthenticate/" in response["Location"]
    assert f"next=%2Fen%2Fmanage%2Frequests%2F{draft.pk}%2F" in response["Location"]
    draft.refresh_from_db()
    assert draft.status == Request.Status.DRAFT and not draft.signatures.exists()


def test_manager_signs_after_a_fresh_second_factor_and_the_request_is_submitted(client, anna, draft):
    Authenticator.objects.create(user=anna, type=Authenticator.Type.TOTP, data={"secret": "unused"})
    response = login(client, anna).post(f"/en/manage/requests/{draft.pk}/", {"action": "sign"})

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Request.Status.SUBMITTED
    assert draft.signatures.get().user == anna
    assert client.get(f"/en/manage/requests/{draft.pk}/?format=pdf")["Content-Type"] == "application/pdf"


def test_manager_cancels_a_draft(client, anna, draft):
    login(client, anna).post(f"/en/manage/requests/{draft.pk}/", {"action": "cancel", "reason": "typo"})
    draft.refresh_from_db()
    assert draft.status == Request.Status.CANCELLED


# --------------------------------------------------------------------------- the user's side


def test_pending_link_is_shown_on_the_home_page_and_accepted(client, anna, bram, org2):
    link = link_request_create(actor=anna, user=bram, organization=org2)
    login(client, bram, second_factor=False)

    html = client.get("/en/").content.decode()
    assert 'data-testid="pending-link"' in html and "Voorbeeld BV 2" in html

    response = client.post(f"/en/links/{link.pk}/accept/")
    assert response.status_code == 302
    assert Membership.objects.filter(user=bram, organization=org2).exists()
    assert 'data-testid="pending-link"' not in client.get("/en/").content.decode()

    again = client.post(f"/en/links/{link.pk}/accept/", follow=True)
    assert "You already accepted this link." in again.content.decode()
    assert Membership.objects.filter(user=bram, organization=org2).count() == 1


def test_someone_elses_link_is_404_and_changes_nothing(client, anna, bram, pim, org2):
    link = link_request_create(actor=anna, user=bram, organization=org2)
    login(client, pim, second_factor=False)

    assert client.post(f"/en/links/{link.pk}/accept/").status_code == 404
    assert client.post(f"/en/links/{link.pk}/decline/").status_code == 404
    link.refresh_from_db()
    assert link.status == Request.Status.AWAITING_SIGNATURE


def test_accept_is_post_only(client, anna, bram, org2):
    link = link_request_create(actor=anna, user=bram, organization=org2)
    login(client, bram, second_factor=False)
    assert client.get(f"/en/links/{link.pk}/accept/").status_code == 405
