"""The request workflow of the Manage tab and the support queue.

Managers ask for new means (one person or several), upgrades and links to
another organisation; support checks identity, approves or rejects, and
fulfils — which creates accounts, means, links and authorizations through the
other apps' services only. Every function is keyword-only, runs in one
transaction, locks the request row when it changes one, records an audit event
and sends its emails through the notifications outbox.

The forms (signing, PDF) are ``requests_app.services``; this module builds on it.
"""

import datetime
import re

from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from authorizations.models import Authorization, Service, ServiceProvider
from notifications.services import email_queue
from organizations.models import Membership, Organization
from reconi.levels import AssuranceLevel
from reconi.roles import is_support, manager_level_for, require_support
from users.models import Means, User
from users.services import VALID_PERIODS
from users.validators import validate_personal_email

from .models import Request
from .services import _audit, _decide, _locked, _transition, _url_for, request_create

PERSON_FIELDS = ("first_name", "initials", "last_name", "date_of_birth", "email", "phone", "level", "years")
PHONE_RE = re.compile(r"^\+?[0-9][0-9 \-()]{7,19}$")
MIN_AGE_YEARS = 16
# From EH2+ up an identity check by support is required before approval.
IDENTITY_CHECK_FROM = AssuranceLevel.EH2_PLUS


# --------------------------------------------------------------------------- helpers


def _require_manager(actor: User, organization: Organization) -> str:
    """The actor's manager level in ``organization``; anyone else gets PermissionDenied (rule 9)."""
    level = manager_level_for(actor, organization)
    if level is None:
        raise PermissionDenied("You do not manage this organisation.")
    return level


def organization_has_manager(organization: Organization, on: datetime.date | None = None) -> bool:
    on = on or timezone.localdate()
    return Membership.objects.filter(
        organization=organization, manager_level__isnull=False, manager_until__gte=on
    ).exists()


def needs_identity_check(level: str) -> bool:
    return bool(level) and AssuranceLevel.rank(level) >= AssuranceLevel.rank(IDENTITY_CHECK_FROM)


def _fold(value: str) -> str:
    return " ".join((value or "").split()).casefold()


def same_person(user: User, person: dict) -> bool:
    """Does this existing account describe the person on the form (name and date of birth)?"""
    dob = person.get("date_of_birth") or ""
    return (
        _fold(user.first_name) == _fold(person.get("first_name", ""))
        and _fold(user.last_name) == _fold(person.get("last_name", ""))
        and (user.date_of_birth is None or user.date_of_birth.isoformat() == str(dob))
    )


# --------------------------------------------------------------------------- checking people


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


def person_check(*, person: dict, organization: Organization, manager_level: str | None) -> tuple[dict, dict]:
    """Check one person of a new-means form. Returns ``(cleaned, errors)``; errors per field.

    A read: the forms and the CSV preview show its errors per field and column,
    and ``means_request_create`` refuses whatever it finds.
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
            existing = User.objects.filter(email__iexact=cleaned["email"]).first()
            if existing is not None and not same_person(existing, cleaned):
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
    *, people: list[dict], organization: Organization, manager_level: str | None
) -> list[tuple[dict, dict]]:
    """Check every person, and the people against each other and against open requests."""
    results = []
    seen_emails: dict[str, int] = {}
    seen_people: dict[tuple, int] = {}
    open_emails = _emails_in_open_requests()
    for index, person in enumerate(people, start=1):
        cleaned, errors = person_check(person=person, organization=organization, manager_level=manager_level)
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


def _emails_in_open_requests() -> dict[str, str]:
    emails = {}
    open_requests = Request.objects.filter(kind=Request.Kind.NEW_MEANS, status__in=Request.OPEN_STATUSES).only(
        "payload", "number"
    )
    for request in open_requests:
        for person in (request.payload or {}).get("people", []):
            if person.get("email"):
                emails[person["email"].lower()] = request.number
    return emails


# --------------------------------------------------------------------------- creating requests


@transaction.atomic
def means_request_create(*, actor: User, organization: Organization, people: list[dict], reason: str = "") -> Request:
    """A manager asks for new means for one or several people (a draft to sign)."""
    manager_level = _require_manager(actor, organization)
    if not people:
        raise ValidationError(_("Add at least one person."), code="empty")
    results = people_check(people=people, organization=organization, manager_level=manager_level)
    problems = [(index, errors) for index, (_cleaned, errors) in enumerate(results, start=1) if errors]
    if problems:
        if len(results) == 1:
            raise ValidationError(problems[0][1], code="invalid_person")
        raise ValidationError(
            [
                _("Row %(row)s: %(errors)s")
                % {"row": index, "errors": " ".join(m for messages in errors.values() for m in messages)}
                for index, errors in problems
            ],
            code="invalid_people",
        )
    cleaned_people = [cleaned for cleaned, _errors in results]
    request = request_create(
        actor=actor,
        kind=Request.Kind.NEW_MEANS,
        organization=organization,
        payload={"people": cleaned_people},
        level=AssuranceLevel.highest(p["level"] for p in cleaned_people) or "",
        reason=reason,
    )
    _audit(actor=actor, request=request, action="request.means", data={"people": [p["email"] for p in cleaned_people]})
    return request


def means_request_create_bulk(
    *, actor: User, organization: Organization, rows: list[dict], only_valid: bool = False, reason: str = ""
) -> tuple[Request | None, int]:
    """One request for the rows of an uploaded CSV.

    Nothing is saved while any row is invalid, unless ``only_valid``: then the
    valid rows make the request and the rest is left out. Returns the request
    (None when no row was valid) and how many rows were left out.
    """
    with transaction.atomic():
        manager_level = _require_manager(actor, organization)
        results = people_check(people=rows, organization=organization, manager_level=manager_level)
        valid = [cleaned for cleaned, errors in results if not errors]
        skipped = len(results) - len(valid)
        if skipped and not only_valid:
            raise ValidationError(
                _("%(count)s row(s) have errors; correct them or submit only the valid rows.") % {"count": skipped},
                code="invalid_rows",
            )
        if not valid:
            raise ValidationError(_("No row is valid; nothing was saved."), code="no_valid_rows")
        request = means_request_create(actor=actor, organization=organization, people=valid, reason=reason)
        return request, skipped


@transaction.atomic
def upgrade_request_create(
    *, actor: User, organization: Organization, user: User, level: str, reason: str = ""
) -> Request:
    """A manager asks to raise a user's means to a higher level; it keeps its authorizations."""
    manager_level = _require_manager(actor, organization)
    if not Membership.objects.filter(user=user, organization=organization).exists():
        raise PermissionDenied("The user is not linked to this organisation.")
    means = Means.objects.active().filter(owner=user).first()
    if means is None:
        raise ValidationError({"level": _("%(user)s has no active means to upgrade.") % {"user": user}})
    if level not in AssuranceLevel.values:
        raise ValidationError({"level": _("Unknown assurance level.")})
    if AssuranceLevel.rank(level) <= AssuranceLevel.rank(means.level):
        raise ValidationError(
            {"level": _("An upgrade must be to a level above %(level)s.") % {"level": means.level}}, code="not_higher"
        )
    if not AssuranceLevel.is_at_most(level, manager_level):
        raise ValidationError(
            {
                "level": _("You can sign for means up to your own manager level (%(ceiling)s).")
                % {"ceiling": manager_level}
            },
            code="above_manager",
        )
    if Request.objects.filter(kind=Request.Kind.UPGRADE, subject_user=user, status__in=Request.OPEN_STATUSES).exists():
        raise ValidationError(_("An upgrade for %(user)s is already in progress.") % {"user": user}, code="duplicate")
    return request_create(
        actor=actor,
        kind=Request.Kind.UPGRADE,
        organization=organization,
        subject_user=user,
        level=level,
        payload={"means_id": means.pk, "from_level": means.level, "to_level": level},
        reason=reason,
    )


def linkable_users(*, manager: User):
    """People the manager may ask to link: linked to an organisation the manager manages."""
    managed = Organization.objects.managed_by(manager)
    return User.objects.filter(is_active=True, memberships__organization__in=managed).distinct()


@transaction.atomic
def link_request_create(*, actor: User, user: User, organization: Organization, reason: str = "") -> Request:
    """Ask ``user`` (seen in another of my organisations) to be linked to ``organization`` (rule 9).

    The user is emailed and accepts or declines on their home page.
    """
    _require_manager(actor, organization)
    source = (
        Membership.objects.filter(user=user, organization__in=Organization.objects.managed_by(actor))
        .exclude(organization=organization)
        .select_related("organization")
        .first()
    )
    if Membership.objects.filter(user=user, organization=organization).exists():
        raise ValidationError(
            {
                "user": _("%(user)s is already linked to %(organization)s.")
                % {"user": user, "organization": organization.name}
            },
            code="duplicate_link",
        )
    if source is None:
        # Not visible to this manager at all: the same answer as for a stranger.
        raise PermissionDenied("The user is not in an organisation you manage.")
    # Serialise link requests for one person, so two clicks make one request.
    User.objects.select_for_update().filter(pk=user.pk).first()
    if Request.objects.filter(
        kind=Request.Kind.LINK_USER, subject_user=user, organization=organization, status__in=Request.OPEN_STATUSES
    ).exists():
        raise ValidationError(
            {
                "user": _("%(user)s was already asked to link to %(organization)s.")
                % {"user": user, "organization": organization.name}
            },
            code="duplicate_request",
        )
    request = request_create(
        actor=actor,
        kind=Request.Kind.LINK_USER,
        organization=organization,
        subject_user=user,
        payload={"from_organization_id": source.organization_id, "from_organization": source.organization.name},
        reason=reason,
    )
    request = _locked(request)
    # The user's acceptance is this form's signature.
    _transition(request, Request.Status.AWAITING_SIGNATURE)
    request.save(update_fields=["status", "updated_at"])
    _audit(
        actor=actor,
        request=request,
        action="request.link_ask",
        data={"user": user.email, "from": source.organization.name},
    )
    _email_link_request(request)
    return request


def _email_link_request(request: Request, *, resend: bool = False) -> None:
    user = request.subject_user
    _email_about(
        request,
        kind="link_request",
        to=user,
        dedupe_key=None if resend else f"link_request:{request.pk}",
        from_organization=(request.payload or {}).get("from_organization", ""),
        manager=str(request.created_by or ""),
        home_url=_url_for(user, "home"),
    )


def _lock_link_for(actor: User, request: Request) -> Request:
    request = _locked(request)
    if request.kind != Request.Kind.LINK_USER or request.subject_user_id != actor.pk:
        # Someone else's link: the view answers 404.
        raise PermissionDenied("This link request is not addressed to you.")
    if request.status != Request.Status.AWAITING_SIGNATURE:
        if request.status == Request.Status.FULFILLED:
            raise ValidationError(_("You already accepted this link."), code="already_accepted")
        raise ValidationError(_("This link request is no longer open."), code="not_open")
    return request


@transaction.atomic
def link_request_accept(*, actor: User, request: Request) -> Request:
    """The user accepts: they are linked and become visible to the organisation's managers."""
    from organizations.services import membership_link

    request = _lock_link_for(actor, request)
    membership_link(actor=actor, user=actor, organization=request.organization, via=request)
    # The acceptance is the signature and the decision: the link is made at once.
    _transition(request, Request.Status.SUBMITTED)
    _decide(request, actor=actor, status=Request.Status.APPROVED)
    _transition(request, Request.Status.FULFILLED)
    request.save()
    _audit(actor=actor, request=request, action="request.link_accept", data={"user": actor.email})
    _email_link_answer(request, accepted=True)
    return request


@transaction.atomic
def link_request_decline(*, actor: User, request: Request) -> Request:
    request = _lock_link_for(actor, request)
    _decide(request, actor=actor, status=Request.Status.CANCELLED)
    request.payload = {**(request.payload or {}), "declined": True}
    request.save()
    _audit(actor=actor, request=request, action="request.link_decline", data={"user": actor.email})
    _email_link_answer(request, accepted=False)
    return request


def _email_link_answer(request: Request, *, accepted: bool) -> None:
    manager = request.created_by
    if manager is None:
        return
    _email_about(
        request,
        kind="link_request_answered",
        to=manager,
        dedupe_key=f"link_request_answered:{request.pk}",
        user_name=str(request.subject_user),
        accepted=accepted,
        detail_url=_url_for(manager, "request_detail", pk=request.pk),
    )


# --------------------------------------------------------------------------- submitting


SIGNED_KINDS = (Request.Kind.NEW_MEANS, Request.Kind.UPGRADE, Request.Kind.NEW_AUTHORIZATIONS)


@transaction.atomic
def request_submit(*, actor: User, request: Request) -> Request:
    """Hand a signed form to support. The representative hears of new means unless a manager exists (rule 13)."""
    request = _locked(request)
    if request.kind not in SIGNED_KINDS:
        raise ValidationError(_("This kind of request is not submitted this way."), code="wrong_kind")
    if not is_support(actor):
        _require_manager(actor, request.organization)
    if request.status == Request.Status.SUBMITTED:
        # The last signature already handed it in (requests_app.services); what follows a submit still follows.
        _notify_representatives(request)
        return request
    signed = request.signatures.count()
    if signed < request.signatures_required:
        raise ValidationError(
            _("The form needs %(required)s signature(s) before it can be submitted; it has %(signed)s.")
            % {"required": request.signatures_required, "signed": signed},
            code="unsigned",
        )
    _transition(request, Request.Status.SUBMITTED)
    request.save()
    _audit(actor=actor, request=request, action="request.submit", data={"kind": request.kind})
    _notify_representatives(request)
    return request


def _notify_representatives(request: Request) -> None:
    """Rule 13: the representative is emailed about new means unless the organisation has a manager."""
    if request.kind not in (Request.Kind.NEW_MEANS, Request.Kind.UPGRADE):
        return
    if organization_has_manager(request.organization):
        return
    for representative in request.organization.representatives.all():
        email_queue(
            kind="new_means_representative",
            to=representative.email,
            context={
                "request_number": request.number,
                "organization": request.organization.name,
                "representative": representative.name,
                "people": _people_summary(request),
                "kind_label": request.get_kind_display(),
            },
            dedupe_key=f"new_means_representative:{request.pk}:{representative.pk}",
        )


def _people_summary(request: Request) -> list[str]:
    if request.kind == Request.Kind.UPGRADE:
        payload = request.payload or {}
        return [f"{request.subject_user} ({payload.get('from_level', '')} → {payload.get('to_level', request.level)})"]
    return [
        f"{p.get('first_name', '')} {p.get('last_name', '')} ({p.get('level', '')})".strip()
        for p in (request.payload or {}).get("people", [])
    ]


# --------------------------------------------------------------------------- support


@transaction.atomic
def identity_check_record(
    *,
    actor: User,
    request: Request,
    method: str,
    document_type: str,
    document_last4: str,
    person_index: int | None = None,
) -> Request:
    """Support records how a person's identity was checked (copy of ID, face to face, video)."""
    require_support(actor)
    request = _locked(request)
    if request.status not in (Request.Status.SUBMITTED, Request.Status.APPROVED):
        raise ValidationError(_("Identity is checked for submitted requests."), code="not_submitted")
    errors = {}
    if method not in Request.IdentityMethod.values:
        errors["method"] = _("Choose how the identity was checked.")
    if document_type not in Request.DocumentType.values:
        errors["document_type"] = _("Choose the document type.")
    document_last4 = (document_last4 or "").strip().upper()
    if not re.fullmatch(r"[A-Z0-9]{4}", document_last4):
        errors["document_last4"] = _("Enter the last four letters or digits of the document number.")
    people = list((request.payload or {}).get("people", []))
    if request.kind == Request.Kind.NEW_MEANS:
        if person_index is None and len(people) == 1:
            person_index = 0
        if person_index is None or not 0 <= person_index < len(people):
            errors["person_index"] = _("Choose the person whose identity was checked.")
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    check = {
        "method": method,
        "document_type": document_type,
        "document_last4": document_last4,
        "by": actor.email,
        "at": now.isoformat(),
    }
    if request.kind == Request.Kind.NEW_MEANS:
        people[person_index] = {**people[person_index], "identity_check": check}
        request.payload = {**request.payload, "people": people}
    request.identity_method = method
    request.identity_document_type = document_type
    request.identity_document_last4 = document_last4
    request.identity_checked_by = actor
    request.identity_checked_at = now
    request.save()
    _audit(
        actor=actor,
        request=request,
        action="request.identity_check",
        data={"person": person_index, "method": method, "document_type": document_type},
    )
    return request


def missing_identity_checks(request: Request) -> list[str]:
    """Who still needs an identity check before approval (EH2+ and up)."""
    if request.kind == Request.Kind.NEW_MEANS:
        return [
            f"{p.get('first_name', '')} {p.get('last_name', '')}".strip()
            for p in (request.payload or {}).get("people", [])
            if needs_identity_check(p.get("level", "")) and not p.get("identity_check")
        ]
    if request.kind == Request.Kind.UPGRADE and needs_identity_check(request.level) and not request.identity_checked_at:
        return [str(request.subject_user)]
    return []


@transaction.atomic
def request_approve(*, actor: User, request: Request) -> Request:
    require_support(actor)
    request = _locked(request)
    if request.kind == Request.Kind.APPOINT_MANAGER:
        raise ValidationError(_("Appointments are approved with their own action."), code="wrong_kind")
    missing = missing_identity_checks(request)
    if missing:
        raise ValidationError(
            _("Record the identity check first (required from EH2+ up) for: %(people)s.")
            % {"people": ", ".join(missing)},
            code="identity_check_missing",
        )
    _decide(request, actor=actor, status=Request.Status.APPROVED)
    request.save()
    _audit(actor=actor, request=request, action="request.approve")
    _email_decision(request)
    return request


@transaction.atomic
def request_reject(*, actor: User, request: Request, reason: str) -> Request:
    require_support(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for the rejection; the manager reads it.")})
    request = _locked(request)
    _decide(request, actor=actor, status=Request.Status.REJECTED)
    request.rejection_reason = reason
    request.save()
    _audit(actor=actor, request=request, action="request.reject", data={"reason": reason})
    _email_decision(request)
    return request


def _email_about(request: Request, *, kind: str, to: User, dedupe_key: str | None, **context) -> None:
    """Email ``to`` about ``request``: every such email names the request and the organisation and greets ``to``."""
    email_queue(
        kind=kind,
        to=to,
        context={
            "request_number": request.number,
            "organization": request.organization.name,
            "name": to.get_short_name(),
            **context,
        },
        dedupe_key=dedupe_key,
    )


def _email_decision(request: Request, *, resend: bool = False) -> None:
    manager = request.created_by
    if manager is None:
        return
    _email_about(
        request,
        kind="request_decided",
        to=manager,
        dedupe_key=None if resend else f"request_decided:{request.pk}:{request.status}",
        kind_label=request.get_kind_display(),
        status=request.status,
        status_label=request.get_status_display(),
        rejection_reason=request.rejection_reason,
        detail_url=_url_for(manager, "request_detail", pk=request.pk),
    )


def _user_for_person(*, actor: User, person: dict, organization: Organization, language: str) -> tuple[User, bool]:
    """The person's account: the existing one when it is them, else a new one with a verified address."""
    existing = User.objects.select_for_update().filter(email__iexact=person["email"]).first()
    if existing is not None:
        if not same_person(existing, person):
            raise ValidationError(
                _("%(email)s now belongs to someone else; reject this request.") % {"email": person["email"]}
            )
        return existing, False
    user = User(
        email=person["email"].lower(),
        first_name=person["first_name"],
        initials=person.get("initials", ""),
        last_name=person["last_name"],
        date_of_birth=datetime.date.fromisoformat(person["date_of_birth"]),
        phone=person.get("phone", ""),
        language=language,
    )
    # No password yet: the welcome email carries a link to set one.
    user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    # The manager's signed form vouches for the address; support checked the person.
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    audit_record(actor=actor, action="user.create", obj=user, organization=organization, data={"email": user.email})
    return user, True


def _password_link(user: User) -> str:
    return _url_for(
        user,
        "account_reset_password_from_key",
        uidb36=user_pk_to_url_str(user),
        key=default_token_generator.make_token(user),
    )


def _email_welcome(*, user: User, means: Means, organization: Organization, new_account: bool, resend: bool = False):
    """Rule 15: the new user gets a confirmation email and can use the means at once."""
    email_queue(
        kind="means_issued",
        to=user,
        context={
            "name": user.get_short_name(),
            "email": user.email,
            "organization": organization.name,
            "level": means.level,
            "valid_until": means.valid_until,
            "new_account": new_account,
            "password_url": _password_link(user) if new_account or not user.has_usable_password() else "",
            "login_url": _url_for(user, "account_login"),
        },
        dedupe_key=None if resend else f"means_issued:{means.pk}",
    )


@transaction.atomic
def request_fulfil(*, actor: User, request: Request) -> Request:
    """Carry out an approved request through the services of the other apps only."""
    from authorizations.services import authorization_grant
    from organizations.services import membership_link
    from users.services import means_issue, means_upgrade

    require_support(actor)
    request = _locked(request)
    _transition(request, Request.Status.FULFILLED)  # refuses anything not approved
    organization = request.organization
    results = {}
    if request.kind == Request.Kind.NEW_MEANS:
        people = []
        for person in request.payload.get("people", []):
            user, created = _user_for_person(
                actor=actor, person=person, organization=organization, language=request.language
            )
            if not Membership.objects.filter(user=user, organization=organization).exists():
                membership_link(actor=actor, user=user, organization=organization)
            means = means_issue(
                actor=actor, owner=user, level=person["level"], years=person["years"], organization=organization
            )
            granted = []
            for item in person.get("authorizations", []):
                authorization = authorization_grant(
                    actor=actor,
                    user=user,
                    organization=organization,
                    level=item["level"],
                    scope=item["scope"],
                    service=Service.objects.filter(pk=item.get("service_id")).first(),
                    provider=ServiceProvider.objects.filter(pk=item.get("provider_id")).first(),
                    years=item.get("years", 3),
                )
                granted.append(authorization.pk)
            people.append({**person, "user_id": user.pk, "means_id": means.pk, "authorization_ids": granted})
            _email_welcome(user=user, means=means, organization=organization, new_account=created)
        request.payload = {**request.payload, "people": people}
        results = {"users": [p["user_id"] for p in people]}
    elif request.kind == Request.Kind.UPGRADE:
        means = Means.objects.get(pk=request.payload["means_id"])
        means_upgrade(
            actor=actor,
            means=means,
            level=request.level,
            organization=organization,
            identity_check={
                "method": request.identity_method,
                "document_type": request.identity_document_type,
                "document_last4": request.identity_document_last4,
            },
        )
        email_queue(
            kind="means_upgraded",
            to=means.owner,
            context={"name": means.owner.get_short_name(), "level": request.level, "organization": organization.name},
            dedupe_key=f"means_upgraded:{request.pk}",
        )
        results = {"means": means.pk, "level": request.level}
    elif request.kind == Request.Kind.LINK_USER:
        membership_link(actor=actor, user=request.subject_user, organization=organization)
    elif request.kind == Request.Kind.NEW_AUTHORIZATIONS:
        granted = []
        for item in request.payload.get("authorizations", []):
            authorization = authorization_grant(
                actor=actor,
                user=User.objects.get(pk=item["user_id"]),
                organization=organization,
                level=item["level"],
                scope=item["scope"],
                service=Service.objects.filter(pk=item.get("service_id")).first(),
                provider=ServiceProvider.objects.filter(pk=item.get("provider_id")).first(),
                years=item.get("years", 3),
            )
            granted.append(authorization.pk)
        results = {"authorizations": granted}
    else:
        raise ValidationError(_("Appointments are approved with their own action."), code="wrong_kind")
    request.save()
    _audit(actor=actor, request=request, action="request.fulfil", data={"kind": request.kind, **results})
    _email_decision(request)
    return request


@transaction.atomic
def request_email_resend(*, actor: User, request: Request) -> str:
    """Support sends the request's latest email again; returns what was sent."""
    require_support(actor)
    request = _locked(request)
    if request.kind == Request.Kind.LINK_USER and request.status == Request.Status.AWAITING_SIGNATURE:
        _email_link_request(request, resend=True)
        what = "link_request"
    elif request.kind == Request.Kind.NEW_MEANS and request.status == Request.Status.FULFILLED:
        for person in request.payload.get("people", []):
            user = User.objects.get(pk=person["user_id"])
            means = Means.objects.get(pk=person["means_id"])
            _email_welcome(
                user=user,
                means=means,
                organization=request.organization,
                new_account=not user.has_usable_password(),
                resend=True,
            )
        what = "means_issued"
    elif request.status in (Request.Status.APPROVED, Request.Status.REJECTED, Request.Status.FULFILLED):
        _email_decision(request, resend=True)
        what = "request_decided"
    else:
        raise ValidationError(_("There is no email to send again for this request yet."), code="nothing_to_resend")
    _audit(actor=actor, request=request, action="request.email_resend", data={"email": what})
    return what
