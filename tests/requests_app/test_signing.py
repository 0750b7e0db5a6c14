"""The signing link: single use, 14 days, identity + one-time code, rule 10 (who must sign)."""

import datetime
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from organizations.models import Organization
from reconi.levels import AssuranceLevel
from requests_app import services, tokens
from requests_app.models import Request, Signature, SigningToken
from requests_app.payloads import UpgradePayload
from tests.conftest import login, make_support
from tests.factories import MeansFactory, UserFactory, minimal_payload

from .conftest import apply, code_from_outbox, en_url, link_for, open_token, outbox, sign_as


def _state(request: Request):
    request.refresh_from_db()
    return request.status, request.signatures.count(), request.signed_pdf_sha256


def test_sole_representative_signs_and_the_request_is_submitted(client, eva, org, carla):
    request = apply(eva, org)
    assert request.status == Request.Status.AWAITING_SIGNATURE
    invitation = outbox("signing_request", carla.email).get()
    assert link_for(request, carla).split(":")[0] in invitation.body_text or "/sign/" in invitation.body_text

    response = sign_as(client, request, carla)

    assert response.status_code == 200
    assert b'data-testid="sign-done"' in response.content
    request.refresh_from_db()
    assert request.status == Request.Status.SUBMITTED
    signature = request.signatures.get()
    assert signature.signer_name == "Carla Smit"
    assert signature.capacity == Signature.Capacity.REPRESENTATIVE
    assert signature.representative == carla
    assert "Eva Jansen" in signature.consent_text and "EH3" in signature.consent_text
    assert signature.pdf_sha256 == request.signed_pdf_sha256 != ""


def test_signed_pdf_is_emailed_as_attachment_to_representative_and_applicant(client, eva, org, carla):
    request = apply(eva, org)
    sign_as(client, request, carla)
    request.refresh_from_db()
    recipients = {email.to.lower(): email for email in outbox("signing_completed")}
    assert set(recipients) == {carla.email, eva.email}
    for email in recipients.values():
        attachment = email.attachments.get()
        assert attachment.filename == f"{request.number}.pdf"
        assert bytes(attachment.content) == request.signed_pdf_content()


def test_the_emailed_link_opens_the_signing_page_for_anyone(client, eva, org, carla):
    request = apply(eva, org)
    body = outbox("signing_request", carla.email).get().body_text
    path = body[body.index("/sign/") :].split()[0]
    response = client.get(path)
    assert response.status_code == 200
    assert b"Carla Smit" in response.content
    assert request.number.encode() in response.content
    pdf = client.get(en_url("sign_pdf", token=link_for(request, carla)))
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content == request.pdf_content()


def test_tampered_token_gives_a_clear_page_and_changes_nothing(client, eva, org, carla):
    request = apply(eva, org)
    value = link_for(request, carla)
    tampered = value[:-2] + ("AA" if value[-2:] != "AA" else "BB")
    before = _state(request)
    for url in (en_url("sign", token=tampered), en_url("sign_pdf", token=tampered)):
        response = client.get(url)
        assert response.status_code == 404
        assert b'data-reason="invalid"' in response.content
    response = client.post(
        en_url("sign", token=tampered),
        {"action": "identify", "id-name": carla.name, "id-date_of_birth": carla.date_of_birth.isoformat()},
    )
    assert response.status_code == 404
    assert _state(request) == before
    assert open_token(request, carla).identity_confirmed_at is None


def test_a_link_for_another_row_with_a_guessed_nonce_is_invalid(eva, org, carla):
    request = apply(eva, org)
    token = open_token(request, carla)
    from django.core import signing

    forged = signing.dumps({"t": token.pk, "n": "guessed"}, salt=tokens.SALT, compress=True)
    with pytest.raises(tokens.TokenError) as error:
        tokens.token_resolve(forged)
    assert error.value.reason == "invalid"


def test_expired_token_gives_a_clear_page_and_changes_nothing(client, eva, org, carla):
    request = apply(eva, org)
    value = link_for(request, carla)
    before = _state(request)
    with freeze_time(timezone.now() + datetime.timedelta(days=14, minutes=1)):
        response = client.get(en_url("sign", token=value))
        assert response.status_code == 410
        assert b'data-reason="expired"' in response.content
        response = client.post(
            en_url("sign", token=value),
            {"action": "identify", "id-name": carla.name, "id-date_of_birth": carla.date_of_birth.isoformat()},
        )
        assert response.status_code == 410
    assert _state(request) == before
    assert not outbox("signing_code").exists()


def test_token_still_works_on_day_thirteen(client, eva, org, carla):
    request = apply(eva, org)
    with freeze_time(timezone.now() + datetime.timedelta(days=13)):
        assert client.get(en_url("sign", token=link_for(request, carla))).status_code == 200


def test_used_token_cannot_sign_again(client, eva, joint_org):
    request = apply(eva, joint_org)
    first = joint_org.representatives.first()
    value = link_for(request, first)
    sign_as(client, request, first)
    before = _state(request)

    response = client.get(en_url("sign", token=value))
    assert response.status_code == 410
    assert b'data-reason="used"' in response.content
    response = client.post(en_url("sign", token=value), {"action": "sign", "sign-code": "000000"})
    assert response.status_code == 410
    assert _state(request) == before


def test_someone_elses_name_and_birth_date_are_refused(client, eva, joint_org):
    request = apply(eva, joint_org)
    joost, karin = list(joint_org.representatives.order_by("name"))[:2]
    url = en_url("sign", token=link_for(request, joost))
    # Karin tries to sign with Joost's link, as herself.
    response = client.post(
        url, {"action": "identify", "id-name": karin.name, "id-date_of_birth": karin.date_of_birth.isoformat()}
    )
    assert response.status_code == 200
    assert b"do not match the KvK extract" in response.content
    assert open_token(request, joost).identity_confirmed_at is None
    assert not outbox("signing_code").exists()
    # The right name with a wrong date of birth is refused too.
    response = client.post(url, {"action": "identify", "id-name": joost.name, "id-date_of_birth": "1999-09-09"})
    assert b"do not match the KvK extract" in response.content
    # Without identity, signing is not offered.
    response = client.post(url, {"action": "sign", "sign-code": "123456", "sign-consent": "on"})
    assert _state(request)[1] == 0


def test_identity_guessing_locks_the_link(client, eva, org, carla):
    request = apply(eva, org)
    url = en_url("sign", token=link_for(request, carla))
    for _attempt in range(tokens.IDENTITY_MAX_ATTEMPTS):
        client.post(url, {"action": "identify", "id-name": "Someone Else", "id-date_of_birth": "1980-01-01"})
    response = client.get(url)
    assert response.status_code == 429
    assert b'data-reason="locked"' in response.content
    # Even the right answer no longer works.
    response = client.post(
        url, {"action": "identify", "id-name": carla.name, "id-date_of_birth": carla.date_of_birth.isoformat()}
    )
    assert response.status_code == 429
    assert open_token(request, carla).identity_confirmed_at is None


def test_name_is_compared_without_case_and_extra_spaces(eva, org, carla):
    request = apply(eva, org)
    token = open_token(request, carla)
    assert tokens.identity_matches(token, name="  carla   SMIT ", date_of_birth=carla.date_of_birth)
    assert not tokens.identity_matches(token, name="Carla Smith", date_of_birth=carla.date_of_birth)


def test_wrong_codes_are_limited(client, eva, org, carla):
    request = apply(eva, org)
    url = en_url("sign", token=link_for(request, carla))
    client.post(url, {"action": "identify", "id-name": carla.name, "id-date_of_birth": carla.date_of_birth.isoformat()})
    right = code_from_outbox(carla.email)
    wrong = "000000" if right != "000000" else "111111"
    for _attempt in range(tokens.CODE_MAX_ATTEMPTS):
        response = client.post(url, {"action": "sign", "sign-code": wrong, "sign-consent": "on"})
        assert response.status_code == 200
    # After too many wrong codes even the right one is refused until a new code is sent.
    response = client.post(url, {"action": "sign", "sign-code": right, "sign-consent": "on"})
    assert b"Too many wrong codes" in response.content
    assert _state(request)[1] == 0


def test_code_resend_is_rate_limited(client, eva, org, carla):
    request = apply(eva, org)
    url = en_url("sign", token=link_for(request, carla))
    client.post(url, {"action": "identify", "id-name": carla.name, "id-date_of_birth": carla.date_of_birth.isoformat()})
    client.post(url, {"action": "resend"})
    assert outbox("signing_code", carla.email).count() == 1
    with freeze_time(timezone.now() + datetime.timedelta(minutes=2)):
        client.post(url, {"action": "resend"})
    assert outbox("signing_code", carla.email).count() == 2


def test_expired_code_is_refused(client, eva, org, carla):
    request = apply(eva, org)
    url = en_url("sign", token=link_for(request, carla))
    client.post(url, {"action": "identify", "id-name": carla.name, "id-date_of_birth": carla.date_of_birth.isoformat()})
    code = code_from_outbox(carla.email)
    with freeze_time(timezone.now() + tokens.CODE_LIFETIME + datetime.timedelta(seconds=1)):
        response = client.post(url, {"action": "sign", "sign-code": code, "sign-consent": "on"})
    assert b"The code has expired" in response.content
    assert _state(request)[1] == 0


def test_signing_needs_consent(client, eva, org, carla):
    request = apply(eva, org)
    response = sign_as(client, request, carla, consent=False)
    assert response.status_code == 200
    assert b'data-testid="sign-done"' not in response.content
    assert _state(request)[1] == 0


def test_joint_authority_waits_for_every_joint_representative(client, eva, joint_org):
    request = apply(eva, joint_org)
    representatives = list(joint_org.representatives.order_by("name"))
    assert request.signatures_required == 3
    assert outbox("signing_request").count() == 3
    for representative in representatives[:2]:
        sign_as(client, request, representative)
        request.refresh_from_db()
        assert request.status == Request.Status.AWAITING_SIGNATURE
        assert not outbox("signing_completed").exists()
    sign_as(client, request, representatives[2])
    request.refresh_from_db()
    assert request.status == Request.Status.SUBMITTED
    assert request.signatures.count() == 3


def test_limited_authority_needs_two_signatures(client, eva, limited_org):
    request = apply(eva, limited_org)
    first, second, third = list(limited_org.representatives.order_by("name"))
    assert request.signatures_required == 2
    sign_as(client, request, first)
    request.refresh_from_db()
    assert request.status == Request.Status.AWAITING_SIGNATURE
    sign_as(client, request, second)
    request.refresh_from_db()
    assert request.status == Request.Status.SUBMITTED
    # The third link stops working once the form is complete.
    response = client.get(en_url("sign", token=tokens.token_value(third.signing_tokens.get())))
    assert response.status_code == 410


def test_a_single_limited_representative_cannot_sign_alone(eva, limited_org):
    limited_org.representatives.exclude(pk=limited_org.representatives.first().pk).delete()
    with pytest.raises(ValidationError) as error:
        apply(eva, limited_org)
    assert error.value.code == "no_signers"
    assert not Request.objects.exists()


def test_cancelled_request_links_stop_working(client, eva, org, carla):
    request = apply(eva, org)
    value = link_for(request, carla)
    services.request_cancel(actor=eva, request=request, reason="changed my mind")
    response = client.get(en_url("sign", token=value))
    assert response.status_code == 410


def test_manager_signs_instead_of_the_representative(anna, org, bram):
    request = services.request_create(
        actor=anna,
        kind=Request.Kind.UPGRADE,
        organization=org,
        subject_user=bram,
        level=AssuranceLevel.EH3,
        payload=UpgradePayload(
            means_id=(bram.means.first() or MeansFactory(owner=bram, level="EH2")).pk, from_level="EH2", to_level="EH3"
        ),
    )
    signature = services.request_sign_as_manager(actor=anna, request=request)
    request.refresh_from_db()
    assert request.status == Request.Status.SUBMITTED
    assert signature.capacity == Signature.Capacity.MANAGER and signature.user == anna
    assert request.signed_pdf_sha256 == signature.pdf_sha256
    with pytest.raises(ValidationError):
        services.request_sign_as_manager(actor=anna, request=request)


def test_manager_of_another_organisation_cannot_sign(daan, org, bram, anna):
    request = services.request_create(
        actor=anna,
        kind=Request.Kind.LINK_USER,
        organization=org,
        subject_user=bram,
        payload=minimal_payload(Request.Kind.LINK_USER, from_organization_id=org.pk),
    )
    with pytest.raises(PermissionDenied):
        services.request_sign_as_manager(actor=daan, request=request)
    assert request.signatures.count() == 0


def test_a_manager_never_signs_an_appointment(anna, org, carla, eva):
    request = apply(eva, org)
    with pytest.raises(PermissionDenied):
        services.request_sign_as_manager(actor=anna, request=request)
    assert request.signatures.count() == 0


def test_support_approves_the_appointment_in_the_admin_and_the_manager_role_exists(client, eva, org, carla):
    request = apply(eva, org)
    sign_as(client, request, carla)
    assert not Organization.objects.managed_by(eva).filter(pk=org.pk).exists()
    support = make_support()
    login(client, support)
    response = client.post(
        reverse("admin:requests_app_request_changelist"),
        {"action": "approve_appointments", "_selected_action": [request.pk]},
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == Request.Status.FULFILLED
    assert request.decided_by == support
    assert Organization.objects.managed_by(eva).filter(pk=org.pk).exists()
    assert outbox("appointment_approved", eva.email).exists()


def test_an_unsigned_appointment_cannot_be_approved(eva, org, carla, support):
    request = apply(eva, org)
    with pytest.raises(ValidationError):
        services.appointment_approve(actor=support, request=request)
    assert not Organization.objects.managed_by(eva).exists()


def test_a_manager_cannot_approve_an_appointment(anna, eva, org, carla, client):
    request = apply(eva, org)
    sign_as(client, request, carla)
    with pytest.raises(PermissionDenied):
        services.appointment_approve(actor=anna, request=request)


@pytest.mark.django_db(transaction=True)
def test_ten_simultaneous_sign_clicks_give_one_signature():
    organization = Organization.objects.create(name="Race B.V.", kvk_number="55554444")
    from tests.factories import RepresentativeFactory

    representative = RepresentativeFactory(organization=organization, name="Rita Race")
    applicant = UserFactory(email="race@race.nl", first_name="Ray", last_name="Cer")
    MeansFactory(owner=applicant, level=AssuranceLevel.EH3)
    request = apply(applicant, organization)
    token = open_token(request, representative)
    assert tokens.identity_check(token=token, name="Rita Race", date_of_birth=representative.date_of_birth)
    issued = tokens.code_issue(token=token)

    def click(_):
        try:
            services.request_sign_as_representative(
                token=SigningToken.objects.get(pk=token.pk), code=issued.code, consent=True
            )
            return "signed"
        except tokens.TokenError as exc:
            return exc.reason
        except ValidationError:
            return "refused"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(pool.map(click, range(10)))
    assert outcomes.count("signed") == 1, outcomes
    assert Signature.objects.filter(request=request).count() == 1
    request.refresh_from_db()
    assert request.status == Request.Status.SUBMITTED
