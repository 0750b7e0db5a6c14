"""Rule 13: every new means issued in an organisation without a working manager is announced to
each representative, once, in the representative's language; none where a working manager exists."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from notifications.models import OutboxEmail
from organizations.models import Membership, Representative
from organizations.services import manager_withdraw
from reconi.levels import AssuranceLevel
from requests_app.services import (
    identity_check_record,
    means_request_create,
    request_approve,
    request_fulfil,
    request_sign_as_manager,
    request_submit,
)
from tests.factories import RepresentativeFactory, UserFactory
from users.models import Means
from users.services import means_issue


def person(email="jan.devries@voorbeeld-bv1.nl", first_name="Jan", last_name="de Vries"):
    return {
        "first_name": first_name,
        "initials": "",
        "last_name": last_name,
        "date_of_birth": "1980-04-12",
        "email": email,
        "phone": "",
        "level": "EH3",
        "years": 3,
        "authorizations": [],
    }


def fulfilled(anna, support, org, people, *, withdraw=False):
    request = means_request_create(actor=anna, organization=org, people=people)
    request_sign_as_manager(actor=anna, request=request)
    if withdraw:
        manager_withdraw(actor=support, membership=Membership.objects.get(user=anna, organization=org))
    request_submit(actor=support, request=request)
    for index in range(len(people)):
        identity_check_record(
            actor=support,
            request=request,
            method="copy_of_id",
            document_type="passport",
            document_last4="AB12",
            person_index=index,
        )
    request_approve(actor=support, request=request)
    return request_fulfil(actor=support, request=request)


def notices(to=None):
    rows = OutboxEmail.objects.filter(kind="means_issued_representative")
    return rows.filter(to=to) if to else rows


@pytest.fixture
def directors(org):
    carla = RepresentativeFactory(organization=org, email="carla.smit@voorbeeld-bv1.nl", name="Carla Smit")
    joris = RepresentativeFactory(
        organization=org,
        email="joris.dekker@voorbeeld-bv1.nl",
        name="Joris Dekker",
        authority=Representative.Authority.JOINT,
        language="en",
    )
    return carla, joris


def test_each_representative_hears_of_every_new_means_once_in_their_own_language(
    anna, org, support, directors, django_capture_on_commit_callbacks
):
    carla, joris = directors
    people = [person(), person("piet.jansen@voorbeeld-bv1.nl", "Piet", "Jansen")]
    with django_capture_on_commit_callbacks(execute=True):
        request = fulfilled(anna, support, org, people, withdraw=True)

    assert notices(carla.email).count() == 2  # one per new means
    assert notices(joris.email).count() == 2
    assert set(notices(carla.email).values_list("language", flat=True)) == {"nl"}
    assert set(notices(joris.email).values_list("language", flat=True)) == {"en"}
    dutch = notices(carla.email).order_by("pk").first()
    english = notices(joris.email).order_by("pk").first()
    assert "Jan de Vries" in dutch.body_text and "eHerkenningsmiddel" in dutch.body_text
    assert "issued a personal eHerkenning means to Jan de Vries" in english.body_text
    assert request.number in english.body_text
    assert len([m for m in mail.outbox if carla.email in m.to]) == 2

    # Fulfilling again (refused) or resending the welcome emails queues no second notice.
    with pytest.raises(Exception):  # noqa: B017 - any refusal; the count below is the point
        request_fulfil(actor=support, request=request)
    assert notices().count() == 4


def test_no_notice_where_the_organisation_has_a_working_manager(anna, org, support, directors):
    fulfilled(anna, support, org, [person()])
    assert not notices().exists()


def test_a_manager_without_an_active_means_is_no_working_manager(anna, org, support, directors):
    """Rule 11: anna's role has not ended, but her own means has expired, so nobody manages org."""
    Means.objects.filter(owner=anna).update(
        valid_from=timezone.localdate() - datetime.timedelta(days=400),
        valid_until=timezone.localdate() - datetime.timedelta(days=1),
    )
    holder = UserFactory(email="kees.smit@voorbeeld-bv1.nl")
    Membership.objects.create(user=holder, organization=org)
    means_issue(actor=support, owner=holder, level=AssuranceLevel.EH2)
    assert notices().count() == 2


def test_a_means_issued_by_support_in_the_admin_is_announced_to_the_holders_organisations(
    org, other_org, support, directors
):
    holder = UserFactory(email="kees.smit@voorbeeld-bv1.nl")
    Membership.objects.create(user=holder, organization=org)
    Membership.objects.create(user=holder, organization=other_org)
    RepresentativeFactory(organization=other_org, email="directie@andere-bv.nl")
    means_issue(actor=support, owner=holder, level=AssuranceLevel.EH2)
    assert notices().count() == 3
