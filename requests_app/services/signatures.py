"""Signed forms: freezing a request as PDF, the representatives' and the manager's signatures,
and handing the signed form to support.
"""

from dataclasses import replace

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.services import Attachment, email_queue
from organizations.roles import manager_level_for, managers_of, require_manager_or_support
from reconi.links import portal_url_in
from reconi.pdf import sha256
from reconi.roles import is_support
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
from ..tokens import TokenError, code_matches, token_issue
from .core import _audit, _locked, _require_manager, _revoke_open_tokens, _transition

SIGNED_KINDS = (Request.Kind.NEW_MEANS, Request.Kind.UPGRADE, Request.Kind.NEW_AUTHORIZATIONS)
# Signed by the representative (no manager to approve it), never by a manager: a manager approves instead.
REPRESENTATIVE_SIGNED_KINDS = (Request.Kind.MEANS_RENEWAL,)


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
    request.set_payload(replace(request.payload_data, signers=tuple(r.pk for r in requirement.representatives)))
    request.signatures_required = requirement.required
    request.store_pdf(form_pdf(request))
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
                "url": portal_url_in(request.language or "nl", "sign", token=value),
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
            "pdf_sha256": request.pdf_sha256,
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
    if representative.pk not in request.payload_data.signers:
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
    if not request.pdf:
        request.store_pdf(
            form_pdf(
                request,
                signer_blocks=[
                    {
                        "field": MANAGER_FIELD,
                        "name": signer_name,
                        "capacity": _("Authorization manager"),
                        "authority": "",
                    }
                ],
            )
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
    request.store_signed_pdf(signed)
    request.save(update_fields=["pdf", "pdf_sha256", "signed_pdf", "signed_pdf_sha256", "updated_at"])
    return signature


def _complete_if_signed(*, request: Request, actor, now) -> None:
    """When every required signature is in: submitted, open links revoked, the signed PDF emailed."""
    if not is_complete(request):
        return
    _transition(request, Request.Status.SUBMITTED)
    request.save(update_fields=["status", "submitted_at", "updated_at"])
    _revoke_open_tokens(request, now)
    _audit(actor=actor, request=request, action="request.submit", data={"pdf_sha256": request.signed_pdf_sha256})
    attachment = Attachment(f"{request.number}.pdf", request.signed_pdf_content())
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
    """The representative hears of an upgrade unless the organisation has a working manager.

    New means are announced when they are issued, one notice per means
    (``users.services.means_issue``, rule 13).
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
        upgrade = request.payload_for_upgrade()
        return [f"{request.subject_user} ({upgrade.from_level} → {upgrade.to_level})"]
    if request.kind != Request.Kind.NEW_MEANS:
        return []
    return [f"{p.first_name} {p.last_name} ({p.level})" for p in request.payload_for_new_means().people]
