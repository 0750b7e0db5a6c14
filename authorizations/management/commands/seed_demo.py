"""The demo data of docs/contract.md ("Demo data"). Idempotent: a second run changes nothing.

Everything that carries a rule goes through the services (organisations,
representatives, links, means, manager roles, authorizations), with the demo
support account as actor, so the demo's audit log reads like the real thing.
Each step first looks whether its result is already there. The one exception
to "through the services": expired and soon-expiring authorizations are granted
through the service and then moved into the past (see ``Command.backdate``).
"""

import datetime
import hashlib
import os
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import encrypt
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from authorizations.catalogue import catalogue_load, catalogue_provider, catalogue_service
from authorizations.models import Authorization, Service, ServiceProvider
from authorizations.services import authorization_grant, authorization_revoke
from organizations.models import Membership, Organization, Representative
from organizations.services import manager_appoint, membership_link, organization_create, representative_add
from reconi.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from reconi.levels import AssuranceLevel
from reconi.roles import support_group_ensure
from users.models import Means, User
from users.services import means_issue

EH2, EH2_PLUS, EH3 = AssuranceLevel.EH2.value, AssuranceLevel.EH2_PLUS.value, AssuranceLevel.EH3.value

SUPPORT_EMAIL = "support@reconi.example"
ADMIN_EMAIL = "admin@reconi.example"

BV1, BV2, ANDERE = "Voorbeeld BV 1", "Voorbeeld BV 2", "Andere BV"

# KvK numbers are 8 digits; the RSINs pass the elfproef (reconi.validators.rsin_is_valid).
ORGANIZATIONS = [
    {"name": BV1, "kvk_number": "68750110", "rsin": "812345678", "email_domain": "voorbeeld-bv1.nl"},
    {"name": BV2, "kvk_number": "68750129", "rsin": "823456791", "email_domain": "voorbeeld-bv2.nl"},
    {
        "name": ANDERE,
        "kvk_number": "71234567",
        "rsin": "854321093",
        "email_domain": "andere-bv.nl",
        "branch_number": "000012345678",
    },
]


@dataclass(frozen=True)
class Person:
    email: str
    first_name: str
    initials: str
    last_name: str
    date_of_birth: datetime.date
    means_level: str | None = None
    login: bool = True  # False: a person in the data, not one of the demo logins
    totp: bool = False


ANNA = Person("anna.dejong@voorbeeld-bv1.nl", "Anna", "A.", "de Jong", datetime.date(1984, 3, 12), EH3, totp=True)
BRAM = Person("bram.visser@voorbeeld-bv1.nl", "Bram", "B.", "Visser", datetime.date(1991, 7, 2), EH3)
CARLA = Person("carla.smit@voorbeeld-bv1.nl", "Carla", "C.M.", "Smit", datetime.date(1968, 11, 23), EH3)
DAAN = Person("daan.bakker@andere-bv.nl", "Daan", "D.", "Bakker", datetime.date(1979, 1, 30), EH3, totp=True)
EVA = Person("eva.meijer@andere-bv.nl", "Eva", "E.", "Meijer", datetime.date(1995, 5, 14), EH2_PLUS, login=False)
PEOPLE = [ANNA, BRAM, CARLA, DAAN, EVA]

# (organisation, person, authority); Erik has no login: he signs via emailed links only.
REPRESENTATIVES = [
    (BV1, "Carla Smit", CARLA.email, CARLA.date_of_birth, True),
    (BV2, "Carla Smit", CARLA.email, CARLA.date_of_birth, True),
    (ANDERE, "Erik Jansen", "erik.jansen@andere-bv.nl", datetime.date(1962, 9, 8), False),
]

# Links without a manager role; the managers' own links come with manager_appoint.
LINKS = [(BRAM, BV1), (CARLA, BV1), (CARLA, BV2), (EVA, ANDERE)]
MANAGERS = [(ANNA, BV1), (ANNA, BV2), (DAAN, ANDERE)]

ACTIVE, EXPIRING, EXPIRED, REVOKED = "active", "expiring", "expired", "revoked"


@dataclass(frozen=True)
class DemoAuthorization:
    organization: str
    person: Person
    level: str
    state: str
    service: str | None = None  # a catalogue service name
    provider: str | None = None  # a catalogue provider name; neither: all services at the level
    actor: Person | None = None  # the organisation's manager; None: support


AUTHORIZATIONS = [
    DemoAuthorization(BV1, ANNA, EH3, ACTIVE),
    DemoAuthorization(BV1, BRAM, EH3, ACTIVE, service="Omzetbelasting aangifte", actor=ANNA),
    DemoAuthorization(BV1, BRAM, EH3, EXPIRING, service="Loonaangifte", actor=ANNA),
    DemoAuthorization(BV1, BRAM, EH2, ACTIVE, provider="Kamer van Koophandel (KvK)", actor=ANNA),
    DemoAuthorization(BV1, BRAM, EH2_PLUS, EXPIRED, service="Subsidieportaal", actor=ANNA),
    DemoAuthorization(BV1, BRAM, EH3, REVOKED, service="Ziekmelden werknemer", actor=ANNA),
    DemoAuthorization(BV1, CARLA, EH3, ACTIVE, service="Jaarrekening deponeren", actor=ANNA),
    DemoAuthorization(BV2, ANNA, EH3, ACTIVE, provider="Belastingdienst"),
    DemoAuthorization(BV2, ANNA, EH2_PLUS, EXPIRING, service="WBSO aanvragen"),
    DemoAuthorization(BV2, CARLA, EH3, EXPIRED, service="Douane aangifte invoer", actor=ANNA),
    DemoAuthorization(BV2, CARLA, EH2, REVOKED, service="Parkeervergunning bedrijven", actor=ANNA),
    DemoAuthorization(ANDERE, DAAN, EH3, ACTIVE),
    DemoAuthorization(ANDERE, DAAN, EH3, EXPIRING, service="Loonaangifte"),
    DemoAuthorization(ANDERE, EVA, EH2, EXPIRED, service="Handelsregister inzage", actor=DAAN),
    DemoAuthorization(ANDERE, EVA, EH2_PLUS, ACTIVE, service="Subsidieportaal", actor=DAAN),
    DemoAuthorization(ANDERE, EVA, EH2_PLUS, REVOKED, service="Verzuimmeldingen inzien", actor=DAAN),
]

# Days from today to valid_until: "expiring" is inside the two-month reminder window.
EXPIRING_IN_DAYS = 40
EXPIRED_DAYS_AGO = 20


def seed_demo_refusal() -> str | None:
    """Why the demo data must not be loaded here, or None when it may."""
    module = os.environ.get("DJANGO_SETTINGS_MODULE", "")
    if module.endswith("production"):
        return f"seed_demo refuses to run with production settings ({module})."
    if not getattr(settings, "SEED_DEMO_ALLOWED", False):
        return "seed_demo refuses to run: SEED_DEMO_ALLOWED is not set (only dev and test settings set it)."
    return None


class Command(BaseCommand):
    help = "Load the demo organisations, people, logins and authorizations (idempotent; never in production)."

    def handle(self, *args, **options):
        refusal = seed_demo_refusal()
        if refusal:
            raise CommandError(refusal)
        self.verbosity = options["verbosity"]
        self.today = timezone.localdate()
        with transaction.atomic():
            self.seed()
        if self.verbosity:
            self.stdout.write(self.style.SUCCESS("Demo data ready. Password of every demo login: " + DEMO_PASSWORD))

    def log(self, message: str) -> None:
        if self.verbosity >= 2:
            self.stdout.write(message)

    def seed(self) -> None:
        self.support = self.staff_account(SUPPORT_EMAIL, "Sam", "Support", superuser=False)
        self.staff_account(ADMIN_EMAIL, "Ada", "Admin", superuser=True)
        counts = catalogue_load(actor=self.support)
        self.log(f"catalogue: {counts}")
        self.users = {person.email: self.person(person) for person in PEOPLE}
        self.organizations = {spec["name"]: self.organization(spec) for spec in ORGANIZATIONS}
        for org_name, name, email, date_of_birth, has_login in REPRESENTATIVES:
            self.representative(org_name, name, email, date_of_birth, has_login)
        for person, org_name in LINKS:
            self.link(person, org_name)
        for person, org_name in MANAGERS:
            self.manager(person, org_name)
        for spec in AUTHORIZATIONS:
            self.authorization(spec)

    # People and logins ---------------------------------------------------

    def login_ready(self, user: User) -> None:
        """A verified primary address: allauth lets the person in (verification is mandatory)."""
        address, created = EmailAddress.objects.get_or_create(
            user=user, email=user.email, defaults={"verified": True, "primary": True}
        )
        if not created and not (address.verified and address.primary):
            address.verified = address.primary = True
            address.save(update_fields=["verified", "primary"])

    def new_user(self, email: str, *, login: bool = True, **fields) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email, DEMO_PASSWORD if login else None, **fields)
            self.log(f"user {email}")
        if login:
            self.login_ready(user)
        return user

    def staff_account(self, email: str, first_name: str, last_name: str, *, superuser: bool) -> User:
        user = self.new_user(email, first_name=first_name, last_name=last_name, is_staff=True, is_superuser=superuser)
        if not superuser:
            user.groups.add(support_group_ensure())
        # Fresh from the database: the permission cache must see the group.
        return User.objects.get(pk=user.pk)

    def person(self, person: Person) -> User:
        user = self.new_user(
            person.email,
            login=person.login,
            first_name=person.first_name,
            initials=person.initials,
            last_name=person.last_name,
            date_of_birth=person.date_of_birth,
        )
        if person.means_level and not Means.objects.active(self.today).filter(owner=user).exists():
            # Issued a year ago for three years: two years left, like a means in use.
            means_issue(
                actor=self.support,
                owner=user,
                level=person.means_level,
                years=3,
                valid_from=self.today - relativedelta(years=1),
            )
        if person.totp:
            self.authenticator(user)
        return user

    def authenticator(self, user: User) -> None:
        """TOTP with the demo secret, stored the way allauth stores it (encrypted by the mfa adapter)."""
        if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
            Authenticator.objects.create(
                user=user, type=Authenticator.Type.TOTP, data={"secret": encrypt(DEMO_TOTP_SECRET)}
            )
        if not Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).exists():
            # A fixed seed per person: the demo's recovery codes stay the same across fresh databases.
            seed = hashlib.sha256(f"reconi-demo-recovery:{user.email}".encode()).hexdigest()
            Authenticator.objects.create(
                user=user,
                type=Authenticator.Type.RECOVERY_CODES,
                data={"seed": encrypt(seed), "used_mask": 0},
            )

    # Organisations ---------------------------------------------------------

    def organization(self, spec: dict) -> Organization:
        organization = Organization.objects.filter(kvk_number=spec["kvk_number"]).first()
        if organization is None:
            organization = organization_create(actor=self.support, **spec)
            self.log(f"organisation {organization}")
        return organization

    def representative(self, org_name: str, name: str, email: str, date_of_birth, has_login: bool) -> None:
        organization = self.organizations[org_name]
        if Representative.objects.filter(organization=organization, email=email).exists():
            return
        representative_add(
            actor=self.support,
            organization=organization,
            name=name,
            email=email,
            date_of_birth=date_of_birth,
            authority=Representative.Authority.SOLE,
            extract_date=self.today - datetime.timedelta(days=30),
            user=self.users.get(email) if has_login else None,
        )

    def link(self, person: Person, org_name: str) -> None:
        user, organization = self.users[person.email], self.organizations[org_name]
        if not Membership.objects.filter(user=user, organization=organization).exists():
            membership_link(actor=self.support, user=user, organization=organization)

    def manager(self, person: Person, org_name: str) -> None:
        user, organization = self.users[person.email], self.organizations[org_name]
        if Membership.objects.filter(user=user, organization=organization, manager_level__isnull=False).exists():
            return
        # In the portal this follows the representative's signed form; here support carries it out directly.
        manager_appoint(actor=self.support, user=user, organization=organization, level=person.means_level)

    # Authorizations ----------------------------------------------------------

    def backdate(self, authorization: Authorization, state: str) -> None:
        """Move a fresh one-year grant into the past: demo data only.

        The grant service refuses a start before today, rightly, so "expiring soon"
        and "expired" cannot be made through it. The dates are moved with a
        queryset update instead, and the move is written to the audit log so the
        log still tells what happened to the row.
        """
        end = self.today + datetime.timedelta(days=EXPIRING_IN_DAYS if state == EXPIRING else -EXPIRED_DAYS_AGO)
        start = end - relativedelta(years=1)
        Authorization.objects.filter(pk=authorization.pk).update(valid_from=start, valid_until=end)
        authorization.valid_from, authorization.valid_until = start, end
        audit_record(
            actor=self.support,
            action="demo.backdate",
            obj=authorization,
            organization=authorization.organization,
            data={"state": state, "valid_from": start.isoformat(), "valid_until": end.isoformat()},
        )

    def authorization(self, spec: DemoAuthorization) -> None:
        user, organization = self.users[spec.person.email], self.organizations[spec.organization]
        service = provider = None
        if spec.service:
            service = Service.objects.get(uuid=catalogue_service(spec.service).uuid)
            scope = Authorization.Scope.SERVICE
        elif spec.provider:
            provider = ServiceProvider.objects.get(oin=catalogue_provider(spec.provider).oin)
            scope = Authorization.Scope.PROVIDER
        else:
            scope = Authorization.Scope.LEVEL
        existing = Authorization.objects.filter(
            user=user, organization=organization, scope=scope, service=service, provider=provider, level=spec.level
        )
        if existing.exists():
            return
        actor = self.users[spec.actor.email] if spec.actor else self.support
        authorization = authorization_grant(
            actor=actor,
            user=user,
            organization=organization,
            level=spec.level,
            scope=scope,
            service=service,
            provider=provider,
            years=1 if spec.state in (EXPIRING, EXPIRED) else 3,
        )
        if spec.state in (EXPIRING, EXPIRED):
            self.backdate(authorization, spec.state)
        if spec.state == REVOKED:
            authorization_revoke(actor=actor, authorization=authorization)
        self.log(f"authorization {authorization} ({spec.state})")
