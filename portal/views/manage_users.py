"""Manage tab, Users: the people of my organisations, and "Add users".

Thin views: forms validate, ``requests_app.services`` writes. Every query
starts from ``Organization.objects.managed_by(request.user)`` (rule 9).
"""

import csv
import datetime
import unicodedata

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from organizations.roles import manager_level_for, manager_level_over
from organizations.services import means_renew_bulk
from reconi.navigation import back_to_permissions, with_next
from requests_app.csv_import import COLUMN_LABELS, COLUMNS, EXAMPLE, CsvFileError, parse_people_csv
from requests_app.models import Request
from requests_app.services import (
    means_request_create,
    means_request_create_bulk,
    people_check,
    people_check_record,
    upgrade_request_create,
)
from users.models import Means, User
from users.rules import (
    VALID_PERIODS,
    manager_may_renew_refusal,
    means_renewable_refusal,
    renewal_end,
    renewal_periods,
    upgrade_levels,
)

from ..forms import add_service_errors
from ..forms.manage_users import YEARS_CHOICES, CsvUploadForm, PersonForm, UpgradeForm, UserFilterForm
from ..guards import get_scoped_or_404, log_denied, managed_organizations, manager_required
from ..selectors import people_of_managed_organizations

PAGE_SIZE = 50
SESSION_CSV = "users_add_csv"


def _means_state(person) -> str:
    if person.has_active_means:
        return "active"
    if person.means_level:
        return "expired"
    return "none"


@manager_required
def users_list(request):
    form = UserFilterForm(request.GET or None, manager=request.user)
    people = people_of_managed_organizations(
        user=request.user,
        filters=form.cleaned_data if form.is_valid() else {},
        organizations=managed_organizations(request),
    )
    if request.GET.get("format") == "csv":
        return _csv_export(people)
    page = Paginator(people, PAGE_SIZE).get_page(request.GET.get("page"))
    for person in page.object_list:
        person.means_state = _means_state(person)
        person.can_upgrade = person.means_state == "active" and bool(upgrade_levels(person.means_level))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    return render(
        request,
        "users/user_list.html",
        {"form": form, "page": page, "query": query.urlencode(), "today": timezone.localdate()},
    )


def _csv_export(people) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="users-{timezone.localdate():%Y-%m-%d}.csv"'
    response.write("\ufeff")  # Excel reads UTF-8 only with the BOM
    writer = csv.writer(response)
    writer.writerow(
        [
            _("First name"),
            _("Last name"),
            _("Email"),
            _("Level"),
            _("Valid until"),
            _("Means"),
            _("Organisations"),
            _("Active authorizations"),
        ]
    )
    labels = {"active": _("Active"), "expired": _("Not active"), "none": _("No means")}
    for person in people:
        writer.writerow(
            [
                _safe(person.first_name),
                _safe(person.last_name),
                _safe(person.email),
                person.means_level or "",
                person.means_valid_until.isoformat() if person.means_valid_until else "",
                labels[_means_state(person)],
                _safe("; ".join(m.organization.name for m in person.managed_memberships)),
                person.active_authorizations,
            ]
        )
    return response


# A cell that starts with one of these may be run as a formula. Spreadsheet programs skip
# leading blanks and read full-width forms ("＝", "＋") as their ASCII twins, so those count too.
_FORMULA_STARTS = frozenset("=+-@")


def _safe(value: str) -> str:
    """Keep spreadsheet programs from running a cell as a formula (CSV injection)."""
    value = value or ""
    first = unicodedata.normalize("NFKC", value[:1])
    if first[:1] in _FORMULA_STARTS or (first and first.isspace()) or value[:1] in ("\t", "\r", "\n"):
        return "'" + value
    return value


@manager_required
@require_http_methods(["GET", "POST"])
def users_add(request):
    """One person through the form, or several through a CSV file (previewed before saving)."""
    person_form = PersonForm(manager=request.user, prefix="person")
    upload_form = CsvUploadForm(manager=request.user, prefix="csv")
    active_tab = request.GET.get("tab", "single")
    back = back_to_permissions(request)
    if request.method == "POST" and request.POST.get("action") == "upload":
        active_tab = "csv"
        upload_form = CsvUploadForm(request.POST, request.FILES, manager=request.user, prefix="csv")
        if upload_form.is_valid():
            try:
                parsed = parse_people_csv(upload_form.cleaned_data["file"])
                people_check_record(
                    actor=request.user,
                    organization=upload_form.cleaned_data["organization"],
                    rows=len(parsed.rows),
                    source="csv",
                )
            except CsvFileError as exc:
                upload_form.add_error("file", str(exc))
            except ValidationError as exc:
                upload_form.add_error(None, exc.messages)
            else:
                request.session[SESSION_CSV] = {
                    "organization_id": upload_form.cleaned_data["organization"].pk,
                    "filename": upload_form.cleaned_data["file"].name[:200],
                    "rows": parsed.rows,
                    "lines": parsed.lines,
                    "next": back,
                }
                return redirect("users_add_preview")
    elif request.method == "POST":
        person_form = PersonForm(request.POST, manager=request.user, prefix="person")
        if person_form.is_valid():
            try:
                people_check_record(
                    actor=request.user, organization=person_form.cleaned_data["organization"], rows=1, source="form"
                )
                new_request = means_request_create(
                    actor=request.user,
                    organization=person_form.cleaned_data["organization"],
                    people=[person_form.person()],
                    reason=person_form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    person_form.add_person_errors(exc.message_dict)
                else:
                    for message in exc.messages:
                        person_form.add_error(None, message)
            else:
                messages.success(
                    request,
                    _("Request %(number)s was made. Check the form and sign it to send it to Reconi.")
                    % {"number": new_request.number},
                )
                return redirect(with_next(reverse("request_detail", kwargs={"pk": new_request.pk}), back))
    return render(
        request,
        "users/user_add.html",
        {
            "person_form": person_form,
            "upload_form": upload_form,
            "active_tab": active_tab,
            "columns": COLUMNS,
            "example": EXAMPLE,
            "back": back,
        },
    )


@manager_required
@require_http_methods(["GET", "POST"])
def users_add_preview(request):
    """Every row of the uploaded CSV checked; nothing saved while any is invalid, unless asked."""
    stored = request.session.get(SESSION_CSV)
    if not stored:
        messages.info(request, _("Upload a CSV file first."))
        return redirect(f"{reverse('users_add')}?tab=csv")
    organization = get_scoped_or_404(request, managed_organizations(request), pk=stored["organization_id"])
    if request.method == "POST" and request.POST.get("action") == "discard":
        request.session.pop(SESSION_CSV, None)
        messages.info(request, _("The upload was discarded; nothing was saved."))
        return redirect(f"{reverse('users_add')}?tab=csv")
    if request.method == "POST":
        only_valid = request.POST.get("action") == "submit_valid"
        checks = _check(stored, organization, request)
        if only_valid:
            rows = [_without_extra(row) for row, errors in zip(stored["rows"], checks, strict=True) if not errors]
        else:
            rows = [_without_extra(row) for row in stored["rows"]]
        invalid = sum(1 for errors in checks if errors)
        try:
            if invalid and not only_valid:
                raise ValidationError(
                    _("%(count)s row(s) have errors; correct them or submit only the valid rows.") % {"count": invalid}
                )
            new_request, skipped = means_request_create_bulk(
                actor=request.user, organization=organization, rows=rows, only_valid=only_valid
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            request.session.pop(SESSION_CSV, None)
            skipped += len(stored["rows"]) - len(rows)
            if skipped:
                messages.warning(
                    request,
                    _("%(count)s row(s) with errors were left out; upload them again once corrected.")
                    % {"count": skipped},
                )
            messages.success(
                request,
                _("Request %(number)s for %(people)s person(s) was made. Check the form and sign it.")
                % {"number": new_request.number, "people": len(new_request.payload_for_new_means().people)},
            )
            back = stored.get("next", "") if stored.get("next") == reverse("permission_list") else ""
            return redirect(with_next(reverse("request_detail", kwargs={"pk": new_request.pk}), back))
    errors_per_row = _check(stored, organization, request)
    rows = []
    for line, row, errors in zip(stored["lines"], stored["rows"], errors_per_row, strict=True):
        rows.append(
            {
                "line": line,
                "cells": [
                    {"column": column, "value": row.get(column, ""), "errors": errors.get(column, [])}
                    for column in COLUMNS
                ],
                "row_errors": errors.get("_row", []),
                "valid": not errors,
            }
        )
    invalid = sum(1 for row in rows if not row["valid"])
    return render(
        request,
        "users/user_add_preview.html",
        {
            "organization": organization,
            "filename": stored.get("filename", ""),
            "rows": rows,
            "columns": [(column, COLUMN_LABELS[column]) for column in COLUMNS],
            "invalid": invalid,
            "valid": len(rows) - invalid,
        },
    )


def _without_extra(row: dict) -> dict:
    return {key: value for key, value in row.items() if not key.startswith("_")}


def _check(stored, organization, request) -> list[dict]:
    manager_level = manager_level_for(request.user, organization)
    results = people_check(
        actor=request.user,
        people=[_without_extra(row) for row in stored["rows"]],
        organization=organization,
        manager_level=manager_level,
    )
    checked = []
    for row, (_cleaned, errors) in zip(stored["rows"], results, strict=True):
        errors = dict(errors)
        if row.get("_extra"):
            errors["_row"] = [row["_extra"]]
        unknown = set(errors) - set(COLUMNS) - {"_row"}
        for key in unknown:  # e.g. first authorizations: not in the CSV, reported on the row
            errors.setdefault("_row", []).extend(errors.pop(key))
        checked.append(errors)
    return checked


@manager_required
@require_http_methods(["GET", "POST"])
def users_upgrade(request, pk):
    """Ask for a higher level of a user's means; support checks identity, the means keeps its authorizations."""
    people = User.objects.filter(memberships__organization__in=managed_organizations(request)).distinct()
    person = get_scoped_or_404(request, people, pk=pk)
    means = Means.objects.active().filter(owner=person).first()
    manager_level, _organization = manager_level_over(actor=request.user, owner=person)
    form = UpgradeForm(
        request.POST or None,
        manager=request.user,
        user=person,
        current_level=getattr(means, "level", None),
        manager_level=manager_level,
    )
    if request.method == "POST" and form.is_valid():
        try:
            new_request = upgrade_request_create(
                actor=request.user,
                organization=form.cleaned_data["organization"],
                user=person,
                level=form.cleaned_data["level"],
                reason=form.cleaned_data["reason"],
            )
        except PermissionDenied:
            form.add_error("organization", _("%(user)s is not linked to this organisation.") % {"user": person})
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if new_request.status == Request.Status.AWAITING_SIGNATURE:
                text = _(
                    "Upgrade request %(number)s was sent to the representative to sign; "
                    "Reconi then checks the identity in person."
                )
            else:
                text = _("Upgrade request %(number)s was made. Sign it to send it.")
            messages.success(request, text % {"number": new_request.number})
            return redirect("request_detail", pk=new_request.pk)
    return render(request, "users/user_upgrade.html", {"person": person, "means": means, "form": form})


def _ids(values) -> list[int]:
    ids = set()
    for value in values:
        for part in str(value).split(","):
            if part.strip():
                ids.add(int(part))  # ValueError: the caller answers 404
    return sorted(ids)


@manager_required
@require_http_methods(["GET", "POST"])
def users_means_renew(request):
    """Renew the means of one person or of a selection, digitally: a preview, then one confirmation.

    GET ``ids`` are people of the Users page; the preview posts the means it showed
    (``means``) with the end date shown for each (``until-<id>``), so a second
    submit of the same page renews nothing twice.
    """
    people = User.objects.filter(memberships__organization__in=managed_organizations(request)).distinct()
    today = timezone.localdate()
    try:
        if request.method == "POST":
            means_ids = _ids(request.POST.getlist("means"))
            selection = list(
                Means.objects.filter(pk__in=means_ids, owner__in=people).select_related("owner").order_by("pk")
            )
            if len(selection) != len(means_ids):
                log_denied(request, "users.means", pk=",".join(map(str, means_ids)))
                raise Http404
        else:
            person_ids = _ids(request.GET.getlist("ids"))
            found = list(people.filter(pk__in=person_ids))
            if len(found) != len(person_ids):
                log_denied(request, "users.user", pk=",".join(map(str, person_ids)))
                raise Http404
            selection = [
                means
                for person in found
                if (means := Means.objects.filter(owner=person, status=Means.Status.ACTIVE).first()) is not None
            ]
    except ValueError:
        raise Http404 from None
    if not selection:
        messages.warning(request, _("Select users with a means to renew first."))
        return redirect("users_list")

    rows, not_renewable = [], []
    for means in sorted(selection, key=lambda m: (m.valid_until, str(m.owner))):
        manager_level, _organization = manager_level_over(actor=request.user, owner=means.owner)
        refusal = manager_may_renew_refusal(manager_level=manager_level, means=means) or means_renewable_refusal(means)
        if refusal is not None:
            not_renewable.append((means, refusal.message))
            continue
        fits = renewal_periods(valid_until=means.valid_until, today=today)
        ends = [
            (years, renewal_end(valid_until=means.valid_until, years=years, today=today)) for years in VALID_PERIODS
        ]
        rows.append({"means": means, "ends": ends, "fits": fits})

    errors = []
    chosen = None
    if request.method == "POST":
        chosen = request.POST.get("period", "")
        if not_renewable:
            errors.append(_("Some of the selected means cannot be renewed by you; nothing was renewed."))
        elif chosen not in {str(years) for years in VALID_PERIODS}:
            errors.append(_("Choose a period of 1, 3 or 5 years."))
        else:
            try:
                seen = {means.pk: datetime.date.fromisoformat(request.POST[f"until-{means.pk}"]) for means in selection}
            except (KeyError, ValueError):
                raise Http404 from None
            try:
                renewed = means_renew_bulk(actor=request.user, selection=seen, years=int(chosen))
            except ValidationError as exc:
                errors.extend(exc.messages)
            else:
                messages.success(
                    request,
                    ngettext("%(count)d means renewed.", "%(count)d means renewed.", len(renewed))
                    % {"count": len(renewed)},
                )
                return redirect("users_list")
    return render(
        request,
        "users/user_means_renew.html",
        {
            "rows": rows,
            "not_renewable": not_renewable,
            "errors": errors,
            "period_choices": YEARS_CHOICES,
            "chosen": chosen or "1",
            "today": today,
        },
    )
