"""The demo service catalogue, kept as data, and its idempotent loader.

Names and levels follow the eHerkenning services businesses actually meet. The
OINs have the government format (``00000001`` + RSIN + ``000``, 20 digits); only
the Belastingdienst one is the real one, the others are illustrative. Every
ServiceUUID is fixed here, because authorizations are keyed on it: loading the
catalogue again must find the same services, never make new ones.
"""

import uuid
from dataclasses import dataclass

from django.db import transaction

from audit.services import audit_record
from reconi.levels import AssuranceLevel

from .models import Service, ServiceProvider

EH2 = AssuranceLevel.EH2.value
EH2_PLUS = AssuranceLevel.EH2_PLUS.value
EH3 = AssuranceLevel.EH3.value
EH4 = AssuranceLevel.EH4.value


@dataclass(frozen=True)
class CatalogueService:
    uuid: uuid.UUID
    index: int
    name: str
    minimum_level: str


@dataclass(frozen=True)
class CatalogueProvider:
    oin: str
    name: str
    services: tuple[CatalogueService, ...]


def _s(uuid_text: str, index: int, name: str, minimum_level: str) -> CatalogueService:
    return CatalogueService(uuid.UUID(uuid_text), index, name, minimum_level)


CATALOGUE: tuple[CatalogueProvider, ...] = (
    CatalogueProvider(
        "00000001003214345000",
        "Belastingdienst",
        (
            _s("390bd7a1-10e8-42d3-b200-c86e2df886a5", 1, "Omzetbelasting aangifte", EH3),
            _s("0ba25e05-7b46-49e6-bbf3-5ee1ee8e285c", 2, "Loonaangifte", EH3),
            _s("9ec5dc56-2527-4d76-8a7f-fc5bf07eeed0", 3, "Inkomstenbelasting ondernemers", EH3),
            _s("6918c22a-6c88-4325-aff4-f80b327c6c40", 4, "Vennootschapsbelasting aangifte", EH3),
            _s("2ccaf051-6735-4d23-a017-14311a5ed5c4", 5, "Mijn Belastingdienst Zakelijk inzien", EH2_PLUS),
            _s("6c1ea793-323a-42e8-a32c-708ab77481c8", 6, "Betalingsregeling aanvragen", EH3),
        ),
    ),
    CatalogueProvider(
        "00000001003214369000",
        "Douane",
        (
            _s("12fa7f40-fa52-4c59-90b3-488a5a5f59df", 1, "Douane aangifte invoer", EH3),
            _s("4bd519a4-ced2-414a-9147-0ce386907c9f", 2, "Douane aangifte uitvoer", EH3),
            _s("a189390a-5b66-44e7-b068-0123e5d26f61", 3, "AEO-vergunningen en certificaten", EH4),
            _s("2ba2afb3-e382-47b0-af33-5484a3a2061d", 4, "Accijnsaangifte", EH4),
        ),
    ),
    CatalogueProvider(
        "00000001001518640000",
        "UWV",
        (
            _s("a90b7986-0c1c-4440-b581-fac0ccdd664b", 1, "Ziekmelden werknemer", EH3),
            _s("cf4341a9-e9ba-4e2c-ad43-02d45109715d", 2, "Werkgeversportaal", EH3),
            _s("59c25b66-a0cf-4184-9612-3efeddf06f06", 3, "Loonkostenvoordelen aanvragen", EH2_PLUS),
            _s("f8b76d06-6c9c-4359-8625-a1c351e990da", 4, "Verzuimmeldingen inzien", EH2_PLUS),
            _s("1e1bb246-60f5-48f6-9ffe-d5f53983ec15", 5, "Polisadministratie raadplegen", EH4),
        ),
    ),
    CatalogueProvider(
        "00000001003214394000",
        "Rijksdienst voor Ondernemend Nederland (RVO)",
        (
            _s("37bbe0a7-3e91-43d4-aa21-b69017b51ebc", 1, "Subsidieportaal", EH2_PLUS),
            _s("09c314c5-2f1a-4be5-a0bf-5bdccb535396", 2, "Gecombineerde opgave", EH3),
            _s("55b56d81-f33d-4df3-b210-85c528803987", 3, "WBSO aanvragen", EH2_PLUS),
            _s("eb6d7567-5cf0-402e-9a8d-cf82c1b24f11", 4, "Energielabel registreren", EH2),
            _s("dc369d83-ca0e-4a31-8fc4-b1fcf743f897", 5, "Exportkredietverzekering", EH3),
        ),
    ),
    CatalogueProvider(
        "00000001001910424000",
        "Kamer van Koophandel (KvK)",
        (
            _s("9605c662-9ad3-4fa0-8ae1-ecd61ba92a23", 1, "Handelsregister inzage", EH2),
            _s("b3473bd4-2ed5-411a-8ee1-ba15d40c8efd", 2, "Wijzigingen doorgeven Handelsregister", EH3),
            _s("df5b5e96-23dd-4ed2-aeeb-8e394fc12c56", 3, "Jaarrekening deponeren", EH3),
            _s("47e06e8e-5df5-4f2e-830b-708f3456babc", 4, "UBO-registratie", EH3),
        ),
    ),
    CatalogueProvider(
        "00000001002564440000",
        "Gemeente Amsterdam",
        (
            _s("7891c994-e7ae-429e-ba78-7035fba8f90b", 1, "Parkeervergunning bedrijven", EH2),
            _s("a1296f6f-ade5-4bc8-85b6-05421b649914", 2, "Bedrijfsafval melden", EH2),
            _s("2cad0e38-2356-4376-a62f-fb8067ad5775", 3, "Terrasvergunning aanvragen", EH2),
            _s("b8658ea5-dc16-4164-81af-0a5d9cc11d82", 4, "Evenementenvergunning aanvragen", EH2_PLUS),
            _s("0e5e6cef-b2cf-4c55-970d-09d00cee9f45", 5, "Gemeentelijke belastingen bedrijven", EH2_PLUS),
        ),
    ),
    CatalogueProvider(
        "00000001003214400000",
        "Dienst Uitvoering Onderwijs (DUO)",
        (
            _s("c0cadb78-37eb-4362-9463-d5a33fb4b038", 1, "Diplomaregister raadplegen", EH2_PLUS),
            _s("d937648b-30b7-465c-89ec-8b250f570758", 2, "BRON-registratie onderwijsdeelnemers", EH3),
            _s("56b8ea51-5584-44bc-ac1d-d0200d831a1c", 3, "Opleidingen registreren (levenlanglerenkrediet)", EH2),
        ),
    ),
)


def catalogue_service(name: str) -> CatalogueService:
    """The catalogue entry with this name (names are unique in the catalogue)."""
    for provider in CATALOGUE:
        for service in provider.services:
            if service.name == name:
                return service
    raise KeyError(name)


def catalogue_provider(name: str) -> CatalogueProvider:
    for provider in CATALOGUE:
        if provider.name == name:
            return provider
    raise KeyError(name)


@transaction.atomic
def catalogue_load(*, actor=None, catalogue: tuple[CatalogueProvider, ...] = CATALOGUE) -> dict[str, int]:
    """Create or update providers and services to match the data; idempotent.

    Writes, and audits, only what differs, so a second run changes nothing.
    """
    counts = {"providers_created": 0, "providers_updated": 0, "services_created": 0, "services_updated": 0}
    for entry in catalogue:
        provider = ServiceProvider.objects.filter(oin=entry.oin).first()
        if provider is None:
            provider = ServiceProvider(oin=entry.oin, name=entry.name)
            provider.full_clean()
            provider.save()
            counts["providers_created"] += 1
        elif provider.name != entry.name:
            provider.name = entry.name
            provider.save(update_fields=["name"])
            counts["providers_updated"] += 1
        for item in entry.services:
            service = Service.objects.filter(uuid=item.uuid).select_related("provider").first()
            wanted = {"provider": provider, "index": item.index, "name": item.name, "minimum_level": item.minimum_level}
            if service is None:
                Service(uuid=item.uuid, **wanted).save()
                counts["services_created"] += 1
            elif any(getattr(service, field) != value for field, value in wanted.items()):
                for field, value in wanted.items():
                    setattr(service, field, value)
                service.save()  # also re-derives service_id from OIN and index
                counts["services_updated"] += 1
    if any(counts.values()):
        audit_record(actor=actor, action="catalogue.load", data=counts)
    return counts
