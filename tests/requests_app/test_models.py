import pytest
from django.db import IntegrityError, transaction

from requests_app.models import Request, Signature
from requests_app.services import request_create
from tests.factories import minimal_payload

LINK = minimal_payload("link_user")


def test_request_gets_a_unique_readable_form_number(org, bram):
    first = request_create(actor=bram, kind=Request.Kind.LINK_USER, organization=org, subject_user=bram, payload=LINK)
    second = request_create(actor=bram, kind=Request.Kind.LINK_USER, organization=org, subject_user=bram, payload=LINK)
    first.refresh_from_db()
    assert first.number == f"RC-{first.created_at:%Y}-{first.pk:06d}"
    assert first.number != second.number


def test_transitions_are_limited_to_the_workflow(org, bram):
    request = request_create(actor=bram, kind=Request.Kind.LINK_USER, organization=org, subject_user=bram, payload=LINK)
    assert request.can_transition_to(Request.Status.AWAITING_SIGNATURE)
    assert not request.can_transition_to(Request.Status.FULFILLED)
    request.status = Request.Status.FULFILLED
    assert not request.can_transition_to(Request.Status.CANCELLED)


def test_rejection_needs_a_reason_in_the_database(org, bram):
    request = request_create(actor=bram, kind=Request.Kind.LINK_USER, organization=org, subject_user=bram, payload=LINK)
    with pytest.raises(IntegrityError), transaction.atomic():
        Request.objects.filter(pk=request.pk).update(status=Request.Status.REJECTED)


def test_representative_signature_needs_the_representative(org, bram):
    request = request_create(actor=bram, kind=Request.Kind.LINK_USER, organization=org, subject_user=bram, payload=LINK)
    with pytest.raises(IntegrityError), transaction.atomic():
        Signature.objects.create(request=request, signer_name="X", capacity="representative", consent_text="x")
