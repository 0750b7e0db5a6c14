"""Linking a user to another organisation the manager manages (rule 9).

The user is emailed and accepts or declines on their home page; the acceptance is the form's signature.
"""

from dataclasses import replace

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from organizations.models import Membership, Organization
from reconi.links import portal_url_for
from users.models import User

from .. import payloads
from ..models import Request
from .core import _audit, _decide, _email_about, _locked, _require_manager, _transition, request_create


def linkable_users(*, manager: User):
    """People the manager may ask to link: linked to an organisation the manager manages."""
    managed = Organization.objects.managed_by(manager)
    return User.objects.filter(is_active=True, memberships__organization__in=managed).distinct()


@transaction.atomic
def link_request_create(*, actor: User, user: User, organization: Organization, reason: str = "") -> Request:
    """Ask ``user`` (seen in another of my organisations) to be linked to ``organization`` (rule 9).

    The user is emailed and accepts or declines on their home page.
    """
    _require_manager(actor, organization)
    source = (
        Membership.objects.filter(user=user, organization__in=Organization.objects.managed_by(actor))
        .exclude(organization=organization)
        .select_related("organization")
        .first()
    )
    if Membership.objects.filter(user=user, organization=organization).exists():
        raise ValidationError(
            {
                "user": _("%(user)s is already linked to %(organization)s.")
                % {"user": user, "organization": organization.name}
            },
            code="duplicate_link",
        )
    if source is None:
        # Not visible to this manager at all: the same answer as for a stranger.
        raise PermissionDenied("The user is not in an organisation you manage.")
    # Serialise link requests for one person, so two clicks make one request.
    User.objects.select_for_update().filter(pk=user.pk).first()
    if Request.objects.filter(
        kind=Request.Kind.LINK_USER, subject_user=user, organization=organization, status__in=Request.OPEN_STATUSES
    ).exists():
        raise ValidationError(
            {
                "user": _("%(user)s was already asked to link to %(organization)s.")
                % {"user": user, "organization": organization.name}
            },
            code="duplicate_request",
        )
    request = request_create(
        actor=actor,
        kind=Request.Kind.LINK_USER,
        organization=organization,
        subject_user=user,
        payload=payloads.LinkUserPayload(
            from_organization_id=source.organization_id, from_organization=source.organization.name
        ),
        reason=reason,
    )
    request = _locked(request)
    # The user's acceptance is this form's signature.
    _transition(request, Request.Status.AWAITING_SIGNATURE)
    request.save(update_fields=["status", "updated_at"])
    _audit(
        actor=actor,
        request=request,
        action="request.link_ask",
        data={"user": user.email, "from": source.organization.name},
    )
    _email_link_request(request)
    return request


def _email_link_request(request: Request, *, resend: bool = False) -> None:
    user = request.subject_user
    _email_about(
        request,
        kind="link_request",
        to=user,
        dedupe_key=None if resend else f"link_request:{request.pk}",
        from_organization=request.payload_for_link_user().from_organization,
        manager=str(request.created_by or ""),
        home_url=portal_url_for(user, "home"),
    )


def _lock_link_for(actor: User, request: Request) -> Request:
    request = _locked(request)
    if request.kind != Request.Kind.LINK_USER or request.subject_user_id != actor.pk:
        # Someone else's link: the view answers 404.
        raise PermissionDenied("This link request is not addressed to you.")
    if request.status != Request.Status.AWAITING_SIGNATURE:
        if request.status == Request.Status.FULFILLED:
            raise ValidationError(_("You already accepted this link."), code="already_accepted")
        raise ValidationError(_("This link request is no longer open."), code="not_open")
    return request


@transaction.atomic
def link_request_accept(*, actor: User, request: Request) -> Request:
    """The user accepts: they are linked and become visible to the organisation's managers."""
    from organizations.services import membership_link

    request = _lock_link_for(actor, request)
    membership_link(actor=actor, user=actor, organization=request.organization, via=request)
    # The acceptance is the signature and the decision: the link is made at once.
    _transition(request, Request.Status.SUBMITTED)
    _decide(request, actor=actor, status=Request.Status.APPROVED)
    _transition(request, Request.Status.FULFILLED)
    request.save()
    _audit(actor=actor, request=request, action="request.link_accept", data={"user": actor.email})
    _email_link_answer(request, accepted=True)
    return request


@transaction.atomic
def link_request_decline(*, actor: User, request: Request) -> Request:
    request = _lock_link_for(actor, request)
    _decide(request, actor=actor, status=Request.Status.CANCELLED)
    request.set_payload(replace(request.payload_for_link_user(), declined=True))
    request.save()
    _audit(actor=actor, request=request, action="request.link_decline", data={"user": actor.email})
    _email_link_answer(request, accepted=False)
    return request


def _email_link_answer(request: Request, *, accepted: bool) -> None:
    manager = request.created_by
    if manager is None:
        return
    _email_about(
        request,
        kind="link_request_answered",
        to=manager,
        dedupe_key=f"link_request_answered:{request.pk}",
        user_name=str(request.subject_user),
        accepted=accepted,
        detail_url=portal_url_for(manager, "request_detail", pk=request.pk),
    )
