"""What every request service shares.

Creating and cancelling a request, locking it, moving its status,
recording its audit event, links into the portal and emails about a request.

Status changes go through ``_transition`` (the allowed ones live in ``Request.TRANSITIONS``).
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from notifications.services import email_queue
from organizations.models import Organization
from organizations.roles import manager_level_for, require_manager_or_support
from users.models import User

from .. import payloads
from ..models import Request, SigningToken


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


def _require_manager(actor: User, organization: Organization) -> str:
    """The actor's manager level in ``organization``; anyone else gets PermissionDenied (rule 9)."""
    level = manager_level_for(actor, organization)
    if level is None:
        raise PermissionDenied("You do not manage this organisation.")
    return level


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


@transaction.atomic
def request_create(
    *,
    actor: User | None,
    kind: str,
    organization: Organization,
    payload: payloads.Payload,
    subject_user: User | None = None,
    level: str = "",
    reason: str = "",
    language: str | None = None,
) -> Request:
    """Create a draft request. Permission checks belong to the caller's service.

    ``payload`` is the dataclass of ``kind`` (``requests_app.payloads``); ``full_clean``
    checks it against the schema once more, as stored.
    """
    request = Request(
        kind=kind,
        organization=organization,
        created_by=actor if getattr(actor, "pk", None) else None,
        subject_user=subject_user,
        level=level,
        reason=reason,
        language=language or getattr(actor, "language", None) or "nl",
    )
    request.set_payload(payload)
    request.full_clean(exclude=["pdf", "signed_pdf"])
    request.save()
    _audit(actor=actor, request=request, action="request.create", data={"kind": kind, "level": level})
    return request


def _revoke_open_tokens(request: Request, now) -> None:
    SigningToken.objects.filter(request=request, used_at__isnull=True, revoked_at__isnull=True).update(revoked_at=now)


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
