"""The rows of the Permissions list, ready to print.

A row shows some twenty texts: names, dates, links and the labels a screen reader
reads for its buttons. Rendering them in the template cost an include, three
``{% url %}`` and half a dozen ``{% blocktranslate %}`` per row, most of the page's
time. Here what rows share is worked out once per page (the translated phrases, the
address pattern of each action, each distinct date), and the row template is
rendered once per shape (``reconi.rendering``): a row that looks like one rendered
before — same status, same actions — is that row's HTML with its own texts.
"""

from dataclasses import dataclass, field

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext

from authorizations.models import AuthorizationStatus
from reconi.rendering import ShapeRenderer

# A stand-in id, reversed once and replaced by each row's id.
_ID = 987654321
STATUS_BADGE = {
    AuthorizationStatus.ACTIVE: "text-bg-success",
    AuthorizationStatus.PENDING: "text-bg-info",
    AuthorizationStatus.REVOKED: "text-bg-danger",
    AuthorizationStatus.EXPIRED: "text-bg-secondary",
}


ROW_TEMPLATE = "authorizations/_permission_row.html"
_renderers: dict[str, ShapeRenderer] = {}  # per language, for the life of the process


def _render_row(context: dict) -> tuple[str]:
    return (render_to_string(ROW_TEMPLATE, context),)


def render_rows(rows: list, *, context: dict) -> list[str]:
    """The HTML of each row; ``context`` holds what every row shares (next, csrf_token, ...)."""
    language = get_language()
    renderer = _renderers.get(language)
    if renderer is None:
        renderer = _renderers.setdefault(language, ShapeRenderer(_render_row, [ROW_TEMPLATE]))
    return [mark_safe(renderer({**context, "row": row})[0]) for row in rows]  # noqa: S308 - rendered by Django


@dataclass
class PermissionRow:
    authorization: object
    pk: str  # as text: a number would make every row a shape of its own
    status: str
    status_label: str
    badge: str
    user_name: str
    scope: str
    branch: str
    until_iso: str
    until: str
    expiring_soon: bool
    renewable: bool
    select_label: str = ""
    renew_url: str = ""
    renew_action: str = ""
    renew_label: str = ""
    renew_options: list = field(default_factory=list)  # [(years, label, new end date as text)]
    revoke_url: str = ""
    revoke_label: str = ""
    activate_url: str = ""
    activate_action: str = ""
    activate_label: str = ""
    revoked_on: str = ""


class PermissionRows:
    """Builds the rows of one page; ``renew_options(valid_until)`` gives [(years, label, date)]."""

    def __init__(self, *, next_url: str, expiring_until, renew_options):
        self.expiring_until = expiring_until
        self.renew_options = renew_options
        self.next_query = "?" + urlencode({"next": next_url})
        self.urls = {
            name: reverse(name, args=[_ID]) for name in ("permission_renew", "permission_revoke", "permission_activate")
        }
        self.phrases = {
            "select": gettext("Select the permission of %(user)s for %(scope)s"),
            "renew": gettext("Renew the permission of %(user)s for %(scope)s"),
            "revoke": gettext("Revoke the permission of %(user)s for %(scope)s"),
            "activate": gettext("the permission of %(user)s for %(scope)s"),
            "until": gettext("until %(date)s"),
            "revoked_on": gettext("Revoked on %(date)s"),
            "branch": gettext("branch %(number)s"),
        }
        self.status_labels = {status: str(status.label) for status in AuthorizationStatus}
        self._dates: dict = {}

    def date(self, value) -> str:
        try:
            return self._dates[value]
        except KeyError:
            text = self._dates[value] = date_format(value, "SHORT_DATE_FORMAT")
            return text

    def options(self, periods) -> list[tuple]:
        """[(years, label, new end date)] with the date as the menu shows it."""
        return [(years, label, self.phrases["until"] % {"date": self.date(until)}) for years, label, until in periods]

    def url(self, name: str, pk: int) -> str:
        return self.urls[name].replace(str(_ID), str(pk)) + self.next_query

    def action_url(self, name: str, pk: int) -> str:
        """Where the row's form posts (the next page travels in a hidden field)."""
        return self.urls[name].replace(str(_ID), str(pk))

    def row(self, authorization) -> PermissionRow:
        status = authorization.status_value
        user = authorization.user
        names = {"user": str(user), "scope": authorization.scope_label}
        row = PermissionRow(
            authorization=authorization,
            pk=str(authorization.pk),
            status=status,
            status_label=self.status_labels[status],
            badge=STATUS_BADGE.get(status, "text-bg-secondary"),
            user_name=user.get_full_name() or user.email,
            scope=names["scope"],
            branch=self.phrases["branch"] % {"number": authorization.branch_number}
            if authorization.branch_number
            else "",
            until_iso=authorization.valid_until.isoformat(),
            until=self.date(authorization.valid_until),
            expiring_soon=(
                status == AuthorizationStatus.ACTIVE
                and self.expiring_until is not None
                and authorization.valid_until <= self.expiring_until
            ),
            renewable=status in (AuthorizationStatus.ACTIVE, AuthorizationStatus.PENDING),
        )
        pk = authorization.pk
        if row.renewable:
            row.select_label = self.phrases["select"] % names
            row.renew_url = self.url("permission_renew", pk)
            row.renew_action = self.action_url("permission_renew", pk)
            row.renew_label = self.phrases["renew"] % names
            row.renew_options = self.options(self.renew_options(authorization.valid_until))
            row.revoke_url = self.url("permission_revoke", pk)
            row.revoke_label = self.phrases["revoke"] % names
        elif status == AuthorizationStatus.EXPIRED:
            row.activate_url = self.url("permission_activate", pk)
            row.activate_action = self.action_url("permission_activate", pk)
            row.activate_label = self.phrases["activate"] % names
        elif status == AuthorizationStatus.REVOKED:
            revoked_on = timezone.localtime(authorization.revoked_at).date()
            row.revoked_on = self.phrases["revoked_on"] % {"date": self.date(revoked_on)}
        return row
