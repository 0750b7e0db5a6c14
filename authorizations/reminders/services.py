"""The reminder job (rule 14): claim what is due, queue one email per recipient.

Run daily by beat (``authorizations.tasks``) and by ``manage.py send_renewal_reminders``.
Each reminder is claimed once in the ``notifications.RenewalReminder`` ledger, in the
same transaction as its outbox rows.
"""

import datetime
import hashlib
import itertools
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import quote

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext

from notifications.models import RenewalReminder
from notifications.services import EmailSpec, email_queue_many, recipient_language
from organizations.roles import managers_of
from reconi.bulk import insert_ignoring_conflicts
from users.models import User

from .selectors import DueItem, reminders_due

logger = logging.getLogger("reconi.notifications")

# A digest lists at most this many rows (and preselects them on the renew page).
DIGEST_MAX_ROWS = 200


@dataclass
class PlannedEmail:
    kind: str
    recipient: object
    items: list[DueItem]
    context: dict = field(default_factory=dict)

    @property
    def dedupe_key(self) -> str:
        # Derived from the reminders it carries: the same reminders can never make two emails.
        digest = hashlib.sha256("|".join(sorted(item.key for item in self.items)).encode()).hexdigest()[:24]
        role = "user" if self.kind == "renewal_reminder_user" else "manager"
        return f"reminder:{role}:{self.recipient.pk}:{digest}"


@dataclass
class ReminderRun:
    due: int = 0
    claimed: int = 0
    queued: int = 0
    failed: int = 0
    plan: list[PlannedEmail] = field(default_factory=list)


def _claim(items: list[DueItem], run: uuid.UUID, *, fast: bool = True) -> list[DueItem]:
    """Insert a ledger row per reminder; keep the ones this run inserted.

    ON CONFLICT DO NOTHING on the unique key: a concurrent run's insert of the same
    key waits for ours to commit and then inserts nothing. Sorted keys keep two
    runs from locking each other in opposite orders.
    """
    rows = sorted(
        (
            RenewalReminder(
                key=item.key,
                target=item.target,
                object_id=item.obj.pk,
                valid_until=item.obj.valid_until,
                stage=item.stage,
                run=run,
            )
            for item in items
        ),
        key=lambda row: row.key,
    )
    if fast:
        mine = insert_ignoring_conflicts(RenewalReminder, rows, returning="key")
    else:
        RenewalReminder.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2000)
        mine = set(RenewalReminder.objects.filter(run=run).values_list("key", flat=True))
    return [item for item in items if item.key in mine]


def _plan(items: list[DueItem], today: datetime.date) -> list[PlannedEmail]:
    authorization_items = [item for item in items if item.target == RenewalReminder.Target.AUTHORIZATION]
    managers = managers_of(organization_ids={item.obj.organization_id for item in authorization_items}, today=today)
    users: dict[int, User] = {item.user_id: item.user for item in items}  # joined in by reminders_due

    per_user: dict[int, list[DueItem]] = defaultdict(list)
    per_manager: dict[int, list[DueItem]] = defaultdict(list)
    manager_users: dict[int, User] = {}
    for item in items:
        per_user[item.user_id].append(item)
        if item.target == RenewalReminder.Target.AUTHORIZATION:
            for manager in managers.get(item.obj.organization_id, []):
                per_manager[manager.pk].append(item)
                manager_users[manager.pk] = manager

    plan = []
    for user_id, user_items in per_user.items():
        user = users[user_id]
        if not user.is_active:
            continue
        organization_ids = {i.obj.organization_id for i in user_items if i.target == "authorization"}
        plan.append(
            PlannedEmail(
                "renewal_reminder_user",
                user,
                user_items,
                {"managers": {org_id: managers.get(org_id, []) for org_id in organization_ids}},
            )
        )
    for manager_id, manager_items in per_manager.items():
        plan.append(PlannedEmail("renewal_reminder_manager", manager_users[manager_id], manager_items))
    return plan


class _Phrases:
    """Per-run cache of what many reminders share: dates, links, "ask your manager" lines.

    Thirty thousand reminders fall on some sixty dates and a few thousand
    organisations; formatting each once per language keeps a run well under a minute.
    """

    def __init__(self, today: datetime.date):
        self.today = today
        self._cache: dict = {}

    def _get(self, key, make):
        try:
            return self._cache[key]
        except KeyError:
            value = self._cache[key] = make()
            return value

    def until(self, valid_until: datetime.date, language: str) -> str:
        def make():
            days_left = (valid_until - self.today).days
            with translation.override(language):
                return ngettext(
                    "valid until %(until)s (in %(days)s day)",
                    "valid until %(until)s (in %(days)s days)",
                    days_left,
                ) % {"until": date_format(valid_until, "j F Y"), "days": days_left}

        return self._get(("until", valid_until, language), make)

    def path(self, name: str, language: str) -> str:
        def make():
            with translation.override(language):
                return reverse(name)

        return self._get(("path", name, language), make)

    def ask(self, organization_id: int, managers: list, language: str) -> str:
        def make():
            with translation.override(language):
                if not managers:
                    return gettext(
                        "Your organisation has no authorization manager; ask your director to arrange the renewal."
                    )
                names = ", ".join(f"{m.get_full_name() or m.email} <{m.email}>" for m in managers)
                return gettext("Ask your authorization manager to renew it: %(managers)s") % {"managers": names}

        return self._get(("ask", organization_id, language), make)

    @staticmethod
    def ask_subject(authorization) -> str:
        """In the language active around the caller (one override per email, not per row)."""
        return quote(
            gettext("Please renew my authorization for %(scope)s at %(organization)s")
            % {"scope": authorization.scope_label, "organization": authorization.organization.name},
            safe="",
        )


def _reminder_context(planned: PlannedEmail, phrases: _Phrases, language: str) -> dict:
    rows = sorted(planned.items, key=lambda item: (item.obj.valid_until, item.target, item.obj.pk))
    is_user_email = planned.kind == "renewal_reminder_user"
    authorizations = []
    for item in rows:
        if item.target != RenewalReminder.Target.AUTHORIZATION:
            continue
        authorization = item.obj
        row = {
            "authorization": authorization,
            "organization": authorization.organization.name,
            "scope": authorization.scope_label,
            "until": phrases.until(authorization.valid_until, language),
        }
        if is_user_email:
            managers = planned.context.get("managers", {}).get(authorization.organization_id, [])
            row["managers"] = managers
            row["ask"] = phrases.ask(authorization.organization_id, managers, language)
            row["ask_subject"] = phrases.ask_subject(authorization) if managers else ""
        authorizations.append(row)
    means = [
        {
            "means": item.obj,
            "until": phrases.until(item.obj.valid_until, language),
            # The holder's own renewal page (login required, the holder only).
            "renew_url": settings.PORTAL_BASE_URL + reverse("means_renew", kwargs={"pk": item.obj.pk}),
        }
        for item in rows
        if item.target == RenewalReminder.Target.MEANS
    ]
    shown = authorizations[:DIGEST_MAX_ROWS]
    ids = ",".join(str(row["authorization"].pk) for row in shown)
    return {
        "authorizations": shown,
        "more": len(authorizations) - len(shown),
        "total": len(authorizations),
        "means_list": means,
        "renew_url": settings.PORTAL_BASE_URL + phrases.path("permission_renew_many", language) + f"?ids={ids}",
        "home_url": settings.PORTAL_BASE_URL + phrases.path("home", language),
    }


def renewal_reminders_send(
    *, today: datetime.date | None = None, dry_run: bool = False, fast: bool = True
) -> ReminderRun:
    """One run of the reminder job: claim what is due, queue one email per recipient.

    Exactly once per (object, valid_until, stage), also with two runs at once: the
    claim and the outbox rows commit together, or neither does. The emails are
    rendered once per shape (``reconi.rendering``); ``fast=False`` renders
    each one in full and inserts through the ORM, as before, for the benchmark's comparison.
    """
    today = today or timezone.localdate()
    run = ReminderRun()
    with transaction.atomic():
        items = reminders_due(today=today)
        run.due = len(items)
        if not dry_run:
            items = _claim(items, uuid.uuid4(), fast=fast)
        run.claimed = len(items)
        run.plan = _plan(items, today)
        if dry_run:
            return run
        phrases = _Phrases(today)
        # Grouped by language, so each language is switched to once per run rather than per email.
        for language, group in itertools.groupby(
            sorted(run.plan, key=lambda planned: recipient_language(planned.recipient)),
            key=lambda planned: recipient_language(planned.recipient),
        ):
            with translation.override(language):
                queued, failed = email_queue_many(
                    fast=fast,
                    emails=[
                        EmailSpec(
                            planned.kind,
                            planned.recipient,
                            _reminder_context(planned, phrases, language),
                            planned.dedupe_key,
                        )
                        for planned in group
                    ],
                )
            run.queued += queued
            run.failed += failed
    logger.info("Renewal reminders: %s due, %s claimed, %s emails queued", run.due, run.claimed, run.queued)
    return run
