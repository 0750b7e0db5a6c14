"""Upgrade routes that lead somewhere (rule 3): up to the manager's level the manager signs;
above it the representative signs and support checks the holder's identity in person.
The state is visible to the manager and to the holder; an applicant for manager sees the
application on their home page until it ends."""

import pytest
from django.core.exceptions import ValidationError

from requests_app.models import Request
from requests_app.services import (
    appointment_approve,
    identity_check_record,
    request_approve,
    request_fulfil,
    request_sign_as_manager,
    upgrade_request_create,
)
from tests.conftest import login
from tests.factories import MeansFactory, MembershipFactory, OrganizationFactory, UserFactory
from tests.requests_app.conftest import apply, en_url, outbox, sign_as
from tests.rules.conftest import snapshot
from users.models import Means

pytestmark = pytest.mark.usefixtures("english")


def test_an_upgrade_above_my_level_goes_to_the_representative_and_an_in_person_check(
    client, anna, bram, org, carla, support
):
    request = upgrade_request_create(actor=anna, organization=org, user=bram, level="EH4")
    assert request.status == Request.Status.AWAITING_SIGNATURE
    assert request.payload["in_person_check"] is True
    assert outbox("signing_request", carla.email).exists()
    with pytest.raises(ValidationError, match="the representative signs it"):
        request_sign_as_manager(actor=anna, request=request)

    sign_as(client, request, carla)
    request.refresh_from_db()
    assert request.status == Request.Status.SUBMITTED

    # A copy of an ID is not enough for this one: face to face.
    identity_check_record(
        actor=support, request=request, method="copy_of_id", document_type="passport", document_last4="AB12"
    )
    with pytest.raises(ValidationError, match="face to face"):
        request_approve(actor=support, request=request)
    identity_check_record(
        actor=support, request=request, method="face_to_face", document_type="passport", document_last4="AB12"
    )
    request_approve(actor=support, request=request)
    request_fulfil(actor=support, request=request)
    assert Means.objects.get(owner=bram, status=Means.Status.ACTIVE).level == "EH4"


def test_an_upgrade_within_my_level_stays_a_draft_for_me_to_sign(anna, pim, org):
    request = upgrade_request_create(actor=anna, organization=org, user=pim, level="EH3")
    assert request.status == Request.Status.DRAFT
    assert request.payload["in_person_check"] is False
    assert not outbox("signing_request").exists()


def test_without_representatives_on_record_an_upgrade_above_my_level_is_refused_and_nothing_saved(anna, bram, org):
    before = snapshot()
    with pytest.raises(ValidationError, match="no representatives on record"):
        upgrade_request_create(actor=anna, organization=org, user=bram, level="EH4")
    assert Request.objects.count() == 0
    assert snapshot()["users.Means"] == before["users.Means"]


def test_the_state_is_visible_to_the_manager_and_to_the_holder(client, anna, bram, org, carla):
    request = upgrade_request_create(actor=anna, organization=org, user=bram, level="EH4")
    login(client, anna)
    detail = client.get(en_url("request_detail", pk=request.pk)).content.decode()
    assert 'data-testid="in-person-note"' in detail
    assert "Waiting for the representative" in detail
    login(client, bram, second_factor=False)
    home = client.get(en_url("home")).content.decode()
    assert request.number in home and "Upgrade of a means" in home


def test_the_upgrade_page_offers_eh4_above_my_level_with_the_route(client, anna, bram, org, carla):
    login(client, anna)
    page = client.get(en_url("users_upgrade", pk=bram.pk)).content.decode()
    assert "the representative signs, Reconi checks identity in person" in page
    response = client.post(en_url("users_upgrade", pk=bram.pk), {"organization": org.pk, "level": "EH4"})
    assert response.status_code == 302
    assert Request.objects.get(kind=Request.Kind.UPGRADE).status == Request.Status.AWAITING_SIGNATURE


def test_upgrade_is_offered_only_where_a_higher_level_exists(client, anna, bram, org):
    top = UserFactory(email="vera.hoog@voorbeeld-bv1.nl", first_name="Vera", last_name="Hoog")
    MeansFactory(owner=top, level="EH4")
    MembershipFactory(user=top, organization=org)
    login(client, anna)
    page = client.get(en_url("users_list")).content.decode()
    assert en_url("users_upgrade", pk=bram.pk) in page
    assert en_url("users_upgrade", pk=top.pk) not in page


def test_the_applicant_for_manager_sees_the_application_on_the_home_page_until_it_ends(
    client, eva, org, carla, support
):
    request = apply(eva, org)
    login(client, eva, second_factor=False)
    home = client.get(en_url("home")).content.decode()
    assert 'data-testid="requests-about-me"' in home
    assert request.number in home and "Waiting for the representative" in home

    sign_as(client, request, carla)
    login(client, eva, second_factor=False)
    assert "Signed; Reconi checks it." in client.get(en_url("home")).content.decode()

    appointment_approve(actor=support, request=request)
    assert request.number not in client.get(en_url("home")).content.decode()


def test_nobody_sees_someone_elses_requests_on_their_home_page(client, eva, org, carla, pim):
    request = apply(eva, org)
    other = OrganizationFactory()
    MembershipFactory(user=pim, organization=other)
    login(client, pim, second_factor=False)
    assert request.number not in client.get(en_url("home")).content.decode()
