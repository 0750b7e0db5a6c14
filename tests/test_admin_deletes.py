"""Nothing audited disappears through the admin: no delete button, page, URL or bulk action.

A delete URL typed by hand answers with a message saying why and what to do instead,
never a 403 page or a 500 (before, deleting a user or an organisation that the audit
log refers to ended in a 500 from the audit trigger). Every registered admin is
walked: a new model's admin either refuses deletes or is listed here as deletable.
"""

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib import admin
from django.contrib.auth.models import Group

from audit.models import AuditEvent
from authorizations.models import Authorization, Service, ServiceProvider
from notifications.models import OutboxEmail, RenewalReminder
from notifications.services import email_queue
from organizations.models import Membership, Organization, Representative
from requests_app.models import Request, Signature
from tests.conftest import login
from tests.factories import ServiceFactory, ServiceProviderFactory
from tests.test_admin import (  # noqa: F401 - fixtures
    active_authorization,
    desk,
    messages_of,
    model_url,
    post_action,
    superuser,
    world,
)
from users.models import Means, User

# Deleting these is legitimate: no audit row refers to them, or the deletion is audited
# (catalogue entries, via reconi.admin.AuditedDeleteMixin; protected while in use).
DELETABLE = {Group, EmailAddress, Authenticator, Service, ServiceProvider}
NEVER_DELETED = [
    User,
    Means,
    Organization,
    Representative,
    Membership,
    Authorization,
    Request,
    Signature,
    OutboxEmail,
    RenewalReminder,
    AuditEvent,
]


@pytest.fixture
def rows(world, anna, bram, org):  # noqa: F811
    from requests_app.services import appointment_apply
    from tests.factories import RepresentativeFactory

    representative = RepresentativeFactory(organization=org)
    request = appointment_apply(actor=bram, organization=org, level="EH3")
    Signature.objects.create(
        request=request,
        signer_name=representative.name,
        capacity=Signature.Capacity.REPRESENTATIVE,
        representative=representative,
        consent_text="Ik onderteken.",
    )
    email_queue(kind="authorization_revoked", to=bram, context={})
    RenewalReminder.objects.create(
        key="reminder:test", target="means", object_id=1, valid_until="2030-01-01", stage="2m", run="0" * 32
    )
    return {model: model._default_manager.order_by("pk").first() for model in NEVER_DELETED}


def test_every_registered_admin_refuses_deletes_unless_deleting_is_legitimate(rf, superuser):  # noqa: F811
    request = rf.get("/")
    request.user = superuser
    for model, model_admin in admin.site._registry.items():
        if model in DELETABLE:
            continue
        assert not model_admin.has_delete_permission(request), f"{model._meta.label} can be deleted in the admin"
        assert "delete_selected" not in model_admin.get_actions(request), model._meta.label


@pytest.mark.parametrize("model", NEVER_DELETED, ids=lambda model: model._meta.label)
def test_a_superuser_cannot_delete_an_audited_row_by_url_or_bulk_action(client, superuser, rows, model):  # noqa: F811
    obj = rows[model]
    assert obj is not None, f"no {model._meta.label} to try with"
    login(client, superuser)
    before = model._default_manager.count()
    events = AuditEvent.objects.count()
    for response in (
        client.get(model_url(model, "delete", obj.pk), follow=True),
        client.post(model_url(model, "delete", obj.pk), {"post": "yes"}, follow=True),
    ):
        assert response.status_code == 200
        assert response.redirect_chain[0][1] == 302
        (message,) = [m for m in messages_of(response) if "cannot be deleted" in m]
        assert message.startswith(str(model._meta.verbose_name).capitalize())
    assert post_action(client, model, "delete_selected", [obj], post="yes").status_code in (200, 302)
    assert model._default_manager.filter(pk=obj.pk).exists()
    assert (model._default_manager.count(), AuditEvent.objects.count()) == (before, events)


def test_a_delete_url_of_a_row_that_does_not_exist_is_refused_too(client, superuser):  # noqa: F811
    login(client, superuser)
    response = client.get(model_url(User, "delete", 987654321))
    assert response.status_code == 302 and response["Location"].endswith(model_url(User, "changelist"))


def test_an_unused_catalogue_entry_is_deleted_with_an_audit_event(client, superuser):  # noqa: F811
    provider = ServiceProviderFactory()
    service = ServiceFactory(provider=provider, name="Oude dienst")
    login(client, superuser)
    response = client.post(model_url(Service, "delete", service.pk), {"post": "yes"})
    assert response.status_code == 302 and not Service.objects.filter(pk=service.pk).exists()
    event = AuditEvent.objects.order_by("-pk").first()
    assert (event.action, event.object_id, event.actor) == ("service.delete", str(service.pk), superuser)


def test_a_service_in_use_is_not_deleted(client, superuser, world):  # noqa: F811
    service = world.service
    login(client, superuser)
    response = client.post(model_url(Service, "delete", service.pk), {"post": "yes"})
    assert response.status_code == 200  # the admin's own "cannot delete, protected" page
    assert Service.objects.filter(pk=service.pk).exists()
