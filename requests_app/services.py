"""Writes on requests: creating, sending for signature, signing, deciding.

Every function is keyword-only, runs in one transaction and records an audit
event. Status changes go through ``_transition`` (the allowed ones live in
``Request.TRANSITIONS``).
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from organizations.models import Organization
from users.models import User

from .models import Request


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
    return Request.objects.select_for_update().get(pk=request.pk)


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
    audit_record(
        actor=actor,
        action="request.create",
        obj=request,
        organization=organization,
        data={"kind": kind, "number": request.number, "level": level},
    )
    return request


@transaction.atomic
def appointment_apply(*, actor: User, organization: Organization, level: str, reason: str = "") -> Request:
    """ "Become an authorization manager": the actor applies for manager rights.

    Rule 3: the level must equal the applicant's means. Rule 10: the request is
    signed by the organisation's representatives, never by a manager. Sends the
    signing links.
    """
    raise NotImplementedError


@transaction.atomic
def request_send_for_signature(*, actor: User | None, request: Request) -> Request:
    """Freeze the form as PDF, work out who must sign (rule 10) and email them links."""
    raise NotImplementedError


@transaction.atomic
def request_sign_as_representative(
    *, token, name: str, date_of_birth, consent_text: str, ip_address: str | None = None
) -> "Request":
    """Sign through an emailed link (identity and one-time code checked before)."""
    raise NotImplementedError


@transaction.atomic
def request_sign_as_manager(*, actor: User, request: Request, ip_address: str | None = None) -> Request:
    """A manager signs instead of the representative (not for appointments: rule 10)."""
    raise NotImplementedError


@transaction.atomic
def appointment_approve(*, actor: User, request: Request) -> Request:
    """Support approves a signed appointment: the manager role is granted (manager_appoint)."""
    raise NotImplementedError


@transaction.atomic
def request_cancel(*, actor: User, request: Request, reason: str = "") -> Request:
    raise NotImplementedError


def _not_for_appointments(request: Request) -> None:
    if request.kind == Request.Kind.APPOINT_MANAGER:
        raise PermissionDenied("A manager cannot appoint a manager.")
