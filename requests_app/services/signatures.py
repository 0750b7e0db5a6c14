"""Signed forms: freezing a request as PDF, the representatives' and the manager's signatures,
and handing the signed form to support.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from notifications.selectors import managers_of
from notifications.services import Attachment, email_queue
from reconi.pdf import sha256
from reconi.roles import is_support, manager_level_for, require_manager_or_support
from reconi.services import service
from users.models import User
from users.rules import upgrade_needs_representative

from ..models import Request, Signature, SigningToken
from ..signing import (
    MANAGER_FIELD,
    SignerRequirement,
    consent_text,
    form_pdf,
    is_complete,
    representative_field,
    sign_request_pdf,
    signer_requirement,
)
from ..tokens import (
    CODE_LIFETIME,
    CODE_MAX_ATTEMPTS,
    IDENTITY_MAX_ATTEMPTS,
    CodeIssue,
    TokenError,
    code_new,
    code_problem,
    identity_matches,
    token_issue,
)
from .core import _audit, _locked, _require_manager, _revoke_open_tokens, _transition, _url_in

SIGNED_KINDS = (Request.Kind.NEW_MEANS, Request.Kind.UPGRADE, Request.Kind.NEW_AUTHORIZATIONS)
# Signed by the representative (no manager to approve it), never by a manager: a manager approves instead.
REPRESENTATIVE_SIGNED_KINDS = (Request.Kind.MEANS_RENEWAL,)


@service
def request_send_for_signature(*, actor: User | None, request: Request) -> Request:
    """Freeze the form as PDF, work out who must sign and email them links.

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


@dataclass(frozen=True)
class SignResult:
    signature: Signature | None
    code_problem: str = ""  # "wrong", "expired", "attempts", "none": nothing was signed


@service
def request_sign_as_representative(
    *, token: SigningToken | int, code: str, consent: bool, ip_address: str | None = None
) -> SignResult:
    """Sign through an emailed link: identity confirmed, one-time code right, consent given.

    Locks the request, then the link, so ten clicks give one signature; a link
    that was used meanwhile raises TokenError("used") and changes nothing. A wrong
    code is counted (and audited) and answered in ``SignResult.code_problem``:
    no exception, so that the count is kept.
    """
    token_id = token if isinstance(token, int) else token.pk
    request_id = SigningToken.objects.filter(pk=token_id).values_list("request_id", flat=True).first()
    request = Request.objects.select_for_update().select_related("organization").get(pk=request_id)
    token = SigningToken.objects.select_for_update().select_related("representative").get(pk=token_id)
    now = timezone.now()
    _usable_or_raise(token, now)
    if request.status != Request.Status.AWAITING_SIGNATURE:
        raise ValidationError(_("This form no longer awaits signatures."), code="not_awaiting")
    if token.identity_confirmed_at is None:
        raise ValidationError(_("Confirm your name and date of birth first."), code="identity")
    representative = token.representative
    problem = code_problem(token, code, now)
    if problem:
        if problem == "wrong":
            token.code_attempts += 1
            token.save(update_fields=["code_attempts"])
            if token.code_attempts >= CODE_MAX_ATTEMPTS:
                problem = "attempts"
        _audit(
            actor=representative.user,
            request=request,
            action="signing.code_refused",
            data={"representative": representative.pk, "reason": problem, "ip": ip_address},
        )
        return SignResult(None, problem)
    if not consent:
        raise ValidationError({"consent": _("Tick the box to agree with the declaration.")}, code="consent")
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
    return SignResult(signature)


def _usable_or_raise(token: SigningToken, now) -> None:
    if token.used_at is not None:
        raise TokenError("used", token)
    if not token.is_usable(now):
        raise TokenError("revoked" if token.revoked_at else "expired", token)


def _locked_token(token_id: int) -> SigningToken:
    token = (
        SigningToken.objects.select_for_update(of=("self",))
        .select_related("request__organization", "representative__user")
        .get(pk=token_id)
    )
    _usable_or_raise(token, timezone.now())
    if token.identity_attempts >= IDENTITY_MAX_ATTEMPTS:
        raise TokenError("locked", token)
    return token


@dataclass(frozen=True)
class IdentityResult:
    confirmed: bool
    attempts_left: int
    code: CodeIssue | None = None  # the code sent on confirmation


@service
def signing_identity_confirm(
    *, token: SigningToken | int, name: str, date_of_birth, ip_address: str | None = None
) -> IdentityResult:
    """The representative behind a link confirms name and date of birth against the KvK extract.

    A wrong answer is counted (guessing stops after a few tries); the right one
    sends the first one-time code. Both are audited.
    """
    token = _locked_token(token if isinstance(token, int) else token.pk)
    if token.identity_confirmed_at is not None:
        return IdentityResult(True, IDENTITY_MAX_ATTEMPTS - token.identity_attempts)
    confirmed = identity_matches(token, name=name, date_of_birth=date_of_birth)
    if confirmed:
        token.identity_confirmed_at = timezone.now()
        token.save(update_fields=["identity_confirmed_at"])
    else:
        token.identity_attempts += 1
        token.save(update_fields=["identity_attempts"])
    _audit(
        actor=token.representative.user,
        request=token.request,
        action="signing.identity_confirmed" if confirmed else "signing.identity_refused",
        data={"representative": token.representative_id, "attempts": token.identity_attempts, "ip": ip_address},
    )
    code = _code_send(token) if confirmed else None
    return IdentityResult(confirmed, IDENTITY_MAX_ATTEMPTS - token.identity_attempts, code)


@service
def signing_code_send(*, token: SigningToken | int) -> CodeIssue:
    """A new one-time code by email, for a representative whose identity is confirmed (rate-limited)."""
    token = _locked_token(token if isinstance(token, int) else token.pk)
    if token.identity_confirmed_at is None:
        raise ValidationError(_("Confirm your name and date of birth first."), code="identity")
    return _code_send(token)


def _code_send(token: SigningToken) -> CodeIssue:
    issued = code_new(token, timezone.now())
    if issued.code is None:
        return issued
    request = token.request
    email_queue(
        kind="signing_code",
        to=token.representative.email,
        language=request.language,
        context={
            "request": request,
            "representative": token.representative,
            "code": issued.code,
            "minutes": int(CODE_LIFETIME.total_seconds() // 60),
        },
    )
    _audit(
        actor=token.representative.user,
        request=request,
        action="signing.code_sent",
        data={"representative": token.representative_id, "codes_sent": token.codes_sent},
    )
    return issued


@service
def request_sign_as_manager(*, actor: User, request: Request, ip_address: str | None = None) -> Signature:
    """A manager signs instead of the representative ("relieving the representative"), and
    the signed form goes to support in the same transaction.

    Never for an appointment. The view asks for the second factor again before calling this.
    """
    request = Request.objects.select_for_update().select_related("organization").get(pk=request.pk)
    _not_for_appointments(request)
    manager_level = manager_level_for(actor, request.organization)
    if manager_level is None:
        raise PermissionDenied("Only a manager of the organisation signs instead of the representative.")
    if request.kind == Request.Kind.UPGRADE and upgrade_needs_representative(
        to_level=request.level, manager_level=manager_level
    ):
        raise ValidationError(
            _("An upgrade to %(level)s is above your own manager level (%(ceiling)s): the representative signs it.")
            % {"level": request.level, "ceiling": manager_level},
            code="above_manager",
        )
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
    _submit(actor=actor, request=request)
    return signature


def _not_for_appointments(request: Request) -> None:
    if request.kind == Request.Kind.APPOINT_MANAGER:
        raise PermissionDenied("A manager cannot appoint a manager.")
    if request.kind in REPRESENTATIVE_SIGNED_KINDS:
        raise PermissionDenied("A manager approves a means renewal instead of signing it.")


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


@service
def request_submit(*, actor: User, request: Request) -> Request:
    """Hand a signed form to support; the representatives may be told (``_notify_representatives``)."""
    request = _locked(request)
    if request.kind not in SIGNED_KINDS:
        raise ValidationError(_("This kind of request is not submitted this way."), code="wrong_kind")
    if not is_support(actor):
        _require_manager(actor, request.organization)
    return _submit(actor=actor, request=request)


def _submit(*, actor: User, request: Request) -> Request:
    if request.status == Request.Status.SUBMITTED:
        # The last signature already handed it in (requests_app.services); what follows a submit still follows.
        _notify_representatives(request)
        return request
    signed = request.signatures.count()
    if signed < request.signatures_required:
        raise ValidationError(
            ngettext(
                "The form needs %(required)s signature before it can be submitted; it has %(signed)s.",
                "The form needs %(required)s signatures before it can be submitted; it has %(signed)s.",
                request.signatures_required,
            )
            % {"required": request.signatures_required, "signed": signed},
            code="unsigned",
        )
    _transition(request, Request.Status.SUBMITTED)
    request.save()
    _audit(actor=actor, request=request, action="request.submit", data={"kind": request.kind})
    _notify_representatives(request)
    return request


def _notify_representatives(request: Request) -> None:
    """The representative hears of an upgrade unless the organisation has a working manager.

    New means are announced when they are issued, one notice per means
    (``users.services.means_issue``).
    """
    if request.kind != Request.Kind.UPGRADE:
        return
    if managers_of(organization_ids=[request.organization_id], today=timezone.localdate()):
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
            language=representative.language,
        )


def _people_summary(request: Request) -> list[str]:
    if request.kind == Request.Kind.UPGRADE:
        payload = request.payload or {}
        return [f"{request.subject_user} ({payload.get('from_level', '')} → {payload.get('to_level', request.level)})"]
    return [
        f"{p.get('first_name', '')} {p.get('last_name', '')} ({p.get('level', '')})".strip()
        for p in (request.payload or {}).get("people", [])
    ]
