"""Rule 7: revoking is immediate: the user can no longer log in for the organisation."""

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent
from authorizations.models import Authorization
from authorizations.selectors import user_may_use_service
from authorizations.services import authorization_revoke
from tests.rules.conftest import grant, nothing_changes


@pytest.fixture
def granted(anna, bram, org, service_eh2):
    return grant(actor=anna, user=bram, organization=org, service=service_eh2, level="EH2")


def test_revoked_authorization_grants_nothing_right_away(anna, bram, org, service_eh2, granted):
    assert user_may_use_service(user=bram, organization=org, service=service_eh2, level="EH2")
    before = timezone.now()
    revoked = authorization_revoke(actor=anna, authorization=granted)
    assert not user_may_use_service(user=bram, organization=org, service=service_eh2, level="EH2")
    stored = Authorization.objects.get(pk=granted.pk)
    assert stored.status == "revoked"
    assert stored.revoked_by == anna
    assert before <= stored.revoked_at <= timezone.now()
    assert revoked.revoked_at == stored.revoked_at
    assert not Authorization.objects.in_force().filter(pk=granted.pk).exists()


def test_revoke_does_not_wait_for_the_end_date(anna, granted):
    authorization_revoke(actor=anna, authorization=granted)
    stored = Authorization.objects.get(pk=granted.pk)
    assert stored.valid_until == granted.valid_until  # dates untouched; revoked_at alone decides
    assert stored.valid_until > timezone.localdate()


def test_revoking_twice_is_an_error_and_changes_nothing(anna, support, granted):
    authorization_revoke(actor=anna, authorization=granted)
    with nothing_changes(), pytest.raises(ValidationError) as excinfo:
        authorization_revoke(actor=support, authorization=granted)
    assert excinfo.value.messages == ["This authorization was already revoked."]
    assert Authorization.objects.get(pk=granted.pk).revoked_by == anna


def test_revocation_email_goes_to_the_user_after_commit(
    anna, bram, granted, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        authorization_revoke(actor=anna, authorization=granted)
        assert mailoutbox == []  # not before the transaction commits
    assert mailoutbox == []
    for callback in callbacks:
        callback()
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [bram.email]


def test_revocation_email_is_sent_once_per_revoke(anna, granted, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        authorization_revoke(actor=anna, authorization=granted)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        authorization_revoke(actor=anna, authorization=granted)
    assert len(mailoutbox) == 1


def test_a_rolled_back_revoke_sends_no_email(anna, granted, mailoutbox, django_capture_on_commit_callbacks):
    events = AuditEvent.objects.count()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            authorization_revoke(actor=anna, authorization=granted)
            raise RuntimeError("the surrounding request failed")
    assert callbacks == []
    assert mailoutbox == []
    assert Authorization.objects.get(pk=granted.pk).revoked_at is None
    assert AuditEvent.objects.count() == events
