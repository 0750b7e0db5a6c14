"""Managers ask for new means (one person or several, also from a CSV file) and for upgrades."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from organizations.models import Membership, Organization
from reconi.levels import AssuranceLevel
from users.models import Means, User
from users.rules import upgrade_levels, upgrade_needs_representative

from .. import payloads
from ..models import Request
from ..signing import signer_requirement
from .checks import people_check
from .core import _audit, _require_manager, request_create
from .signatures import _send_for_signature


@transaction.atomic
def means_request_create(*, actor: User, organization: Organization, people: list[dict], reason: str = "") -> Request:
    """A manager asks for new means for one or several people (a draft to sign)."""
    manager_level = _require_manager(actor, organization)
    if not people:
        raise ValidationError(_("Add at least one person."), code="empty")
    results = people_check(actor=actor, people=people, organization=organization, manager_level=manager_level)
    problems = [(index, errors) for index, (_cleaned, errors) in enumerate(results, start=1) if errors]
    if problems:
        if len(results) == 1:
            raise ValidationError(problems[0][1], code="invalid_person")
        raise ValidationError(
            [
                _("Row %(row)s: %(errors)s")
                % {"row": index, "errors": " ".join(m for messages in errors.values() for m in messages)}
                for index, errors in problems
            ],
            code="invalid_people",
        )
    cleaned_people = [cleaned for cleaned, _errors in results]
    request = request_create(
        actor=actor,
        kind=Request.Kind.NEW_MEANS,
        organization=organization,
        payload=payloads.NewMeansPayload(people=tuple(payloads.parse(payloads.Person, p) for p in cleaned_people)),
        level=AssuranceLevel.highest(p["level"] for p in cleaned_people) or "",
        reason=reason,
    )
    _audit(actor=actor, request=request, action="request.means", data={"people": [p["email"] for p in cleaned_people]})
    return request


def means_request_create_bulk(
    *, actor: User, organization: Organization, rows: list[dict], only_valid: bool = False, reason: str = ""
) -> tuple[Request | None, int]:
    """One request for the rows of an uploaded CSV.

    Nothing is saved while any row is invalid, unless ``only_valid``: then the
    valid rows make the request and the rest is left out. Returns the request
    (None when no row was valid) and how many rows were left out.
    """
    with transaction.atomic():
        manager_level = _require_manager(actor, organization)
        results = people_check(actor=actor, people=rows, organization=organization, manager_level=manager_level)
        valid = [cleaned for cleaned, errors in results if not errors]
        skipped = len(results) - len(valid)
        if skipped and not only_valid:
            raise ValidationError(
                _("%(count)s row(s) have errors; correct them or submit only the valid rows.") % {"count": skipped},
                code="invalid_rows",
            )
        if not valid:
            raise ValidationError(_("No row is valid; nothing was saved."), code="no_valid_rows")
        request = means_request_create(actor=actor, organization=organization, people=valid, reason=reason)
        return request, skipped


@transaction.atomic
def upgrade_request_create(
    *, actor: User, organization: Organization, user: User, level: str, reason: str = ""
) -> Request:
    """A manager asks to raise a user's means to a higher level; it keeps its authorizations.

    Up to the manager's own level the manager signs the draft. Above it the form goes to the
    representative(s) to sign at once, and support checks the holder's identity in person.
    """
    manager_level = _require_manager(actor, organization)
    if not Membership.objects.filter(user=user, organization=organization).exists():
        raise PermissionDenied("The user is not linked to this organisation.")
    means = Means.objects.active().filter(owner=user).first()
    if means is None:
        raise ValidationError({"level": _("%(user)s has no active means to upgrade.") % {"user": user}})
    if level not in AssuranceLevel.values:
        raise ValidationError({"level": _("Unknown assurance level.")})
    if level not in upgrade_levels(means.level):
        raise ValidationError(
            {"level": _("An upgrade must be to a level above %(level)s.") % {"level": means.level}}, code="not_higher"
        )
    if Request.objects.filter(kind=Request.Kind.UPGRADE, subject_user=user, status__in=Request.OPEN_STATUSES).exists():
        raise ValidationError(_("An upgrade for %(user)s is already in progress.") % {"user": user}, code="duplicate")
    in_person = upgrade_needs_representative(to_level=level, manager_level=manager_level)
    request = request_create(
        actor=actor,
        kind=Request.Kind.UPGRADE,
        organization=organization,
        subject_user=user,
        level=level,
        payload=payloads.UpgradePayload(
            means_id=means.pk, from_level=means.level, to_level=level, in_person_check=in_person
        ),
        reason=reason,
    )
    if in_person:
        # Above the manager's own level: the representative signs (the manager cannot), and support
        # checks the holder's identity face to face before fulfilling.
        request = _send_for_signature(actor=actor, request=request, requirement=signer_requirement(organization))
    return request
