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

from . import payloads
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
    ids = request.payload_data.signers
    by_id = {r.pk: r for r in Representative.objects.filter(pk__in=ids)}
    return [by_id[pk] for pk in ids if pk in by_id]


def is_complete(request: Request) -> bool:
    """Are all signatures in? A manager's signature counts for every kind but an appointment."""
    signatures = list(request.signatures.all())
    if request.kind != Request.Kind.APPOINT_MANAGER and any(
        s.capacity == Signature.Capacity.MANAGER for s in signatures
    ):
        return True
    required_ids = set(request.payload_data.signers)
    signed = {s.representative_id for s in signatures if s.capacity == Signature.Capacity.REPRESENTATIVE}
    return len(signed & required_ids) >= request.signatures_required


# --- The form ---------------------------------------------------------------------------------------------------


def form_context(request: Request, *, signer_blocks: list[dict] | None = None) -> dict:
    """Everything the form templates show, with fallbacks resolved here (template filter arguments must exist)."""
    from users.models import Means, User

    organization = request.organization
    payload = request.payload_data
    subject = request.subject_user
    subject_name = (subject.get_full_name() or subject.email) if subject is not None else ""
    subject_means = None
    if request.subject_user_id:
        subject_means = Means.objects.active().filter(owner_id=request.subject_user_id).first()
    subject_means_level = subject_means.level if subject_means else ""
    context = {
        "req": request,
        "organization": organization,
        "payload": payload,
        "subject": subject,
        "subject_name": subject_name,
        "subject_email": subject.email if subject is not None else "",
        "subject_means_level": subject_means_level,
        "means_level": subject_means_level,
        "from_level": subject_means_level,
        "to_level": request.level,
        "people": [],
        "authorizations": [],
        "signers": signers_of(request),
        "signer_blocks": signer_blocks if signer_blocks is not None else default_signer_blocks(request),
        "form_date": timezone.localdate(),
        "rule_text": "",
    }
    if isinstance(payload, payloads.AppointManagerPayload):
        context["manager"] = payload.manager
        context["means_level"] = payload.means_level
    elif isinstance(payload, payloads.UpgradePayload):
        context.update(from_level=payload.from_level, to_level=payload.to_level)
    elif isinstance(payload, payloads.NewMeansPayload):
        context["people"] = payload.people
    elif isinstance(payload, payloads.NewAuthorizationsPayload):
        users = User.objects.in_bulk({line.user_id for line in payload.authorizations if line.user_id})
        context["authorizations"] = [
            {
                "user": users.get(line.user_id, ""),
                "scope": line.label or line.scope,
                "level": line.level,
                "years": line.years,
                "branch": line.branch_number,
            }
            for line in payload.authorizations
        ]
    elif isinstance(payload, payloads.MeansRenewalPayload):
        context["renewal"] = payload
    elif isinstance(payload, payloads.LinkUserPayload):
        context["from_organization"] = Organization.objects.filter(pk=payload.from_organization_id).first()
    if payload.signers:
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
