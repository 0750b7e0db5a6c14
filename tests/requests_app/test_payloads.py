"""The request model: a typed schema per kind on write and read, one status enumeration,
and the generated forms as files in storage with their SHA-256 on the row."""

import ast
import datetime
import hashlib
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from requests_app import payloads, services
from requests_app.models import PAYLOAD_SCHEMAS, Request, RequestKind, RequestStatus, TamperedFile

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent.parent

PERSON = payloads.Person(
    first_name="Jan",
    last_name="de Vries",
    date_of_birth=datetime.date(1990, 2, 3),
    email="jan.devries@voorbeeld-bv1.nl",
    level="EH3",
    years=3,
    authorizations=(payloads.AuthorizationLine(scope="level", level="EH3", years=3, label="All services at EH3"),),
)
EXAMPLES = {
    RequestKind.NEW_MEANS: payloads.NewMeansPayload(people=(PERSON,)),
    RequestKind.UPGRADE: payloads.UpgradePayload(means_id=7, from_level="EH2", to_level="EH3"),
    RequestKind.NEW_AUTHORIZATIONS: payloads.NewAuthorizationsPayload(
        authorizations=(payloads.AuthorizationLine(scope="service", level="EH2", years=1, service_id=4, user_id=9),)
    ),
    RequestKind.LINK_USER: payloads.LinkUserPayload(from_organization_id=1, from_organization="Voorbeeld BV 1"),
    RequestKind.APPOINT_MANAGER: payloads.AppointManagerPayload(
        manager=payloads.ManagerDetails(name="Anna de Jong", email="anna@voorbeeld-bv1.nl"), means_level="EH3"
    ),
    RequestKind.MEANS_RENEWAL: payloads.MeansRenewalPayload(
        means_id=3,
        years=1,
        valid_until=datetime.date(2027, 1, 1),
        new_valid_until=datetime.date(2028, 1, 1),
        price=Decimal("0.00"),
        signers=(5, 6),
    ),
}


def test_every_kind_has_a_schema_and_each_round_trips_through_json():
    assert set(PAYLOAD_SCHEMAS) == set(RequestKind.values) == set(EXAMPLES)
    for kind, example in EXAMPLES.items():
        assert PAYLOAD_SCHEMAS[kind].parse(example.to_json()) == example


@pytest.mark.parametrize(
    ("kind", "change", "complaint"),
    [
        (RequestKind.UPGRADE, lambda d: d.pop("means_id"), "means_id: required"),
        (RequestKind.UPGRADE, lambda d: d.update(means_id="7"), "means_id: int expected"),
        (RequestKind.UPGRADE, lambda d: d.update(to_level="EH1"), "unknown assurance level"),
        (RequestKind.LINK_USER, lambda d: d.update(declined=1), "declined: bool expected"),
        (RequestKind.LINK_USER, lambda d: d.update(extra="x"), "unknown field(s) extra"),
        (RequestKind.NEW_MEANS, lambda d: d["people"][0].update(date_of_birth="3-2-1990"), "people[0].date_of_birth"),
        (RequestKind.NEW_MEANS, lambda d: d["people"][0]["authorizations"][0].pop("years"), "years: required"),
        (RequestKind.MEANS_RENEWAL, lambda d: d.update(price=0.5), "price: an amount is expected"),
        (RequestKind.MEANS_RENEWAL, lambda d: d.update(signers=[True]), "signers[0]: int expected"),
    ],
)
def test_a_payload_that_does_not_fit_its_kind_is_refused_on_clean(org, kind, change, complaint):
    data = EXAMPLES[kind].to_json()
    change(data)
    request = Request(kind=kind, organization=org, payload=data)
    with pytest.raises(ValidationError) as refused:
        request.full_clean(exclude=["pdf", "signed_pdf"])
    assert any(complaint in message for message in refused.value.message_dict["payload"])


def test_a_payload_of_another_kind_is_refused_on_write(org):
    request = Request(kind=RequestKind.UPGRADE, organization=org)
    with pytest.raises(TypeError):
        request.set_payload(EXAMPLES[RequestKind.LINK_USER])
    request.set_payload(EXAMPLES[RequestKind.UPGRADE])
    assert request.payload_for_upgrade() == EXAMPLES[RequestKind.UPGRADE]
    with pytest.raises(ValueError):
        request.payload_for_link_user()


def test_the_service_that_creates_a_request_refuses_a_raw_dict(anna, org):
    with pytest.raises(TypeError):
        services.request_create(
            actor=anna, kind=RequestKind.UPGRADE, organization=org, payload={"means_id": 1}, level="EH3"
        )
    assert not Request.objects.exists()


def _payload_reads(path: Path) -> list[str]:
    """``x.payload`` read as data (subscript, ``.get``, iteration...) anywhere but in the model."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and node.attr == "payload":
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_no_code_reads_the_raw_payload_outside_the_model():
    apps = ["audit", "users", "organizations", "notifications", "authorizations", "requests_app", "portal", "reconi"]
    allowed = {ROOT / "requests_app" / "models.py"}
    found = [
        hit
        for app in apps
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts and path not in allowed
        for hit in _payload_reads(path)
    ]
    assert found == []
    templates = [p for p in (ROOT / "templates").rglob("*.html") if ".payload." in p.read_text()]
    assert templates == []


def test_the_status_and_kind_constraints_take_their_names_from_the_enumerations(org):
    by_name = {c.name: c for c in Request._meta.constraints}
    assert by_name["request_status_known"].condition.children == [("status__in", RequestStatus.values)]
    assert by_name["request_kind_known"].condition.children == [("kind__in", RequestKind.values)]
    request = Request.objects.create(kind=RequestKind.LINK_USER, organization=org, payload={})
    with pytest.raises(IntegrityError), transaction.atomic():
        Request.objects.filter(pk=request.pk).update(status="lost")


# The form as files ----------------------------------------------------------------------------------------------


def test_a_form_is_stored_as_a_file_named_by_its_hash_and_read_back_checked(org):
    request = Request.objects.create(kind=RequestKind.LINK_USER, organization=org, payload={})
    request.store_pdf(b"%PDF-1.7 form")
    request.save()
    digest = hashlib.sha256(b"%PDF-1.7 form").hexdigest()
    assert request.pdf_sha256 == digest and digest in request.pdf.name
    assert storages["forms"].exists(request.pdf.name)
    request.store_signed_pdf(b"%PDF-1.7 form, signed")
    request.save()
    request.refresh_from_db()
    assert request.pdf_content() == b"%PDF-1.7 form"
    assert request.current_pdf == b"%PDF-1.7 form, signed"


def test_a_stored_form_that_no_longer_matches_its_hash_is_never_handed_out(org):
    request = Request.objects.create(kind=RequestKind.LINK_USER, organization=org, payload={})
    request.store_pdf(b"%PDF-1.7 form")
    request.save()
    path = Path(storages["forms"].path(request.pdf.name))
    path.write_bytes(b"%PDF-1.7 forged")
    with pytest.raises(TamperedFile):
        request.current_pdf  # noqa: B018


def test_a_row_with_a_file_but_no_hash_is_refused_by_the_database(org):
    request = Request.objects.create(kind=RequestKind.LINK_USER, organization=org, payload={})
    with pytest.raises(IntegrityError), transaction.atomic():
        Request.objects.filter(pk=request.pk).update(pdf="requests/2026/x.pdf")


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_existing_bytes_into_files():
    executor = MigrationExecutor(connection)
    before = [("requests_app", "0003_means_lifecycle")]
    latest = executor.loader.graph.leaf_nodes("requests_app")
    executor.migrate(before)
    try:
        old = MigrationExecutor(connection).loader.project_state(before).apps
        organization = old.get_model("organizations", "Organization").objects.create(
            name="Oud BV", kvk_number="87654321"
        )
        row = old.get_model("requests_app", "Request").objects.create(
            kind="link_user",
            organization_id=organization.pk,
            payload={"from_organization_id": organization.pk},
            pdf=b"%PDF old form",
            signed_pdf=b"%PDF old form, signed",
            signed_pdf_sha256=hashlib.sha256(b"%PDF old form, signed").hexdigest(),
            number="RC-2025-000001",
        )
    finally:
        MigrationExecutor(connection).migrate(latest)
    request = Request.objects.get(pk=row.pk)
    assert request.pdf_content() == b"%PDF old form"
    assert request.signed_pdf_content() == b"%PDF old form, signed"
    assert request.pdf_sha256 == hashlib.sha256(b"%PDF old form").hexdigest()
    assert request.payload_for_link_user().from_organization_id == organization.pk
