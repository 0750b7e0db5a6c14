"""Request new permissions: organisation -> user -> level -> services -> review -> confirm.

The steps are plain GET forms (they only read); the query string carries what
was chosen so far, and every id in it is validated again by the step's scoped
form on each request. Adding a line, removing one, clearing and confirming are
POSTs. The list of lines lives in the session under a per-wizard key (``w``),
so a validation error, a reload or a second tab loses nothing.
"""

import re
import secrets
import time
from dataclasses import dataclass, field

from dateutil.relativedelta import relativedelta
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from authorizations.models import Authorization, Service, ServiceProvider
from authorizations.selectors import service_provider_search, service_search, user_search
from authorizations.services import authorization_grant
from organizations.models import Membership, Organization
from organizations.rules import branch_restriction_refusal
from users.models import User

from ..forms.manage_permission_new import (
    AddLineForm,
    ConfirmForm,
    LevelStepForm,
    OrganizationStepForm,
    UnlinkedUserForm,
    UserStepForm,
    service_refusal,
)
from ..forms.manage_permissions import USER_SELECT_LIMIT
from ..guards import log_denied, manager_required

SESSION_KEY = "permission_wizards"
MAX_WIZARDS = 5  # wizards kept per session; the oldest is dropped
MAX_LINES = 200
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{8,32}")
ALL_WORD = "all"
USER_MATCHES = 50  # options in the user step's select once it searches (more than USER_SELECT_LIMIT linked)


# The session list ---------------------------------------------------------------------


def _wizard_key(data) -> str:
    key = data.get("w", "")
    return key if KEY_PATTERN.fullmatch(key) else secrets.token_urlsafe(9)


def _stored_lines(request, key: str) -> list[dict]:
    return list(request.session.get(SESSION_KEY, {}).get(key, {}).get("lines", []))


def _store_lines(request, key: str, lines: list[dict]) -> None:
    wizards = dict(request.session.get(SESSION_KEY, {}))
    if lines:
        wizards[key] = {"lines": lines, "touched": time.time()}
    else:
        wizards.pop(key, None)
    newest = sorted(wizards.items(), key=lambda item: item[1].get("touched", 0), reverse=True)[:MAX_WIZARDS]
    request.session[SESSION_KEY] = dict(newest)


@dataclass
class Line:
    """A stored line, its ids resolved again through what the manager may see now."""

    id: str
    level: str
    scope: str
    organization: Organization | None
    user: User | None
    service: Service | None
    provider: ServiceProvider | None
    branch: str = ""
    problem: str | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def scope_label(self) -> str:
        if self.scope == Authorization.Scope.SERVICE:
            return self.service.name if self.service else "?"
        if self.scope == Authorization.Scope.PROVIDER:
            return _("All services of %(provider)s") % {"provider": self.provider.name if self.provider else "?"}
        return _("All services at %(level)s") % {"level": self.level}


def _resolve_lines(request, raw_lines: list[dict]) -> list[Line]:
    """Look every id up again in scoped querysets; a line gone out of reach gets a problem."""
    organizations = Organization.objects.managed_by(request.user).in_bulk(
        {line.get("organization") for line in raw_lines}
    )
    user_ids = {line.get("user") for line in raw_lines}
    linked = set(
        Membership.objects.filter(organization__in=list(organizations), user_id__in=user_ids).values_list(
            "user_id", "organization_id"
        )
    )
    users = User.objects.in_bulk({user_id for user_id, _org in linked})
    services = Service.objects.select_related("provider").in_bulk({line.get("service") for line in raw_lines} - {None})
    providers = ServiceProvider.objects.in_bulk({line.get("provider") for line in raw_lines} - {None})
    lines = []
    for raw in raw_lines:
        organization = organizations.get(raw.get("organization"))
        user = users.get(raw.get("user")) if (raw.get("user"), raw.get("organization")) in linked else None
        line = Line(
            id=str(raw.get("id", "")),
            level=raw.get("level", ""),
            scope=raw.get("scope", ""),
            organization=organization,
            user=user,
            service=services.get(raw.get("service")),
            provider=providers.get(raw.get("provider")),
            branch=raw.get("branch") or "",
        )
        if organization is None:
            line.problem = _("You no longer manage this organisation.")
        elif user is None:
            line.problem = _("This user is no longer linked to the organisation.")
        elif line.scope == Authorization.Scope.SERVICE and line.service is None:
            line.problem = _("This service is no longer in the catalogue.")
        elif line.scope == Authorization.Scope.PROVIDER and line.provider is None:
            line.problem = _("This service provider is no longer in the catalogue.")
        lines.append(line)
    return lines


# The steps ----------------------------------------------------------------------------


@dataclass
class Wizard:
    """What the steps settled so far, each from a form scoped by the steps before it."""

    key: str
    organization_form: OrganizationStepForm
    organization: Organization | None = None
    show_unlinked: bool = False
    user_form: UserStepForm | None = None
    unlinked_form: UnlinkedUserForm | None = None
    user: User | None = None
    level_form: LevelStepForm | None = None
    level: str | None = None
    q: str = ""
    q_user: str = ""
    branch: str = ""
    branches: list = field(default_factory=list)
    branch_error: str = ""

    def state(self, **extra) -> dict:
        state = {"w": self.key}
        if self.organization:
            state["organization"] = self.organization.pk
        if self.show_unlinked:
            state["show_unlinked"] = "1"
        if self.q_user:
            state["q_user"] = self.q_user
        if self.user:
            state["user"] = self.user.pk
        if self.level:
            state["level"] = self.level
        if self.q:
            state["q"] = self.q
        if self.branch:
            state["branch"] = self.branch
        state.update(extra)
        return state

    def url(self, **extra) -> str:
        return f"{reverse('permission_new')}?{urlencode(self.state(**extra))}"

    @property
    def is_all(self) -> bool:
        return self.q.lower() == ALL_WORD


def _bound(data, name):
    """Bind a step's form only when its field was sent, so an untouched step shows no errors."""
    return data if data.get(name, "") != "" else None


def _log_foreign(request, form, name, what) -> None:
    if form.has_error(name, "invalid_choice"):
        log_denied(request, what, id=str(form.data.get(name, ""))[:40])


def _resolve(request, data) -> Wizard:
    manager = request.user
    organization_form = OrganizationStepForm(_bound(data, "organization"), manager=manager)
    if not organization_form.is_bound:
        # With one organisation there is nothing to choose.
        only = list(organization_form.fields["organization"].queryset[:2])
        if len(only) == 1:
            organization_form = OrganizationStepForm({"organization": only[0].pk}, manager=manager)
    wizard = Wizard(key=_wizard_key(data), organization_form=organization_form)
    if organization_form.is_bound and not organization_form.is_valid():
        _log_foreign(request, organization_form, "organization", "organizations.organization")
        return wizard
    if not organization_form.is_bound:
        return wizard
    organization = wizard.organization = organization_form.cleaned_data["organization"]

    wizard.show_unlinked = data.get("show_unlinked") == "1"
    wizard.q_user = str(data.get("q_user", "")).strip()[:100]
    if wizard.show_unlinked:
        wizard.unlinked_form = UnlinkedUserForm(
            _bound(data, "unlinked_user"), manager=manager, organization=organization
        )
        if wizard.unlinked_form.is_bound and not wizard.unlinked_form.is_valid():
            _log_foreign(request, wizard.unlinked_form, "unlinked_user", "users.user")
    wizard.user_form = UserStepForm(_bound(data, "user"), manager=manager, organization=organization)
    if not wizard.user_form.is_bound:
        return wizard
    if not wizard.user_form.is_valid():
        _log_foreign(request, wizard.user_form, "user", "users.user")
        return wizard
    user = wizard.user = wizard.user_form.cleaned_data["user"]

    wizard.level_form = LevelStepForm(_bound(data, "level"), manager=manager, organization=organization, user=user)
    if not wizard.level_form.is_bound or not wizard.level_form.is_valid():
        return wizard
    wizard.level = wizard.level_form.cleaned_data["level"]
    wizard.q = str(data.get("q", "")).strip()[:100]
    # Optional: restrict to one of the organisation's known branches (checked again on add and confirm).
    wizard.branches = list(organization.branches.order_by("number"))
    branch = str(data.get("branch", "")).strip()[:40]
    if branch:
        refusal = branch_restriction_refusal(
            branch_number=branch,
            known_branches=[b.number for b in wizard.branches],
            organization_name=organization.name,
            scope=Authorization.Scope.LEVEL,
        )
        if refusal is None:
            wizard.branch = branch
        else:
            wizard.branch_error = refusal.message
    return wizard


def _link_request_url(*, user, organization) -> str:
    """Where a link request for ``user`` at ``organization`` starts (the requests pages)."""
    return f"{reverse('request_new')}?{urlencode({'user': user.pk, 'organization': organization.pk})}"


def _review_url(key: str) -> str:
    return f"{reverse('permission_new')}?{urlencode({'w': key, 'step': 'review'})}"


# Pages --------------------------------------------------------------------------------


def _user_choices(wizard: Wizard) -> tuple[list, bool, bool]:
    """The user step's options: (users, searching, more_than_shown).

    Everyone linked while they are few; beyond USER_SELECT_LIMIT, the first USER_MATCHES
    whose name or email matches ``q_user`` (plus the chosen user), and a search box.
    """
    if wizard.user_form is None:
        return [], False, False
    users = wizard.user_form.fields["user"].queryset
    first = list(users[: USER_SELECT_LIMIT + 1])
    if len(first) <= USER_SELECT_LIMIT:
        return first, False, False
    matches = list(user_search(users, wizard.q_user)[: USER_MATCHES + 1])
    more = len(matches) > USER_MATCHES
    matches = matches[:USER_MATCHES]
    if wizard.user and wizard.user not in matches:
        matches.insert(0, wizard.user)
    return matches, True, more


def _render_page(request, wizard: Wizard, *, add_form=None, status=200):
    services, providers = [], []
    if wizard.level and wizard.q:
        if not wizard.is_all:
            services = [
                {
                    "service": service,
                    "refusal": service_refusal(service, wizard.level)
                    or branch_restriction_refusal(
                        branch_number=wizard.branch,
                        known_branches=[b.number for b in wizard.branches],
                        organization_name=wizard.organization.name,
                        scope=Authorization.Scope.SERVICE,
                        service=service,
                    ),
                }
                for service in service_search(q=wizard.q)
            ]
        providers = list(service_provider_search(q=wizard.q, services=[row["service"] for row in services]))
    lines = _resolve_lines(request, _stored_lines(request, wizard.key))
    linked_users, searching_users, more_users = _user_choices(wizard)
    context = {
        "wizard": wizard,
        "unlinked_users": list(wizard.unlinked_form.fields["unlinked_user"].queryset) if wizard.unlinked_form else [],
        "linked_users": linked_users,
        "user_search": searching_users,
        "more_users": more_users,
        "user_matches": USER_MATCHES,
        "level_options": wizard.level_form.options() if wizard.level_form else [],
        "services": services,
        "providers": providers,
        "add_form": add_form,
        "lines": lines,
        "review_url": _review_url(wizard.key),
    }
    return render(request, "authorizations/permission_new.html", context, status=status)


def _render_review(request, key: str, lines: list[Line], form: ConfirmForm, *, status=200):
    today = timezone.localdate()
    periods = [
        {"years": years, "label": label, "until": today + relativedelta(years=years)}
        for years, label in form.fields["period"].choices
    ]
    back = {"w": key}
    if lines and lines[-1].organization:
        back["organization"] = lines[-1].organization.pk
    context = {
        "key": key,
        "lines": lines,
        "form": form,
        "periods": periods,
        "selected_period": str(form["period"].value() or ""),
        "back_url": f"{reverse('permission_new')}?{urlencode(back)}",
        "today": today,
    }
    return render(request, "authorizations/permission_new_review.html", context, status=status)


@manager_required
@require_http_methods(["GET", "POST"])
def permission_new(request):
    if request.method == "POST":
        handler = {"add": _add, "remove": _remove, "clear": _clear, "confirm": _confirm}.get(request.POST.get("action"))
        if handler is None:
            return HttpResponseBadRequest(_("Unknown action."))
        return handler(request)
    if request.GET.get("step") == "review":
        key = _wizard_key(request.GET)
        return _render_review(request, key, _resolve_lines(request, _stored_lines(request, key)), ConfirmForm())
    wizard = _resolve(request, request.GET)
    if wizard.unlinked_form is not None and wizard.unlinked_form.is_bound and wizard.unlinked_form.is_valid():
        # Not linked here yet: the user must accept a link request first (rule 9).
        chosen = wizard.unlinked_form.cleaned_data["unlinked_user"]
        messages.info(
            request,
            _("%(user)s is not linked to %(organization)s yet. Once they accept the link, you can authorize them.")
            % {"user": chosen, "organization": wizard.organization.name},
        )
        return redirect(_link_request_url(user=chosen, organization=wizard.organization))
    return _render_page(request, wizard)


def _add(request):
    wizard = _resolve(request, request.POST)
    lines = _stored_lines(request, wizard.key)
    if wizard.level is None:
        messages.error(request, _("Nothing was added: complete the marked step first."))
        return _render_page(request, wizard)
    if wizard.branch_error:
        messages.error(request, _("Nothing was added: %(reason)s") % {"reason": wizard.branch_error})
        return _render_page(request, wizard)
    form = AddLineForm(
        request.POST,
        organization=wizard.organization,
        user=wizard.user,
        level=wizard.level,
        lines=lines,
        branch=wizard.branch,
    )
    if not form.is_valid():
        return _render_page(request, wizard, add_form=form)
    if len(lines) >= MAX_LINES:
        form.add_error(None, _("Your list is full; confirm it before adding more."))
        return _render_page(request, wizard, add_form=form)
    line = {"id": secrets.token_urlsafe(6), **form.line()}
    _store_lines(request, wizard.key, [*lines, line])
    resolved = _resolve_lines(request, [line])[0]
    messages.success(
        request,
        _("Added to your list: %(scope)s (%(level)s) for %(user)s.")
        % {
            "scope": resolved.scope_label
            + (" · " + _("branch %(number)s") % {"number": resolved.branch} if resolved.branch else ""),
            "user": wizard.user,
            "level": wizard.level,
        },
    )
    return redirect(wizard.url())


def _return_url(request, key: str) -> str:
    if request.POST.get("step") == "review":
        return _review_url(key)
    state = {"w": key}
    for name in ("organization", "user", "level", "q", "show_unlinked", "q_user", "branch"):
        value = str(request.POST.get(name, ""))[:100]
        if value:
            state[name] = value
    return f"{reverse('permission_new')}?{urlencode(state)}"


def _remove(request):
    key = _wizard_key(request.POST)
    lines = _stored_lines(request, key)
    remaining = [line for line in lines if line.get("id") != request.POST.get("line")]
    if len(remaining) < len(lines):
        _store_lines(request, key, remaining)
        messages.success(request, _("The line was removed from your list."))
    return redirect(_return_url(request, key))


def _clear(request):
    key = _wizard_key(request.POST)
    _store_lines(request, key, [])
    messages.success(request, _("Your list was cleared."))
    return redirect(_return_url(request, key))


def _confirm(request):
    key = _wizard_key(request.POST)
    raw_lines = _stored_lines(request, key)
    form = ConfirmForm(request.POST)
    if not raw_lines:
        messages.info(request, _("Your list is empty: add an authorization first."))
        return redirect(f"{reverse('permission_new')}?{urlencode({'w': key})}")
    lines = _resolve_lines(request, raw_lines)
    if not form.is_valid():
        return _render_review(request, key, lines, form)
    if not _grant_all(request, lines, years=form.cleaned_data["period"]):
        failed = sum(1 for line in lines if line.errors)
        messages.error(
            request,
            ngettext(
                "Nothing was saved: %(failed)d of %(total)d lines cannot be granted. "
                "Remove or fix it and confirm again.",
                "Nothing was saved: %(failed)d of %(total)d lines cannot be granted. "
                "Remove or fix them and confirm again.",
                failed,
            )
            % {"failed": failed, "total": len(lines)},
        )
        return _render_review(request, key, lines, form)
    _store_lines(request, key, [])
    messages.success(
        request,
        ngettext("%(count)d authorization was granted.", "%(count)d authorizations were granted.", len(lines))
        % {"count": len(lines)},
    )
    return redirect("permission_list")


def _grant_all(request, lines: list[Line], *, years: int) -> bool:
    """Grant every line in one transaction: all or nothing. Failing lines get their reasons."""
    with transaction.atomic():
        # Lock every link row up front in one order (no deadlock between two confirmations);
        # authorization_grant refuses an identical authorization already in force.
        pairs = Q(pk__in=[])
        for line in lines:
            if line.user and line.organization:
                pairs |= Q(user=line.user, organization=line.organization)
        list(Membership.objects.select_for_update().filter(pairs).order_by("pk").values_list("pk", flat=True))
        for line in lines:
            if line.problem:
                line.errors = [line.problem]
                continue
            try:
                authorization_grant(
                    actor=request.user,
                    user=line.user,
                    organization=line.organization,
                    level=line.level,
                    scope=line.scope,
                    service=line.service,
                    provider=line.provider,
                    branch_number=line.branch,
                    years=years,
                )
            except ValidationError as exc:
                line.errors = exc.messages
            except PermissionDenied:
                line.errors = [_("You do not manage this organisation (any more).")]
        if any(line.errors for line in lines):
            transaction.set_rollback(True)
            return False
    return True
