"""Fixtures for the signed forms: the portal certificate in a temporary directory, representatives, a signing walk."""

import datetime
import re

import pytest

from notifications.models import OutboxEmail
from organizations.models import Representative
from reconi.levels import AssuranceLevel
from requests_app import services, tokens
from requests_app.models import Request, SigningToken
from tests.factories import MeansFactory, OrganizationFactory, RepresentativeFactory, UserFactory

CARLA_DOB = datetime.date(1968, 3, 14)


@pytest.fixture(scope="session")
def signing_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("signing")


@pytest.fixture(autouse=True)
def portal_certificate_files(settings, signing_dir):
    """One self-signed development certificate for the whole run, created on first use."""
    settings.SIGNING_KEY_FILE = str(signing_dir / "key.pem")
    settings.SIGNING_CERT_FILE = str(signing_dir / "cert.pem")
    settings.SIGNING_DEV_CERT_AUTOCREATE = True
    return settings


@pytest.fixture
def carla(org):
    """Director of org with sole authority, as on the KvK extract."""
    return RepresentativeFactory(
        organization=org,
        name="Carla Smit",
        email="carla.smit@voorbeeld-bv1.nl",
        date_of_birth=CARLA_DOB,
        authority=Representative.Authority.SOLE,
    )


@pytest.fixture
def joint_org(db):
    organization = OrganizationFactory(name="Samen Sterk B.V.", email_domain="samensterk.nl")
    for index, name in enumerate(["Joost de Wit", "Karin Bos", "Lars Mulder"]):
        RepresentativeFactory(
            organization=organization,
            name=name,
            email=f"{name.split()[0].lower()}@samensterk.nl",
            date_of_birth=datetime.date(1960 + index, 1, 1 + index),
            authority=Representative.Authority.JOINT,
        )
    return organization


@pytest.fixture
def limited_org(db):
    organization = OrganizationFactory(name="Beperkt B.V.", email_domain="beperkt.nl")
    for index, name in enumerate(["Mila Vos", "Noah Peters", "Olga Smits"]):
        RepresentativeFactory(
            organization=organization,
            name=name,
            email=f"{name.split()[0].lower()}@beperkt.nl",
            date_of_birth=datetime.date(1970 + index, 2, 1 + index),
            authority=Representative.Authority.LIMITED,
        )
    return organization


@pytest.fixture
def eva(db):
    """A person with an EH3 means who wants to become manager."""
    user = UserFactory(email="eva.jansen@voorbeeld-bv1.nl", first_name="Eva", last_name="Jansen", language="en")
    MeansFactory(owner=user, level=AssuranceLevel.EH3)
    return user


def apply(user, organization, level=AssuranceLevel.EH3) -> Request:
    return services.appointment_apply(actor=user, organization=organization, level=level)


def open_token(request: Request, representative) -> SigningToken:
    return SigningToken.objects.get(
        request=request, representative=representative, used_at__isnull=True, revoked_at__isnull=True
    )


def link_for(request: Request, representative) -> str:
    return tokens.token_value(open_token(request, representative))


def en_url(name: str, **kwargs) -> str:
    """The English page (/en/...): the assertions read English messages."""
    from django.urls import reverse
    from django.utils import translation

    with translation.override("en"):
        return reverse(name, kwargs=kwargs or None)


def sign_as(client, request: Request, representative, *, consent=True):
    """Walk the public page: identity, the emailed code, consent, sign. Returns the final response."""
    url = en_url("sign", token=link_for(request, representative))
    response = client.post(
        url,
        {
            "action": "identify",
            "id-name": representative.name,
            "id-date_of_birth": representative.date_of_birth.isoformat(),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    data = {"action": "sign", "sign-code": code_from_outbox(representative.email)}
    if consent:
        data["sign-consent"] = "on"
    return client.post(url, data)


def outbox(kind: str, to: str | None = None):
    """Emails queued in the notifications outbox (rendered at queue time), newest first."""
    emails = OutboxEmail.objects.filter(kind=kind).order_by("-id")
    return emails.filter(to__iexact=to) if to else emails


def code_from_outbox(address: str) -> str:
    email = outbox("signing_code", address).first()
    assert email is not None, f"no code emailed to {address}"
    match = re.search(r"(?<![\d-])(\d{6})(?!\d)", email.body_text)
    assert match, email.body_text
    return match.group(1)
