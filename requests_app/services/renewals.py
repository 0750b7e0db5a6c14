"""Renewing a means: the holder asks, a manager approves or the representative signs, support fulfils.

Who decides (the renewal email's link leads here):

- a working manager of the organisation at or above the means' level approves it
  in My Reconi and the means is renewed at once ("fully digitally");
- without one, the representative(s) sign the form through the emailed signing
  link, and support fulfils the signed request in the admin.

Every path ends in ``users.services.means_extend``, which renews from the end date
the holder saw and never twice for one request (the request and the means are
locked and re-read; the request moves to fulfilled once).
"""

import datetime
from dataclasses import replace

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from organizations.models import Membership, Organization
from organizations.roles import manager_level_over, managers_of
from organizations.services import means_extend
from reconi.levels import AssuranceLevel
from reconi.links import portal_url_for
from users.models import Means, User
from users.rules import manager_may_renew_refusal, means_renewal_refusal, renewal_end, renewal_price

from .. import payloads
from ..models import Request
from ..signing import signer_requirement
from .core import _audit, _decide, _email_about, _locked, _transition, request_create
from .signatures import _send_for_signature


def renewal_approvers(*, organization: Organization, level: str, today: datetime.date | None = None) -> list[User]:
    """The working managers of ``organization`` who may renew a means of ``level`` (rule 3)."""
    today = today or timezone.localdate()
    managers = managers_of(organization_ids=[organization.pk], today=today).get(organization.pk, [])
    if not managers:
        return []
    levels = dict(
        Membership.objects.filter(organization=organization, user__in=managers).values_list("user_id", "manager_level")
    )
    return [m for m in managers if AssuranceLevel.is_at_most(level, levels.get(m.pk) or AssuranceLevel.EH2)]


def open_renewal_for(means: Means) -> Request | None:
    return (
        Request.objects.filter(
            kind=Request.Kind.MEANS_RENEWAL, payload__means_id=means.pk, status__in=Request.OPEN_STATUSES
        )
        .order_by("-created_at")
        .first()
    )


@transaction.atomic(durable=True)
def means_renewal_request_create(*, actor: User, means: Means, organization: Organization, years) -> Request:
    """The holder asks to renew their own means (the link in the renewal reminder).

    The means row is locked and re-read first, so a double submit makes one request.
    """
    means = Means.objects.select_for_update(of=("self",)).select_related("owner").get(pk=means.pk)
    if means.owner_id != actor.pk:
        raise PermissionDenied("A means is renewed at the request of its holder only.")
    if not Membership.objects.filter(user=actor, organization=organization).exists():
        raise ValidationError(
            {"organization": _("You are not linked to %(organization)s.") % {"organization": organization.name}},
            code="not_linked",
        )
    today = timezone.localdate()
    refusal = means_renewal_refusal(means=means, years=years, today=today)
    if refusal is not None:
        raise ValidationError({"period": refusal.message}, code=refusal.code)
    existing = open_renewal_for(means)
    if existing is not None:
        raise ValidationError(
            _("You already asked to renew this means (request %(number)s); it is being handled.")
            % {"number": existing.number},
            code="duplicate",
        )
    request = request_create(
        actor=actor,
        kind=Request.Kind.MEANS_RENEWAL,
        organization=organization,
        subject_user=actor,
        level=means.level,
        payload=payloads.MeansRenewalPayload(
            means_id=means.pk,
            years=years,
            valid_until=means.valid_until,
            new_valid_until=renewal_end(valid_until=means.valid_until, years=years, today=today),
            price=renewal_price(level=means.level, years=years),
        ),
        language=actor.language,
    )
    approvers = renewal_approvers(organization=organization, level=means.level, today=today)
    if approvers:
        _transition(request, Request.Status.AWAITING_SIGNATURE)
        request.set_payload(replace(request.payload_for_means_renewal(), approvers=tuple(m.pk for m in approvers)))
        request.save()
        _audit(
            actor=actor, request=request, action="request.ask_manager", data={"managers": [m.email for m in approvers]}
        )
        for manager in approvers:
            _email_about(
                request,
                kind="means_renewal_approve",
                to=manager,
                dedupe_key=f"means_renewal_approve:{request.pk}:{manager.pk}",
                holder=str(actor),
                level=means.level,
                years=years,
                valid_until=means.valid_until,
                new_valid_until=request.payload_for_means_renewal().new_valid_until,
                detail_url=portal_url_for(manager, "request_detail", pk=request.pk),
            )
    else:
        request = _send_for_signature(actor=actor, request=request, requirement=signer_requirement(organization))
    return request


@transaction.atomic(durable=True)
def means_renewal_approve(*, actor: User, request: Request) -> Request:
    """A manager approves a holder's renewal request: the means is renewed at once."""
    request = _locked(request)
    if request.kind != Request.Kind.MEANS_RENEWAL:
        raise ValidationError(_("Only a means renewal is approved this way."), code="wrong_kind")
    if request.status != Request.Status.AWAITING_SIGNATURE:
        raise ValidationError(_("This renewal request no longer awaits approval."), code="not_awaiting")
    if not Organization.objects.managed_by(actor).filter(pk=request.organization_id).exists():
        raise PermissionDenied("Only a manager of the organisation approves a renewal.")
    manager_level, _organization = manager_level_over(actor=actor, owner=request.subject_user)
    refusal = manager_may_renew_refusal(
        manager_level=manager_level,
        means=Means.objects.select_related("owner").get(pk=request.payload_for_means_renewal().means_id),
    )
    if refusal is not None:
        raise ValidationError(refusal.message, code=refusal.code)
    _transition(request, Request.Status.SUBMITTED)
    _decide(request, actor=actor, status=Request.Status.APPROVED)
    _transition(request, Request.Status.FULFILLED)
    results = renewal_carry_out(actor=actor, request=request)
    request.save()
    _audit(actor=actor, request=request, action="request.fulfil", data={"kind": request.kind, **results})
    return request


def renewal_carry_out(*, actor: User, request: Request) -> dict:
    """Renew the request's means; the caller holds the request's lock and moves it to fulfilled."""
    payload = request.payload_for_means_renewal()
    means = means_extend(
        actor=actor,
        means=Means(pk=payload.means_id),
        years=payload.years,
        seen_valid_until=payload.valid_until,
        organization=request.organization,
        request_number=request.number,
    )
    request.set_payload(replace(payload, renewed_until=means.valid_until))
    return {"means": means.pk, "valid_until": means.valid_until.isoformat()}
