"""Who must sign (rule 10), the form as HTML and PDF, and one signature on a request's PDF.

Only ``requests_app.services`` writes; these helpers compute and render.
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from organizations.models import Organization, Representative
from reconi import pdf

from .models import Request, Signature

MANAGER_FIELD = "manager"


def representative_field(representative: Representative) -> str:
    return f"rep-{representative.pk}"


@dataclass(frozen=True)
class SignerRequirement:
    """The representatives who are asked to sign and how many signatures complete the form."""

    representatives: tuple[Representative, ...]
    required: int
    authority: str

    @property
    def rule_text(self) -> str:
        if self.authority == Representative.Authority.SOLE:
            if len(self.representatives) == 1:
                return _("The representative has sole authority: one signature is needed.")
            return _("Sole authority: the signature of one of these representatives is enough.")
        if self.authority == Representative.Authority.JOINT:
            return _("Joint authority: every representative listed must sign.")
        return _("Limited authority: at least two of these representatives must sign.")


def signer_requirement(organization: Organization) -> SignerRequirement:
    """Rule 10 from the KvK extract: one sole representative, every joint one, or two limited ones.

    Sole authority wins when present; then joint; then limited. An organisation
    without enough representatives on record cannot sign online.
    """
    representatives = list(organization.representatives.order_by("name", "pk"))
    by_authority = {
        authority: tuple(r for r in representatives if r.authority == authority)
        for authority in Representative.Authority.values
    }
    if by_authority[Representative.Authority.SOLE]:
        return SignerRequirement(by_authority["sole"], 1, Representative.Authority.SOLE)
    if by_authority[Representative.Authority.JOINT]:
        joint = by_authority["joint"]
        return SignerRequirement(joint, len(joint), Representative.Authority.JOINT)
    if len(by_authority[Representative.Authority.LIMITED]) >= 2:
        return SignerRequirement(by_authority["limited"], 2, Representative.Authority.LIMITED)
    raise ValidationError(
        _(
            "We have no representatives on record for %(organization)s who can sign this form together. "
            "Please contact Reconi support with a recent KvK extract."
        )
        % {"organization": organization.name},
        code="no_signers",
    )


def signers_of(request: Request) -> list[Representative]:
    ids = request.payload.get("signers") or []
    by_id = {r.pk: r for r in Representative.objects.filter(pk__in=ids)}
    return [by_id[pk] for pk in ids if pk in by_id]


def is_complete(request: Request) -> bool:
    """Are all signatures in? A manager's signature counts for every kind but an appointment."""
    signatures = list(request.signatures.all())
    if request.kind != Request.Kind.APPOINT_MANAGER and any(
        s.capacity == Signature.Capacity.MANAGER for s in signatures
    ):
        return True
    required_ids = set(request.payload.get("signers") or [])
    signed = {s.representative_id for s in signatures if s.capacity == Signature.Capacity.REPRESENTATIVE}
    return len(signed & required_ids) >= request.signatures_required


# --- The form ---------------------------------------------------------------------------------------------------


def _date(value):
    """Payload dates are ISO strings; the form shows them as dates in its language."""
    if isinstance(value, str) and value:
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return value
    return value


def form_context(request: Request, *, signer_blocks: list[dict] | None = None) -> dict:
    """Everything the form templates show, with fallbacks resolved here (template filter arguments must exist)."""
    from users.models import Means

    organization = request.organization
    payload = request.payload or {}
    subject = request.subject_user
    subject_name = (subject.get_full_name() or subject.email) if subject is not None else ""
    subject_means = None
    if request.subject_user_id:
        subject_means = Means.objects.active().filter(owner_id=request.subject_user_id).first()
    subject_means_level = subject_means.level if subject_means else ""
    manager = payload.get("manager") or {}
    context = {
        "req": request,
        "organization": organization,
        "payload": payload,
        "subject": subject,
        "subject_name": subject_name,
        "subject_email": subject.email if subject is not None else "",
        "subject_means_level": subject_means_level,
        "manager": {
            "name": manager.get("name") or subject_name,
            "email": manager.get("email") or (subject.email if subject is not None else ""),
            "date_of_birth": _date(manager.get("date_of_birth")),
        },
        "means_level": payload.get("means_level") or subject_means_level,
        "from_level": payload.get("from_level") or subject_means_level,
        "to_level": payload.get("to_level") or request.level,
        "people": [
            {**person, "date_of_birth": _date(person.get("date_of_birth"))} for person in payload.get("people") or []
        ],
        "authorizations": [
            {
                "user": item.get("user_name") or item.get("user_id") or "",
                "scope": item.get("scope_label") or item.get("scope") or "",
                "level": item.get("level") or "",
                "years": item.get("years"),
            }
            for item in payload.get("authorizations") or []
        ],
        "signers": signers_of(request),
        "signer_blocks": signer_blocks if signer_blocks is not None else default_signer_blocks(request),
        "form_date": timezone.localdate(),
        "rule_text": "",
    }
    if request.kind == Request.Kind.MEANS_RENEWAL:
        context["renewal"] = {
            "years": payload.get("years") or 0,
            "valid_until": _date(payload.get("valid_until")),
            "new_valid_until": _date(payload.get("new_valid_until")),
            "price": payload.get("price") or "0.00",
        }
    if request.kind == Request.Kind.LINK_USER and payload.get("from_organization_id"):
        context["from_organization"] = Organization.objects.filter(pk=payload["from_organization_id"]).first()
    if payload.get("signers"):
        try:
            context["rule_text"] = signer_requirement(organization).rule_text
        except ValidationError:
            pass
    return context


def default_signer_blocks(request: Request) -> list[dict]:
    blocks = [
        {
            "field": representative_field(r),
            "name": r.name,
            "capacity": _("Authorized representative"),
            "authority": r.get_authority_display(),
        }
        for r in signers_of(request)
    ]
    if not blocks and request.kind != Request.Kind.APPOINT_MANAGER:
        blocks.append({"field": MANAGER_FIELD, "name": "", "capacity": _("Authorization manager"), "authority": ""})
    return blocks


def form_html(request: Request, *, for_pdf: bool, signer_blocks: list[dict] | None = None) -> str:
    """The form in the request's language: the whole PDF document, or the body for a web page."""
    template = "requests_app/pdf/form_document.html" if for_pdf else "requests_app/pdf/_form_body.html"
    with translation.override(request.language or "nl"):
        return render_to_string(template, form_context(request, signer_blocks=signer_blocks))


def form_pdf(request: Request, *, signer_blocks: list[dict] | None = None) -> bytes:
    """Render the form as PDF with one empty signature field per signature block."""
    return pdf.render_pdf(form_html(request, for_pdf=True, signer_blocks=signer_blocks)).content


def sign_request_pdf(
    request: Request,
    *,
    field_name: str,
    signer_name: str,
    capacity: str,
    consent_text: str,
    signed_at: datetime.datetime,
) -> bytes:
    """Add one signature to the request's current PDF and return the new document."""
    content = request.current_pdf
    if content is None:
        raise ValueError("The request has no PDF to sign.")
    with translation.override(request.language or "nl"):
        capacity_label = str(Signature.Capacity(capacity).label)
        local = timezone.localtime(signed_at)
        lines = (
            _("Digitally signed by %(name)s") % {"name": signer_name},
            capacity_label,
            local.strftime("%d-%m-%Y %H:%M"),
        )
        reason = _("%(capacity)s %(name)s: %(consent)s") % {
            "capacity": capacity_label,
            "name": signer_name,
            "consent": consent_text,
        }
    return pdf.sign_pdf(
        content,
        field_name=field_name,
        signer_name=signer_name,
        capacity_label=capacity_label,
        reason=reason,
        signed_at=local,
        stamp_lines=lines,
    )


def consent_text(request: Request, *, capacity: str) -> str:
    """The declaration the signer agrees to, in the form's language (stored with the signature)."""
    with translation.override(request.language or "nl"):
        if request.kind == Request.Kind.APPOINT_MANAGER:
            return _(
                "I declare that I am authorized to represent %(organization)s and that I appoint "
                "%(manager)s as authorization manager at level %(level)s, as stated in form %(number)s."
            ) % {
                "organization": request.organization.name,
                "manager": request.subject_user.get_full_name() or request.subject_user.email,
                "level": request.level,
                "number": request.number,
            }
        if capacity == Signature.Capacity.MANAGER:
            return _(
                "I declare, as authorization manager of %(organization)s, that the information in form "
                "%(number)s is correct and complete and I submit it on behalf of the organisation."
            ) % {"organization": request.organization.name, "number": request.number}
        return _(
            "I declare that I am authorized to represent %(organization)s and that the information in form "
            "%(number)s is correct and complete."
        ) % {"organization": request.organization.name, "number": request.number}
