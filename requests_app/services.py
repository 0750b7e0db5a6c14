"""Writes on requests: creating, sending for signature, signing, deciding.

Every function is keyword-only, runs in one transaction and records an audit
event. Status changes go through ``_transition`` (the allowed ones live in
``Request.TRANSITIONS``).
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.services import audit_record
from notifications.services import Attachment, email_queue
from organizations.models import Organization
from organizations.services import manager_appoint
from reconi.levels import AssuranceLevel
from reconi.pdf import sha256
from reconi.roles import manager_level_for, require_manager_or_support, require_support
from users.models import Means, User

from .models import Request, Signature, SigningToken
from .signing import (
    MANAGER_FIELD,
    SignerRequirement,
    consent_text,
    form_pdf,
    is_complete,
    representative_field,
    sign_request_pdf,
    signer_requirement,
)
from .tokens import TokenError, code_matches, token_issue


def _transition(request: Request, status: str) -> None:
    """Move ``request`` (locked by the caller) to ``status`` or refuse."""
    if not request.can_transition_to(status):
        raise ValidationError(
            _("A request that is %(current)s cannot become %(next)s.")
            % {"current": request.get_status_display(), "next": Request.Status(status).label},
            code="bad_transition",
        )
    request.status = status
    now = timezone.now()
    if status == Request.Status.SUBMITTED:
        request.submitted_at = now
    elif status == Request.Status.FULFILLED:
        request.fulfilled_at = now
    elif status == Request.Status.CANCELLED:
        request.cancelled_at = now


def _locked(request: Request) -> Request:
    """The request again, its row locked; ``of=self`` because the nullable joins cannot be locked."""
    return (
        Request.objects.select_for_update(of=("self",))
        .select_related("organization", "subject_user", "created_by")
        .get(pk=request.pk)
    )


def _decide(request: Request, *, actor: User, status: str) -> None:
    """Move ``request`` (locked) to ``status`` as ``actor``'s decision."""
    _transition(request, status)
    request.decided_at = timezone.now()
    request.decided_by = actor


def _audit(*, actor, request: Request, action: str, data: dict | None = None) -> None:
    """Record ``action`` on ``request`` in its organisation's audit log; every event names the request number."""
    audit_record(
        actor=actor,
        action=action,
        obj=request,
        organization=request.organization,
        data={"number": request.number, **(data or {})},
    )


def _portal_url(path: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def _url_in(language: str, name: str, **kwargs) -> str:
    with translation.override(language):
        return _portal_url(reverse(name, kwargs=kwargs or None))


def _language_of(user: User | None) -> str:
    return getattr(user, "language", None) or settings.LANGUAGE_CODE


def _url_for(user: User | None, name: str, **kwargs) -> str:
    """A portal link for ``user``, in their language."""
    return _url_in(_language_of(user), name, **kwargs)


@transaction.atomic
def request_create(
    *,
    actor: User | None,
    kind: str,
    organization: Organization,
    payload: dict | None = None,
    subject_user: User | None = None,
    level: str = "",
    reason: str = "",
    language: str | None = None,
) -> Request:
    """Create a draft request. Permission checks belong to the caller's service."""
    request = Request(
        kind=kind,
        organization=organization,
        created_by=actor if getattr(actor, "pk", None) else None,
        payload=payload or {},
        subject_user=subject_user,
        level=level,
        reason=reason,
        language=language or getattr(actor, "language", None) or "nl",
    )
    request.full_clean(exclude=["pdf", "signed_pdf"])
    request.save()
    _audit(actor=actor, request=request, action="request.create", data={"kind": kind, "level": level})
    return request


def _revoke_open_tokens(request: Request, now) -> None:
    SigningToken.objects.filter(request=request, used_at__isnull=True, revoked_at__isnull=True).update(revoked_at=now)


@transaction.atomic
def appointment_apply(*, actor: User, organization: Organization, level: str, reason: str = "") -> Request:
    """ "Become an authorization manager": the actor applies, for themselves, for manager rights.

    Free of charge. Rule 3: the level must equal the applicant's own means.
    Rule 10: the organisation's representatives sign (they get emailed links);
    nobody applies for someone else, so a manager cannot appoint a manager.
    """
    if not getattr(actor, "is_authenticated", False):
        raise PermissionDenied("Log in with your means to apply.")
    if level not in AssuranceLevel.values:
        raise ValidationError({"level": _("Choose a level: EH2, EH2+, EH3 or EH4.")}, code="bad_level")
    means = Means.objects.active().filter(owner=actor).first()
    if means is None:
        raise ValidationError(
            _("You need an active eHerkenning means to become an authorization manager."), code="no_means"
        )
    if means.level != level:
        message = _(
            "Manager rights at %(level)s need a means of level %(level)s; your means has level "
            "%(means)s. Choose %(means)s, or upgrade your means to %(level)s first."
        ) % {"level": level, "means": means.level}
        raise ValidationError({"level": ValidationError(message, code="level_mismatch")})
    if manager_level_for(actor, organization) == level:
        raise ValidationError(
            _("You already are an authorization manager of %(organization)s at level %(level)s.")
            % {"organization": organization.name, "level": level},
            code="already_manager",
        )
    pending = (
        Request.objects.filter(
            kind=Request.Kind.APPOINT_MANAGER,
            organization=organization,
            subject_user=actor,
            status__in=Request.OPEN_STATUSES,
        )
        .values_list("number", flat=True)
        .first()
    )
    if pending:
        raise ValidationError(
            _("Your application %(number)s for %(organization)s is still being processed.")
            % {"number": pending, "organization": organization.name},
            code="pending",
        )
    requirement = signer_requirement(organization)  # fail early, before anything is written
    request = request_create(
        actor=actor,
        kind=Request.Kind.APPOINT_MANAGER,
        organization=organization,
        subject_user=actor,
        level=level,
        reason=reason,
        payload={
            "manager": {
                "name": actor.get_full_name() or actor.email,
                "email": actor.email,
                "date_of_birth": actor.date_of_birth.isoformat() if actor.date_of_birth else "",
            },
            "means_level": means.level,
        },
    )
    return _send_for_signature(actor=actor, request=request, requirement=requirement)


@transaction.atomic
def request_send_for_signature(*, actor: User | None, request: Request) -> Request:
    """Freeze the form as PDF, work out who must sign (rule 10) and email them links.

    ``actor`` is the applicant, a manager of the organisation, support staff, or
    None for the system.
    """
    request = _locked(request)
    if actor is not None and actor.pk != request.created_by_id:
        require_manager_or_support(actor, request.organization)
    return _send_for_signature(actor=actor, request=request, requirement=signer_requirement(request.organization))


def _send_for_signature(*, actor, request: Request, requirement: SignerRequirement) -> Request:
    request = _locked(request)
    _transition(request, Request.Status.AWAITING_SIGNATURE)
    request.payload = {**request.payload, "signers": [r.pk for r in requirement.representatives]}
    request.signatures_required = requirement.required
    request.pdf = form_pdf(request)
    request.signed_pdf = None
    request.signed_pdf_sha256 = ""
    request.save()
    now = timezone.now()
    for representative in requirement.representatives:
        token, value = token_issue(request=request, representative=representative, now=now)
        email_queue(
            kind="signing_request",
            to=representative.email,
            language=request.language,
            context={
                "request": request,
                "representative": representative,
                "applicant": request.created_by,
                "url": _url_in(request.language or "nl", "sign", token=value),
                "expires_at": token.expires_at,
                "rule_text": requirement.rule_text,
            },
            dedupe_key=f"signing_request:{token.pk}",
        )
    _audit(
        actor=actor,
        request=request,
        action="request.send_for_signature",
        data={
            "signers": [r.name for r in requirement.representatives],
            "required": requirement.required,
            "pdf_sha256": sha256(request.pdf),
        },
    )
    return request


@transaction.atomic
def request_sign_as_representative(
    *, token: SigningToken, code: str, consent: bool, ip_address: str | None = None
) -> Signature:
    """Sign through an emailed link: identity confirmed, one-time code right, consent given.

    Locks the request, then the link, so ten clicks give one signature; a link
    that was used meanwhile raises TokenError("used") and changes nothing.
    """
    request = Request.objects.select_for_update().select_related("organization").get(pk=token.request_id)
    token = SigningToken.objects.select_for_update().select_related("representative").get(pk=token.pk)
    now = timezone.now()
    if token.used_at is not None:
        raise TokenError("used", token)
    if not token.is_usable(now):
        raise TokenError("revoked" if token.revoked_at else "expired", token)
    if request.status != Request.Status.AWAITING_SIGNATURE:
        raise ValidationError(_("This form no longer awaits signatures."), code="not_awaiting")
    if token.identity_confirmed_at is None:
        raise ValidationError(_("Confirm your name and date of birth first."), code="identity")
    if not code_matches(token, code):
        raise ValidationError({"code": _("The code is not right or no longer valid.")}, code="code")
    if not consent:
        raise ValidationError({"consent": _("Tick the box to agree with the declaration.")}, code="consent")
    representative = token.representative
    if representative.pk not in (request.payload.get("signers") or []):
        raise PermissionDenied("This representative is not asked to sign this form.")
    if request.signatures.filter(representative=representative).exists():
        raise TokenError("used", token)

    text = consent_text(request, capacity=Signature.Capacity.REPRESENTATIVE)
    signed = sign_request_pdf(
        request,
        field_name=representative_field(representative),
        signer_name=representative.name,
        capacity=Signature.Capacity.REPRESENTATIVE,
        consent_text=text,
        signed_at=now,
    )
    signature = _record_signature(
        request=request,
        signed=signed,
        signer_name=representative.name,
        capacity=Signature.Capacity.REPRESENTATIVE,
        representative=representative,
        user=representative.user,
        consent=text,
        ip_address=ip_address,
        now=now,
    )
    token.used_at = now
    token.save(update_fields=["used_at"])
    _audit(
        actor=representative.user,
        request=request,
        action="request.sign",
        data={
            "signer": representative.name,
            "capacity": Signature.Capacity.REPRESENTATIVE,
            "representative": representative.pk,
            "pdf_sha256": signature.pdf_sha256,
            "ip": ip_address,
        },
    )
    _complete_if_signed(request=request, actor=representative.user, now=now)
    return signature


@transaction.atomic
def request_sign_as_manager(*, actor: User, request: Request, ip_address: str | None = None) -> Signature:
    """A manager signs instead of the representative ("relieving the representative").

    Never for an appointment (rule 10). The view asks for the second factor
    again before calling this.
    """
    request = Request.objects.select_for_update().select_related("organization").get(pk=request.pk)
    _not_for_appointments(request)
    if manager_level_for(actor, request.organization) is None:
        raise PermissionDenied("Only a manager of the organisation signs instead of the representative.")
    if request.status not in (Request.Status.DRAFT, Request.Status.AWAITING_SIGNATURE):
        raise ValidationError(_("This form no longer awaits signatures."), code="not_awaiting")
    if request.signatures.filter(capacity=Signature.Capacity.MANAGER).exists():
        raise ValidationError(_("A manager already signed this form."), code="already_signed")
    signer_name = actor.get_full_name() or actor.email
    if request.pdf is None:
        request.pdf = form_pdf(
            request,
            signer_blocks=[
                {"field": MANAGER_FIELD, "name": signer_name, "capacity": _("Authorization manager"), "authority": ""}
            ],
        )
    now = timezone.now()
    text = consent_text(request, capacity=Signature.Capacity.MANAGER)
    signed = sign_request_pdf(
        request,
        field_name=MANAGER_FIELD,
        signer_name=signer_name,
        capacity=Signature.Capacity.MANAGER,
        consent_text=text,
        signed_at=now,
    )
    signature = _record_signature(
        request=request,
        signed=signed,
        signer_name=signer_name,
        capacity=Signature.Capacity.MANAGER,
        representative=None,
        user=actor,
        consent=text,
        ip_address=ip_address,
        now=now,
    )
    _audit(
        actor=actor,
        request=request,
        action="request.sign",
        data={
            "signer": signer_name,
            "capacity": Signature.Capacity.MANAGER,
            "pdf_sha256": signature.pdf_sha256,
            "ip": ip_address,
        },
    )
    _complete_if_signed(request=request, actor=actor, now=now)
    return signature


def _record_signature(
    *, request: Request, signed: bytes, signer_name, capacity, representative, user, consent, ip_address, now
) -> Signature:
    digest = sha256(signed)
    signature = Signature.objects.create(
        request=request,
        signer_name=signer_name,
        capacity=capacity,
        representative=representative,
        user=user,
        signed_at=now,
        consent_text=consent,
        ip_address=ip_address,
        pdf_sha256=digest,
    )
    request.signed_pdf = signed
    request.signed_pdf_sha256 = digest
    request.save(update_fields=["pdf", "signed_pdf", "signed_pdf_sha256", "updated_at"])
    return signature


def _complete_if_signed(*, request: Request, actor, now) -> None:
    """When every required signature is in: submitted, open links revoked, the signed PDF emailed."""
    if not is_complete(request):
        return
    _transition(request, Request.Status.SUBMITTED)
    request.save(update_fields=["status", "submitted_at", "updated_at"])
    _revoke_open_tokens(request, now)
    _audit(actor=actor, request=request, action="request.submit", data={"pdf_sha256": request.signed_pdf_sha256})
    attachment = Attachment(f"{request.number}.pdf", bytes(request.signed_pdf))
    recipients: dict[str, object] = {}
    for signature in request.signatures.select_related("representative", "user"):
        if signature.representative_id:
            recipients.setdefault(signature.representative.email.lower(), signature.representative.email)
        elif signature.user_id:
            recipients.setdefault(signature.user.email.lower(), signature.user)
    for person in (request.created_by, request.subject_user):
        if person is not None:
            recipients[person.email.lower()] = person
    for address, to in recipients.items():
        email_queue(
            kind="signing_completed",
            to=to,
            language=request.language if isinstance(to, str) else None,
            context={"request": request, "signatures": list(request.signatures.all())},
            attachments=(attachment,),
            dedupe_key=f"signing_completed:{request.pk}:{address}",
        )


@transaction.atomic
def appointment_approve(*, actor: User, request: Request) -> Request:
    """Support approves a signed appointment: the manager role is granted through manager_appoint."""
    require_support(actor)
    request = _locked(request)
    if request.kind != Request.Kind.APPOINT_MANAGER:
        raise ValidationError(_("Only appointments of a manager are approved here."), code="wrong_kind")
    if not is_complete(request):
        raise ValidationError(_("The appointment is not signed by every representative required."), code="unsigned")
    _decide(request, actor=actor, status=Request.Status.APPROVED)
    manager_appoint(
        actor=actor,
        user=request.subject_user,
        organization=request.organization,
        level=request.level,
        appointment=request,
    )
    _transition(request, Request.Status.FULFILLED)
    request.save()
    _audit(actor=actor, request=request, action="request.approve", data={"kind": request.kind, "level": request.level})
    email_queue(
        kind="appointment_approved",
        to=request.subject_user,
        context={"request": request},
        dedupe_key=f"appointment_approved:{request.pk}",
    )
    return request


@transaction.atomic
def request_cancel(*, actor: User, request: Request, reason: str = "") -> Request:
    """Cancel an open request; its signing links stop working at once."""
    request = _locked(request)
    if actor.pk != request.created_by_id:
        require_manager_or_support(actor, request.organization)
    _transition(request, Request.Status.CANCELLED)
    if reason:
        request.reason = (request.reason + "\n" if request.reason else "") + reason
    request.save()
    _revoke_open_tokens(request, request.cancelled_at)
    _audit(actor=actor, request=request, action="request.cancel", data={"reason": reason})
    return request


def _not_for_appointments(request: Request) -> None:
    if request.kind == Request.Kind.APPOINT_MANAGER:
        raise PermissionDenied("A manager cannot appoint a manager.")
