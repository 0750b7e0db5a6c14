"""Support's request page in the admin (issue: raw JSON, no buttons): the form content as labelled
fields, the identity checks, the next steps as buttons that run the admin actions; and support
reads names, not codes, in the outbox and the audit log."""

import re

import pytest
from django.utils import translation

from audit.models import AuditEvent
from notifications.services import email_queue
from requests_app.models import Request
from requests_app.services import means_request_create, request_sign_as_manager
from tests.conftest import login, make_support


def person(**overrides):
    return {
        "first_name": "Jan",
        "initials": "J.P.",
        "last_name": "de Vries",
        "date_of_birth": "1980-04-12",
        "email": "jan.devries@voorbeeld-bv1.nl",
        "phone": "+31612345678",
        "level": "EH3",
        "years": 3,
        "authorizations": [{"scope": "level", "level": "EH3"}],
        **overrides,
    }


@pytest.fixture
def desk_client(client, db):
    return login(client, make_support("desk@reconi.example"))


@pytest.fixture
def submitted(anna, org):
    request = means_request_create(actor=anna, organization=org, people=[person()])
    request_sign_as_manager(actor=anna, request=request)
    request.refresh_from_db()
    assert request.status == Request.Status.SUBMITTED
    return request


def change_page(client, request) -> str:
    response = client.get(f"/en/admin/requests_app/request/{request.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_form_content_is_shown_as_labelled_fields_not_json(desk_client, submitted):
    html = change_page(desk_client, submitted)

    assert 'data-testid="support-panel"' in html
    assert '"people"' not in html and "&quot;people&quot;" not in html
    panel = html[html.index('data-testid="support-panel"') :]
    for text in ("Jan J.P. de Vries", "12-04-1980", "jan.devries@voorbeeld-bv1.nl"):
        assert text in panel, text
    # The form is shown in its own language (the manager's Dutch here).
    assert "Alle diensten op EH3" in panel


def test_missing_identity_checks_and_the_next_steps_are_shown(desk_client, submitted):
    html = change_page(desk_client, submitted)

    assert "Still to check before approval: Jan de Vries" in html
    actions = re.findall(r'data-action="(\w+)"', html)
    assert actions == ["record_identity_check", "approve_requests", "reject_requests", "resend_request_email"]


def test_a_next_step_button_runs_its_admin_action(desk_client, submitted):
    response = desk_client.post(
        "/en/admin/requests_app/request/",
        {"_selected_action": submitted.pk, "index": "0", "action": "reject_requests"},
    )

    assert response.status_code == 200  # the reject action's own page asks for the reason
    assert "reason" in response.content.decode().lower()
    submitted.refresh_from_db()
    assert submitted.status == Request.Status.SUBMITTED


def test_an_approved_request_offers_fulfil(desk_client, submitted):
    Request.objects.filter(pk=submitted.pk).update(status=Request.Status.APPROVED)

    actions = re.findall(r'data-action="(\w+)"', change_page(desk_client, submitted))

    assert actions[0] == "fulfil_requests"


def test_outbox_and_audit_log_show_names_not_codes(desk_client, anna, submitted):
    with translation.override("en"):
        email_queue(kind="renewal_reminder_user", to=anna, context={"authorizations": [], "means_list": []})

    outbox = desk_client.get("/en/admin/notifications/outboxemail/").content.decode()
    audit = desk_client.get("/en/admin/audit/auditevent/").content.decode()

    assert "Renewal reminder to a user" in outbox
    assert ">renewal_reminder_user<" not in outbox
    assert AuditEvent.objects.filter(action="request.sign").exists()
    assert "Form signed" in audit and ">request.sign<" not in audit
