"""'Become an authorization manager': for oneself, at one's own means level (rule 3), signed by representatives."""

from django.urls import reverse

from organizations.models import Organization
from reconi.levels import AssuranceLevel
from requests_app.models import Request, SigningToken
from tests.conftest import login

from .conftest import en_url, outbox


def _apply(client, organization, level, **extra):
    return client.post(en_url("become_manager"), {"kvk_number": organization.kvk_number, "level": level, **extra})


def test_applying_creates_an_appointment_for_oneself_and_emails_the_representative(client, eva, org, carla):
    login(client, eva)
    response = _apply(client, org, AssuranceLevel.EH3)
    assert response.status_code == 302
    request = Request.objects.get()
    assert request.kind == Request.Kind.APPOINT_MANAGER
    assert request.subject_user == eva and request.created_by == eva
    assert request.level == AssuranceLevel.EH3
    assert request.status == Request.Status.AWAITING_SIGNATURE
    assert request.payload_data.signers == (carla.pk,)
    invitation = outbox("signing_request", carla.email).get()
    assert "/sign/" in invitation.body_text
    assert SigningToken.objects.filter(request=request, representative=carla, used_at__isnull=True).count() == 1


def test_level_other_than_the_means_level_gets_a_clear_message_with_an_upgrade_link(client, eva, org, carla):
    login(client, eva)
    response = _apply(client, org, AssuranceLevel.EH4)
    assert response.status_code == 200
    content = response.content.decode()
    assert "need a means of level EH4" in content
    assert 'data-testid="level-mismatch"' in content
    assert reverse("home") + "#means-heading" in content
    assert not Request.objects.exists()
    assert not outbox("signing_request").exists()
    # A lower level than the means is refused as well: the level must be equal.
    response = _apply(client, org, AssuranceLevel.EH2)
    assert 'data-testid="level-mismatch"' in response.content.decode()
    assert not Request.objects.exists()


def test_a_manager_cannot_apply_to_appoint_someone_else(client, anna, bram, other_org):
    """The form has no field for another person: whatever is posted, the applicant is the logged-in user."""
    from tests.factories import RepresentativeFactory

    RepresentativeFactory(organization=other_org, name="Otto Other")
    login(client, anna)
    response = _apply(
        client,
        other_org,
        AssuranceLevel.EH3,
        subject_user=bram.pk,
        user=bram.pk,
        email=bram.email,
        name="Bram Visser",
    )
    assert response.status_code == 302
    request = Request.objects.get()
    assert request.subject_user == anna
    assert request.payload_for_appoint_manager().manager.email == anna.email
    assert not Request.objects.filter(subject_user=bram).exists()


def test_an_existing_manager_gets_a_clear_message(client, anna, org, carla):
    login(client, anna)
    response = _apply(client, org, AssuranceLevel.EH3)
    assert response.status_code == 200
    assert "already are an authorization manager" in response.content.decode()
    assert not Request.objects.exists()


def test_a_second_application_while_one_is_open_is_refused(client, eva, org, carla):
    login(client, eva)
    _apply(client, org, AssuranceLevel.EH3)
    response = _apply(client, org, AssuranceLevel.EH3)
    assert response.status_code == 200
    assert "still being processed" in response.content.decode()
    assert Request.objects.count() == 1


def test_unknown_kvk_number_gets_a_clear_message(client, eva):
    login(client, eva)
    response = client.post(en_url("become_manager"), {"kvk_number": "99999999", "level": "EH3"})
    assert response.status_code == 200
    assert "No organisation with KvK number 99999999" in response.content.decode()
    assert not Request.objects.exists()


def test_without_a_means_nobody_can_apply(client, support, org, carla):
    login(client, support)
    response = _apply(client, org, AssuranceLevel.EH3)
    assert response.status_code == 200
    assert "need an active eHerkenning means" in response.content.decode()
    assert not Request.objects.exists()


def test_without_representatives_on_record_the_application_is_refused(client, eva):
    bare = Organization.objects.create(name="Zonder Bestuur B.V.", kvk_number="12121212")
    login(client, eva)
    response = _apply(client, bare, AssuranceLevel.EH3)
    assert response.status_code == 200
    assert "no representatives on record" in response.content.decode()
    assert not Request.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(en_url("become_manager"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
