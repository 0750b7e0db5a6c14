"""The Manage tab's overview: the "total view" of the organisations I manage."""

from dataclasses import dataclass

from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from authorizations import selectors
from authorizations.models import AuthorizationStatus
from reconi.levels import AssuranceLevel

from ..guards import manager_required

INACTIVE = (AuthorizationStatus.EXPIRED, AuthorizationStatus.REVOKED)

# Geometry of the expiries chart, in SVG user units (the SVG scales to its container).
CHART_WIDTH = 720
CHART_HEIGHT = 220
CHART_TOP = 24  # room for the count above the tallest bar
CHART_BOTTOM = 40  # room for the month labels
BAR_FILL = 0.64  # share of a month's slot taken by its bar


@dataclass
class Cell:
    count: int
    url: str


@dataclass
class Bar:
    month: object
    count: int
    url: str
    x: float
    y: float
    width: float
    height: float
    centre: float
    label_y: float
    new_year: bool


def _url(name: str, **params) -> str:
    base = reverse(name)
    params = {key: value for key, value in params.items() if value not in (None, "")}
    return f"{base}?{urlencode(params)}" if params else base


def _list_url(organization, **params) -> str:
    status = params.get("status")
    if status in INACTIVE or params.pop("all_statuses", False):
        params["show_inactive"] = 1
    return _url("permission_list", organization=organization.pk, **params)


def _chart(overview) -> dict:
    counts = [count for _month, count in overview.months]
    slot = CHART_WIDTH / len(counts)
    plot_height = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    highest = max(counts) or 1
    bars = []
    for index, (month, count) in enumerate(overview.months):
        height = plot_height * count / highest
        x = index * slot + slot * (1 - BAR_FILL) / 2
        bars.append(
            Bar(
                month=month,
                count=count,
                url=_list_url(overview.organization, month=month.strftime("%Y-%m")),
                x=round(x, 1),
                y=round(CHART_TOP + plot_height - height, 1),
                width=round(slot * BAR_FILL, 1),
                height=round(height, 1),
                centre=round(index * slot + slot / 2, 1),
                label_y=round(CHART_TOP + plot_height - height - 6, 1),
                new_year=index == 0 or month.month == 1,
            )
        )
    return {
        "bars": bars,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "baseline": CHART_HEIGHT - CHART_BOTTOM,
        "total": sum(counts),
    }


def _card(overview) -> dict:
    organization = overview.organization
    levels = [level.value for level in AssuranceLevel.ordered()]
    statuses = list(AuthorizationStatus)
    return {
        "organization": organization,
        "users": Cell(overview.users, _url("users_list", organization=organization.pk)),
        "means": [
            (level, Cell(overview.means.get(level, 0), _url("users_list", organization=organization.pk, level=level)))
            for level in levels
        ],
        "levels": levels,
        "rows": [
            {
                "status": status,
                "total": Cell(overview.status_total(status), _list_url(organization, status=status.value)),
                "cells": [
                    Cell(overview.count(status, level), _list_url(organization, status=status.value, level=level))
                    for level in levels
                ],
            }
            for status in statuses
        ],
        "level_totals": [
            Cell(overview.level_total(level), _list_url(organization, level=level, all_statuses=True))
            for level in levels
        ],
        "total": Cell(overview.total, _list_url(organization, all_statuses=True)),
        "expiring": Cell(overview.expiring, _list_url(organization, expiring=1)),
        "renew_expiring_url": _url("permission_renew_many", expiring=1, organization=organization.pk),
        "chart": _chart(overview),
    }


@manager_required
@require_GET
def overview(request):
    cards = [_card(overview) for overview in selectors.manage_overview(user=request.user)]
    return render(request, "authorizations/overview.html", {"cards": cards})
