"""Support's queue: identity checks, approving, rejecting, fulfilling and sending an email again.

Fulfilling creates accounts, means, links and authorizations through the other apps' services only.
"""

import re
from dataclasses import replace

from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from authorizations.models import Service, ServiceProvider
from notifications.services import email_queue
from organizations.models import Membership, Organization
from reconi.links import portal_url_for
from reconi.roles import require_support
from users.models import Means, User
from users.services import password_reset_url

from .. import payloads
from ..models import Request
from .checks import missing_identity_checks, missing_in_person_check, same_person
from .core import _audit, _decide, _email_about, _locked, _transition
from .links import _email_link_request


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
    people = list(request.payload_for_new_means().people) if request.kind == Request.Kind.NEW_MEANS else []
    if request.kind == Request.Kind.NEW_MEANS:
        if person_index is None and len(people) == 1:
            person_index = 0
        if person_index is None or not 0 <= person_index < len(people):
            errors["person_index"] = _("Choose the person whose identity was checked.")
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    check = payloads.IdentityCheck(
        method=method, document_type=document_type, document_last4=document_last4, by=actor.email, at=now.isoformat()
    )
    if request.kind == Request.Kind.NEW_MEANS:
        people[person_index] = replace(people[person_index], identity_check=check)
        request.set_payload(replace(request.payload_for_new_means(), people=tuple(people)))
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
    if missing_in_person_check(request):
        raise ValidationError(
            _("This upgrade is above the manager's level: check %(person)s's identity face to face first.")
            % {"person": request.subject_user},
            code="in_person_check_missing",
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


def _email_decision(request: Request, *, resend: bool = False) -> None:
    manager = request.created_by
    if manager is None:
        return
    # A holder who asked to renew their own means follows it on the home page, not in Manage.
    detail = ("home", {}) if request.kind == Request.Kind.MEANS_RENEWAL else ("request_detail", {"pk": request.pk})
    _email_about(
        request,
        kind="request_decided",
        to=manager,
        dedupe_key=None if resend else f"request_decided:{request.pk}:{request.status}",
        kind_label=request.get_kind_display(),
        status=request.status,
        status_label=request.get_status_display(),
        rejection_reason=request.rejection_reason,
        detail_url=portal_url_for(manager, detail[0], **detail[1]),
    )


def _user_for_person(
    *, actor: User, person: payloads.Person, organization: Organization, language: str
) -> tuple[User, bool]:
    """The person's account: the existing one when it is them, else a new one with a verified address."""
    existing = User.objects.select_for_update().filter(email__iexact=person.email).first()
    if existing is not None:
        if not same_person(
            existing, first_name=person.first_name, last_name=person.last_name, date_of_birth=person.date_of_birth
        ):
            raise ValidationError(
                _("%(email)s now belongs to someone else; reject this request.") % {"email": person.email}
            )
        return existing, False
    user = User(
        email=person.email.lower(),
        first_name=person.first_name,
        initials=person.initials,
        last_name=person.last_name,
        date_of_birth=person.date_of_birth,
        phone=person.phone,
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
            "password_url": password_reset_url(user) if new_account or not user.has_usable_password() else "",
            "login_url": portal_url_for(user, "account_login"),
        },
        dedupe_key=None if resend else f"means_issued:{means.pk}",
    )


def _grant(*, actor: User, user: User, organization: Organization, item: payloads.AuthorizationLine) -> int:
    """Grant one authorization as the request's payload describes it; returns its id."""
    from authorizations.services import authorization_grant

    authorization = authorization_grant(
        actor=actor,
        user=user,
        organization=organization,
        level=item.level,
        scope=item.scope,
        service=Service.objects.filter(pk=item.service_id).first() if item.service_id else None,
        provider=ServiceProvider.objects.filter(pk=item.provider_id).first() if item.provider_id else None,
        branch_number=item.branch_number,
        years=item.years,
    )
    return authorization.pk


@transaction.atomic
def request_fulfil(*, actor: User, request: Request) -> Request:
    """Carry out an approved request through the services of the other apps only."""
    from organizations.services import membership_link
    from users.services import means_issue, means_upgrade

    require_support(actor)
    request = _locked(request)
    _transition(request, Request.Status.FULFILLED)  # refuses anything not approved
    organization = request.organization
    results = {}
    if request.kind == Request.Kind.NEW_MEANS:
        people = []
        for person in request.payload_for_new_means().people:
            user, created = _user_for_person(
                actor=actor, person=person, organization=organization, language=request.language
            )
            if not Membership.objects.filter(user=user, organization=organization).exists():
                membership_link(actor=actor, user=user, organization=organization)
            means = means_issue(
                actor=actor,
                owner=user,
                level=person.level,
                years=person.years,
                organization=organization,
                request_number=request.number,
            )
            granted = tuple(
                _grant(actor=actor, user=user, organization=organization, item=item) for item in person.authorizations
            )
            people.append(replace(person, user_id=user.pk, means_id=means.pk, authorization_ids=granted))
            _email_welcome(user=user, means=means, organization=organization, new_account=created)
        request.set_payload(replace(request.payload_for_new_means(), people=tuple(people)))
        results = {"users": [p.user_id for p in people]}
    elif request.kind == Request.Kind.UPGRADE:
        means = Means.objects.get(pk=request.payload_for_upgrade().means_id)
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
    elif request.kind == Request.Kind.MEANS_RENEWAL:
        from .renewals import renewal_carry_out

        results = renewal_carry_out(actor=actor, request=request)
    elif request.kind == Request.Kind.NEW_AUTHORIZATIONS:
        granted = []
        for item in request.payload_for_new_authorizations().authorizations:
            user = User.objects.get(pk=item.user_id)
            granted.append(_grant(actor=actor, user=user, organization=organization, item=item))
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
        for person in request.payload_for_new_means().people:
            user = User.objects.get(pk=person.user_id)
            means = Means.objects.get(pk=person.means_id)
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
