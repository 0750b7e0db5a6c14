""" "Become an authorization manager": the application (the representatives sign) and support's approval."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from notifications.services import email_queue
from organizations.models import Organization
from organizations.roles import manager_level_for
from organizations.services import manager_appoint
from reconi.levels import AssuranceLevel
from reconi.roles import require_support
from users.models import Means, User

from .. import payloads
from ..models import Request
from ..signing import (
    is_complete,
    signer_requirement,
)
from .core import _audit, _decide, _locked, _transition, request_create
from .signatures import _send_for_signature


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
        payload=payloads.AppointManagerPayload(
            manager=payloads.ManagerDetails(
                name=actor.get_full_name() or actor.email, email=actor.email, date_of_birth=actor.date_of_birth
            ),
            means_level=means.level,
        ),
    )
    return _send_for_signature(actor=actor, request=request, requirement=requirement)


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
