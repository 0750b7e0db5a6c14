"""Every public service is one durable transaction: it cannot run inside another.

A view that loops over a service, or wraps two services in one transaction,
fails here at once: calling a durable service inside an atomic block raises. The
list of services is read from the service modules, so a new one is held to this too.
"""

import importlib
import inspect

import pytest
from django.db import transaction

SERVICE_MODULES = [
    "authorizations.services",
    "organizations.services",
    "users.services",
    "requests_app.services.core",
    "requests_app.services.appointments",
    "requests_app.services.links",
    "requests_app.services.means",
    "requests_app.services.signatures",
    "requests_app.services.support",
    "requests_app.services.renewals",
]
# Reads and helpers beside the services: they write nothing, or only inside their caller's
# transaction (``renewal_carry_out``: the caller holds the request's lock).
NOT_SERVICES = {
    "users.services.check_period",
    "users.services.manager_level_over",
    "requests_app.services.renewals.renewal_approvers",
    "requests_app.services.renewals.open_renewal_for",
    "requests_app.services.renewals.renewal_carry_out",
    "requests_app.services.links.linkable_users",
    "requests_app.services.means.rows_with_errors_message",
}


def public_services():
    found = []
    for name in SERVICE_MODULES:
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if attr.startswith("_") or not inspect.isfunction(value) or value.__module__ != name:
                continue
            if f"{name}.{attr}" in NOT_SERVICES:
                continue
            found.append(pytest.param(value, id=f"{name}.{attr}"))
    return found


def test_the_services_are_found():
    names = {param.id.rsplit(".", 1)[1] for param in public_services()}
    assert {
        "authorization_grant",
        "authorization_grant_many",
        "authorization_renew",
        "authorization_renew_many",
        "authorization_revoke",
        "authorization_reactivate",
        "membership_link",
        "means_request_create",
        "request_sign_as_representative",
        "signing_identity_confirm",
        "signing_code_send",
    } <= names


@pytest.mark.django_db
@pytest.mark.parametrize("service", public_services())
def test_a_public_service_refuses_to_run_inside_another_transaction(service):
    with transaction.atomic(), pytest.raises(RuntimeError, match="durable"):
        service()  # the durable block refuses before the arguments are even looked at


@pytest.mark.django_db
@pytest.mark.parametrize("service", public_services())
def test_a_public_service_offers_its_work_for_other_services_to_nest(service):
    assert callable(service.nested)
