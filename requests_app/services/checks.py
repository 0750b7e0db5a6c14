"""Checking the people on a new-means form.

Reads: the forms and the CSV preview show their errors per field and column,
and the services refuse whatever they find.
"""

import datetime
import logging
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from authorizations.models import Authorization, Service, ServiceProvider
from organizations.models import Membership, Organization
from reconi.levels import AssuranceLevel
from reconi.ratelimit import rate_limit_hit
from reconi.roles import is_support
from users.models import Means, User
from users.services import VALID_PERIODS
from users.validators import validate_personal_email

from ..models import Request

security_log = logging.getLogger("reconi.security")

PERSON_FIELDS = ("first_name", "initials", "last_name", "date_of_birth", "email", "phone", "level", "years")


PHONE_RE = re.compile(r"^\+?[0-9][0-9 \-()]{7,19}$")


MIN_AGE_YEARS = 16


# From EH2+ up an identity check by support is required before approval.
IDENTITY_CHECK_FROM = AssuranceLevel.EH2_PLUS


def organization_has_manager(organization: Organization, on: datetime.date | None = None) -> bool:
    on = on or timezone.localdate()
    return Membership.objects.filter(
        organization=organization, manager_level__isnull=False, manager_until__gte=on
    ).exists()


def needs_identity_check(level: str) -> bool:
    return bool(level) and AssuranceLevel.rank(level) >= AssuranceLevel.rank(IDENTITY_CHECK_FROM)


def _fold(value: str) -> str:
    return " ".join((value or "").split()).casefold()


def same_person(user: User, *, first_name: str, last_name: str, date_of_birth: datetime.date | str) -> bool:
    """Does this existing account describe the person on the form (name and date of birth)?"""
    return (
        _fold(user.first_name) == _fold(first_name)
        and _fold(user.last_name) == _fold(last_name)
        and (user.date_of_birth is None or user.date_of_birth.isoformat() == str(date_of_birth or ""))
    )


def _clean_authorizations(raw, *, person_level: str, manager_level: str | None, errors: dict) -> list[dict]:
    cleaned = []
    for item in raw or []:
        scope = item.get("scope") or Authorization.Scope.LEVEL
        level = item.get("level") or person_level
        entry = {"scope": scope, "level": level, "years": int(item.get("years") or 3)}
        if level not in AssuranceLevel.values:
            errors.setdefault("authorizations", []).append(_("Unknown assurance level."))
            continue
        if person_level in AssuranceLevel.values and not AssuranceLevel.is_at_most(level, person_level):
            errors.setdefault("authorizations", []).append(
                _("An authorization at %(level)s is above the level of the means (%(means)s).")
                % {"level": level, "means": person_level}
            )
        if manager_level and not AssuranceLevel.is_at_most(level, manager_level):
            errors.setdefault("authorizations", []).append(
                _("An authorization at %(level)s is above your own manager level (%(ceiling)s).")
                % {"level": level, "ceiling": manager_level}
            )
        if scope == Authorization.Scope.SERVICE:
            service = Service.objects.filter(pk=item.get("service_id")).first()
            if service is None:
                errors.setdefault("authorizations", []).append(_("Choose a service."))
                continue
            if not AssuranceLevel.is_at_most(service.minimum_level, level):
                errors.setdefault("authorizations", []).append(
                    _("%(service)s needs at least %(minimum)s; %(level)s is too low.")
                    % {"service": service.name, "minimum": service.minimum_level, "level": level}
                )
            entry.update(service_id=service.pk, label=service.name)
        elif scope == Authorization.Scope.PROVIDER:
            provider = ServiceProvider.objects.filter(pk=item.get("provider_id")).first()
            if provider is None:
                errors.setdefault("authorizations", []).append(_("Choose a service provider."))
                continue
            entry.update(provider_id=provider.pk, label=_("All services of %(provider)s") % {"provider": provider.name})
        elif scope == Authorization.Scope.LEVEL:
            entry.update(label=_("All services at %(level)s") % {"level": level})
        else:
            errors.setdefault("authorizations", []).append(_("Unknown scope."))
            continue
        cleaned.append(entry)
    return cleaned


def people_visible_to(actor) -> QuerySet | None:
    """The accounts the checks may say something about: the people of the organisations ``actor``
    manages, or None (everyone) for support staff.

    About anyone else the checks answer exactly as about an unknown person: no "belongs to someone
    else", no "already has a means", no request number. Otherwise a manager could test guesses
    of an outsider's address and date of birth against the answers (rule 9). Support sorts such a
    request out when fulfilling it (the account check of ``request_fulfil``).
    """
    if is_support(actor):
        return None
    return User.objects.filter(memberships__organization__in=Organization.objects.managed_by(actor))


def person_check(
    *, person: dict, organization: Organization, manager_level: str | None, visible: QuerySet | None = None
) -> tuple[dict, dict]:
    """Check one person of a new-means form. Returns ``(cleaned, errors)``; errors per field.

    A read: the forms and the CSV preview show its errors per field and column,
    and ``means_request_create`` refuses whatever it finds. ``visible``: see ``people_visible_to``.
    """
    errors: dict[str, list[str]] = {}
    cleaned = {field: str(person.get(field) or "").strip() for field in PERSON_FIELDS}
    cleaned["email"] = cleaned["email"].lower()

    for field, label in (("first_name", _("first name")), ("last_name", _("last name"))):
        if not cleaned[field]:
            errors.setdefault(field, []).append(_("Enter the %(field)s.") % {"field": label})
        elif len(cleaned[field]) > 100:
            errors.setdefault(field, []).append(_("At most 100 characters."))
    if len(cleaned["initials"]) > 20:
        errors.setdefault("initials", []).append(_("At most 20 characters."))

    dob = person.get("date_of_birth")
    if isinstance(dob, datetime.date):
        date_of_birth = dob
    else:
        try:
            date_of_birth = datetime.date.fromisoformat(cleaned["date_of_birth"])
        except ValueError:
            date_of_birth = None
            errors.setdefault("date_of_birth", []).append(
                _("Enter the date of birth as YYYY-MM-DD.")
                if cleaned["date_of_birth"]
                else _("Enter the date of birth.")
            )
    if date_of_birth is not None:
        cleaned["date_of_birth"] = date_of_birth.isoformat()
        today = timezone.localdate()
        age = today.year - date_of_birth.year - ((today.month, today.day) < (date_of_birth.month, date_of_birth.day))
        if date_of_birth >= today or age > 120:
            errors.setdefault("date_of_birth", []).append(_("This date of birth cannot be right."))
        elif age < MIN_AGE_YEARS:
            errors.setdefault("date_of_birth", []).append(
                _("A means is issued from the age of %(age)s.") % {"age": MIN_AGE_YEARS}
            )

    if not cleaned["email"]:
        errors.setdefault("email", []).append(_("Enter the email address."))
    else:
        try:
            validate_email(cleaned["email"])
            validate_personal_email(
                email=cleaned["email"],
                first_name=cleaned["first_name"],
                initials=cleaned["initials"],
                last_name=cleaned["last_name"],
                organization=organization,
            )
        except ValidationError as exc:
            errors.setdefault("email", []).extend(exc.messages)
        else:
            existing = (User.objects if visible is None else visible).filter(email__iexact=cleaned["email"]).first()
            if existing is not None and not same_person(
                existing,
                first_name=cleaned["first_name"],
                last_name=cleaned["last_name"],
                date_of_birth=cleaned["date_of_birth"],
            ):
                errors.setdefault("email", []).append(
                    _("%(email)s already belongs to someone else. A means is personal: use this person's own address.")
                    % {"email": cleaned["email"]}
                )
            elif existing is not None and Means.objects.active().filter(owner=existing).exists():
                errors.setdefault("email", []).append(
                    _("%(person)s already has an active means; request an upgrade instead.") % {"person": existing}
                )

    if cleaned["phone"] and not PHONE_RE.match(cleaned["phone"]):
        errors.setdefault("phone", []).append(_("Enter a phone number of digits, for example +31 6 12345678."))

    level = cleaned["level"].upper().replace(" ", "")
    cleaned["level"] = level
    if level not in AssuranceLevel.values:
        errors.setdefault("level", []).append(_("Choose a level: EH2, EH2+, EH3 or EH4."))
    elif manager_level and not AssuranceLevel.is_at_most(level, manager_level):
        errors.setdefault("level", []).append(
            _("You can sign for means up to your own manager level (%(ceiling)s).") % {"ceiling": manager_level}
        )

    try:
        years = int(cleaned["years"] or 0)
    except ValueError:
        years = 0
    if years not in VALID_PERIODS:
        errors.setdefault("years", []).append(_("Choose a period of 1, 3 or 5 years."))
    cleaned["years"] = years

    cleaned["authorizations"] = _clean_authorizations(
        person.get("authorizations"), person_level=level, manager_level=manager_level, errors=errors
    )
    return cleaned, errors


def people_check(
    *, actor: User, people: list[dict], organization: Organization, manager_level: str | None
) -> list[tuple[dict, dict]]:
    """Check every person, and the people against each other and against open requests.

    What ``actor`` may not see (people and requests of organisations it does not manage)
    gives the same answer as what does not exist.
    """
    results = []
    seen_emails: dict[str, int] = {}
    seen_people: dict[tuple, int] = {}
    visible = people_visible_to(actor)
    open_emails = _emails_in_open_requests(
        None if visible is None else Organization.objects.managed_by(actor).values("pk")
    )
    for index, person in enumerate(people, start=1):
        cleaned, errors = person_check(
            person=person, organization=organization, manager_level=manager_level, visible=visible
        )
        email = cleaned["email"]
        identity = (_fold(cleaned["first_name"]), _fold(cleaned["last_name"]), cleaned["date_of_birth"])
        if email and email in seen_emails:
            errors.setdefault("email", []).append(
                _("The same address is already on row %(row)s.") % {"row": seen_emails[email]}
            )
        elif email and email in open_emails:
            errors.setdefault("email", []).append(
                _("A means for %(email)s was already requested (%(number)s).")
                % {"email": email, "number": open_emails[email]}
            )
        if all(identity) and identity in seen_people:
            errors.setdefault("last_name", []).append(
                _("This person is already on row %(row)s.") % {"row": seen_people[identity]}
            )
        seen_emails.setdefault(email, index)
        seen_people.setdefault(identity, index)
        results.append((cleaned, errors))
    return results


def _emails_in_open_requests(organizations=None) -> dict[str, str]:
    """Address -> request number of the open new-means requests (of ``organizations``, or all)."""
    emails = {}
    open_requests = Request.objects.filter(kind=Request.Kind.NEW_MEANS, status__in=Request.OPEN_STATUSES).only(
        "payload", "number"
    )
    if organizations is not None:
        open_requests = open_requests.filter(organization__in=organizations)
    for request in open_requests:
        for person in request.payload_for_new_means().people:
            if person.email:
                emails[person.email.lower()] = request.number
    return emails


def missing_identity_checks(request: Request) -> list[str]:
    """Who still needs an identity check before approval (EH2+ and up)."""
    if request.kind == Request.Kind.NEW_MEANS:
        return [
            f"{p.first_name} {p.last_name}".strip()
            for p in request.payload_for_new_means().people
            if needs_identity_check(p.level) and p.identity_check is None
        ]
    if request.kind == Request.Kind.UPGRADE and needs_identity_check(request.level) and not request.identity_checked_at:
        return [str(request.subject_user)]
    return []


def missing_in_person_check(request: Request) -> bool:
    """An upgrade above the manager's level needs the holder's identity checked face to face."""
    return (
        request.kind == Request.Kind.UPGRADE
        and request.payload_for_upgrade().in_person_check
        and request.identity_method != Request.IdentityMethod.FACE_TO_FACE
    )


def people_check_record(*, actor: User, organization: Organization, rows: int, source: str) -> None:
    """One attempt at the Add-users checks (a person on the form, or a CSV upload): counted per manager
    and written to the audit log. Past ``PEOPLE_CHECK_RATE`` the attempt is refused, also logged."""
    allowed = rate_limit_hit(f"people_check:{actor.pk}", settings.PEOPLE_CHECK_RATE)
    with transaction.atomic():  # committed also when the attempt is refused below
        audit_record(
            actor=actor,
            action="people.check" if allowed else "people.check_limited",
            organization=organization,
            data={"rows": rows, "source": source},
        )
    if not allowed:
        security_log.warning("people checks rate-limited for %s (%s rows, %s)", actor.email, rows, source)
        raise ValidationError(
            _("You checked many people in a short time. Wait a while and try again."), code="rate_limited"
        )
