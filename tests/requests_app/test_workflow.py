"""The request workflow: new means, upgrades, links; support's identity check, approval and fulfilment.

Rules 9 (only my organisations; a link needs the user's acceptance), 13
(representative emailed unless a manager exists) and 15 (new users get a
confirmation email and an active means at once).
"""

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import AuditEvent
from authorizations.models import Authorization
from organizations.models import Membership
from organizations.services import manager_withdraw
from reconi.levels import AssuranceLevel
from requests_app.models import Request
from requests_app.services import (
    identity_check_record,
    link_request_accept,
    link_request_create,
    link_request_decline,
    means_request_create,
    means_request_create_bulk,
    request_approve,
    request_fulfil,
    request_reject,
    request_sign_as_manager,
    request_submit,
    upgrade_request_create,
)
from tests.conftest import make_manager
from tests.factories import MeansFactory, OrganizationFactory, RepresentativeFactory, UserFactory
from users.models import Means, User

pytestmark = pytest.mark.usefixtures("english")  # the assertions read English messages


def person(**overrides):
    data = {
        "first_name": "Jan",
        "initials": "J.P.",
        "last_name": "de Vries",
        "date_of_birth": "1980-04-12",
        "email": "jan.devries@voorbeeld-bv1.nl",
        "phone": "+31612345678",
        "level": "EH3",
        "years": 3,
        "authorizations": [],
    }
    data.update(overrides)
    return data


@pytest.fixture
def org2(db):
    return OrganizationFactory(name="Voorbeeld BV 2", email_domain="voorbeeld-bv2.nl")


@pytest.fixture
def anna_of_both(anna, org2):
    make_manager(anna, org2)
    return anna


def emails_to(address, kind_text=""):
    return [m for m in mail.outbox if address in m.to and kind_text in m.subject]


def signed_and_submitted(actor, request):
    request_sign_as_manager(actor=actor, request=request)
    request.refresh_from_db()
    return request_submit(actor=actor, request=request)


# --------------------------------------------------------------------------- new means


def test_manager_makes_a_draft_request_for_new_means_with_the_people(anna, org):
    request = means_request_create(actor=anna, organization=org, people=[person()])

    assert request.kind == Request.Kind.NEW_MEANS
    assert request.status == Request.Status.DRAFT
    assert request.created_by == anna
    assert request.payload_for_new_means().people[0].email == "jan.devries@voorbeeld-bv1.nl"
    assert AuditEvent.objects.filter(action="request.create", object_id=str(request.pk)).exists()


def test_someone_elses_email_is_refused_and_nothing_is_saved(anna, org):
    with pytest.raises(ValidationError) as info:
        means_request_create(actor=anna, organization=org, people=[person(email="anna.dejong@voorbeeld-bv1.nl")])

    assert "email" in info.value.message_dict
    assert not Request.objects.exists()


def test_manager_of_another_organisation_cannot_request_means_for_mine(daan, org):
    with pytest.raises(PermissionDenied):
        means_request_create(actor=daan, organization=org, people=[person()])
    assert not Request.objects.exists()


def test_a_means_above_my_own_manager_level_is_refused(anna, org):
    with pytest.raises(ValidationError) as info:
        means_request_create(actor=anna, organization=org, people=[person(level="EH4")])
    assert "level" in info.value.message_dict


def test_the_same_person_twice_in_one_request_is_refused(anna, org):
    with pytest.raises(ValidationError):
        means_request_create(actor=anna, organization=org, people=[person(), person(phone="")])
    assert not Request.objects.exists()


def test_bulk_with_an_invalid_row_saves_nothing_unless_only_valid_rows_are_asked_for(anna, org):
    rows = [person(), person(first_name="Piet", last_name="Jansen", email="info@gmail.com")]

    with pytest.raises(ValidationError):
        means_request_create_bulk(actor=anna, organization=org, rows=rows)
    assert not Request.objects.exists()

    request, skipped = means_request_create_bulk(actor=anna, organization=org, rows=rows, only_valid=True)
    assert skipped == 1
    assert [p.first_name for p in request.payload_for_new_means().people] == ["Jan"]


def test_new_means_from_request_to_fulfilment(anna, org, support, service_eh2, django_capture_on_commit_callbacks):
    """Rule 15: the new user gets a confirmation email and the means is active at once."""
    request = means_request_create(
        actor=anna,
        organization=org,
        people=[
            person(
                authorizations=[
                    {"scope": "service", "service_id": service_eh2.pk, "level": "EH2", "years": 1},
                    {"scope": "level", "level": "EH3", "years": 3},
                ]
            )
        ],
    )
    request = signed_and_submitted(anna, request)
    assert request.status == Request.Status.SUBMITTED

    with pytest.raises(ValidationError, match="identity check"):
        request_approve(actor=support, request=request)

    identity_check_record(
        actor=support, request=request, method="face_to_face", document_type="passport", document_last4="X12B"
    )
    request_approve(actor=support, request=request)
    with django_capture_on_commit_callbacks(execute=True):
        request = request_fulfil(actor=support, request=request)

    assert request.status == Request.Status.FULFILLED
    user = User.objects.get(email="jan.devries@voorbeeld-bv1.nl")
    means = user.means.get()
    assert means.level == AssuranceLevel.EH3
    assert means.is_active_on()
    assert Membership.objects.filter(user=user, organization=org).exists()
    assert EmailAddress.objects.filter(user=user, email=user.email, verified=True, primary=True).exists()
    assert Authorization.objects.in_force().filter(user=user, organization=org).count() == 2
    welcome = emails_to("jan.devries@voorbeeld-bv1.nl")
    assert len(welcome) == 1
    assert "EH3" in welcome[0].subject
    assert "/accounts/password/reset/key/" in welcome[0].body
    assert AuditEvent.objects.filter(action="user.create").exists()
    assert AuditEvent.objects.filter(action="request.fulfil", object_id=str(request.pk)).exists()


def test_fulfilling_twice_issues_one_means(anna, org, support):
    request = signed_and_submitted(
        anna, means_request_create(actor=anna, organization=org, people=[person(level="EH2")])
    )
    request_approve(actor=support, request=request)
    request_fulfil(actor=support, request=request)

    with pytest.raises(ValidationError):
        request_fulfil(actor=support, request=request)

    assert Means.objects.filter(owner__email="jan.devries@voorbeeld-bv1.nl").count() == 1


def test_only_support_approves_and_fulfils(anna, org):
    request = signed_and_submitted(
        anna, means_request_create(actor=anna, organization=org, people=[person(level="EH2")])
    )
    with pytest.raises(PermissionDenied):
        request_approve(actor=anna, request=request)
    with pytest.raises(PermissionDenied):
        request_fulfil(actor=anna, request=request)


def test_rejection_needs_a_reason_and_tells_the_manager(anna, org, support, django_capture_on_commit_callbacks):
    request = signed_and_submitted(anna, means_request_create(actor=anna, organization=org, people=[person()]))
    with pytest.raises(ValidationError):
        request_reject(actor=support, request=request, reason="  ")

    with django_capture_on_commit_callbacks(execute=True):
        request_reject(actor=support, request=request, reason="The copy of the passport is unreadable.")

    request.refresh_from_db()
    assert request.status == Request.Status.REJECTED
    [email] = emails_to(anna.email)
    assert "unreadable" in email.body


# --------------------------------------------------------------------------- rule 13


def test_representative_is_not_emailed_about_new_means_when_the_organisation_has_a_manager(
    anna, org, django_capture_on_commit_callbacks
):
    representative = RepresentativeFactory(organization=org, email="carla.smit@voorbeeld-bv1.nl")
    with django_capture_on_commit_callbacks(execute=True):
        signed_and_submitted(anna, means_request_create(actor=anna, organization=org, people=[person()]))

    assert emails_to(representative.email) == []


def test_representative_is_emailed_about_new_means_when_issued_in_an_organisation_without_manager(
    anna, org, support, django_capture_on_commit_callbacks
):
    """Rule 13, at issuance (one notice per means): tests/requests_app/test_representative_notice.py has the rest."""
    representative = RepresentativeFactory(organization=org, email="carla.smit@voorbeeld-bv1.nl")
    request = means_request_create(actor=anna, organization=org, people=[person()])
    request_sign_as_manager(actor=anna, request=request)
    # Anna's role ends before the form is handed in: nobody manages the organisation any more.
    manager_withdraw(actor=support, membership=Membership.objects.get(user=anna, organization=org))
    request_submit(actor=support, request=request)
    identity_check_record(
        actor=support, request=request, method="copy_of_id", document_type="passport", document_last4="AB12"
    )
    request_approve(actor=support, request=request)

    with django_capture_on_commit_callbacks(execute=True):
        request_fulfil(actor=support, request=request)

    [email] = emails_to(representative.email)
    assert "Jan de Vries" in email.body


# --------------------------------------------------------------------------- upgrades


def test_upgrade_keeps_the_authorizations_and_is_audited(anna, org, support, service_eh2):
    user = UserFactory(email="eva.bos@voorbeeld-bv1.nl", first_name="Eva", last_name="Bos")
    MeansFactory(owner=user, level=AssuranceLevel.EH2)
    Membership.objects.create(user=user, organization=org)
    from authorizations.services import authorization_grant

    granted = authorization_grant(
        actor=anna, user=user, organization=org, level="EH2", scope="service", service=service_eh2, years=1
    )
    request = signed_and_submitted(anna, upgrade_request_create(actor=anna, organization=org, user=user, level="EH3"))
    identity_check_record(
        actor=support, request=request, method="video", document_type="id_card", document_last4="1234"
    )
    request_approve(actor=support, request=request)
    request_fulfil(actor=support, request=request)

    assert user.means.get(status="active").level == AssuranceLevel.EH3
    assert Authorization.objects.in_force().filter(pk=granted.pk).exists()
    assert AuditEvent.objects.filter(action="means.upgrade").exists()


def test_upgrade_must_raise_the_level(anna, org, bram):
    with pytest.raises(ValidationError):
        upgrade_request_create(actor=anna, organization=org, user=bram, level="EH2+")


def test_upgrade_for_someone_not_in_my_organisation_is_refused(anna, org, daan):
    with pytest.raises(PermissionDenied):
        upgrade_request_create(actor=anna, organization=org, user=daan, level="EH4")


# --------------------------------------------------------------------------- links (rule 9)


def test_link_request_for_an_organisation_i_do_not_manage_is_refused(anna, bram, other_org):
    with pytest.raises(PermissionDenied):
        link_request_create(actor=anna, user=bram, organization=other_org)
    assert not Request.objects.exists()


def test_link_request_for_a_user_i_cannot_see_is_refused(anna_of_both, daan, org2):
    with pytest.raises(PermissionDenied):
        link_request_create(actor=anna_of_both, user=daan, organization=org2)
    assert not Request.objects.exists()


def test_user_becomes_visible_at_the_other_organisation_only_after_accepting(
    anna_of_both, bram, org2, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request = link_request_create(actor=anna_of_both, user=bram, organization=org2)

    assert request.status == Request.Status.AWAITING_SIGNATURE
    assert not Membership.objects.filter(user=bram, organization=org2).exists()
    assert len(emails_to(bram.email)) == 1

    with django_capture_on_commit_callbacks(execute=True):
        link_request_accept(actor=bram, request=request)

    request.refresh_from_db()
    assert request.status == Request.Status.FULFILLED
    assert Membership.objects.filter(user=bram, organization=org2).exists()
    assert len(emails_to(anna_of_both.email)) == 1


def test_accepting_a_link_twice_changes_nothing(anna_of_both, bram, org2):
    request = link_request_create(actor=anna_of_both, user=bram, organization=org2)
    link_request_accept(actor=bram, request=request)
    events = AuditEvent.objects.count()

    with pytest.raises(ValidationError, match="already accepted"):
        link_request_accept(actor=bram, request=request)

    assert AuditEvent.objects.count() == events
    assert Membership.objects.filter(user=bram, organization=org2).count() == 1


def test_nobody_accepts_someone_elses_link(anna_of_both, bram, pim, org2):
    request = link_request_create(actor=anna_of_both, user=bram, organization=org2)

    with pytest.raises(PermissionDenied):
        link_request_accept(actor=pim, request=request)

    assert not Membership.objects.filter(organization=org2, user__in=[bram, pim]).exists()
    request.refresh_from_db()
    assert request.status == Request.Status.AWAITING_SIGNATURE


def test_declining_a_link_leaves_the_user_unlinked(anna_of_both, bram, org2):
    request = link_request_create(actor=anna_of_both, user=bram, organization=org2)
    link_request_decline(actor=bram, request=request)

    request.refresh_from_db()
    assert request.status == Request.Status.CANCELLED
    assert request.payload_for_link_user().declined is True
    assert not Membership.objects.filter(user=bram, organization=org2).exists()
    with pytest.raises(ValidationError):
        link_request_accept(actor=bram, request=request)


def test_a_second_open_link_request_for_the_same_person_is_refused(anna_of_both, bram, org2):
    link_request_create(actor=anna_of_both, user=bram, organization=org2)
    with pytest.raises(ValidationError):
        link_request_create(actor=anna_of_both, user=bram, organization=org2)
    assert Request.objects.count() == 1
