"""Browser tests for the Permissions pages, on the demo data in a real Chromium.

The demo manager anna (BV 1 and BV 2, EH3, TOTP) requests a permission through
the wizard, revokes one with the trash can, renews two with the "Renew
permissions" button and activates an expired one; each test then checks the
table and the database. One test reads the page in English, one walks it with
the keyboard.

Elements are found by data-testid, form field names, hrefs and data attributes,
never by Dutch or English wording (the Dutch catalogue is filled later), except
in the English test, which is about the wording.
"""

import datetime

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from audit.models import AuditEvent
from authorizations.models import Authorization, Service
from notifications.models import OutboxEmail
from organizations.models import Organization
from reconi.rules import periods_that_fit
from tests.browser.conftest import log_in
from users.models import User

ANNA = "anna.dejong@voorbeeld-bv1.nl"
BRAM = "bram.visser@voorbeeld-bv1.nl"
CARLA = "carla.smit@voorbeeld-bv1.nl"
BV1 = "Voorbeeld BV 1"


def demo_authorization(email: str, organization: str, *, service: str) -> Authorization:
    return Authorization.objects.get(user__email=email, organization__name=organization, service__name=service)


def row(page, authorization):
    return page.locator(f"[data-testid=permission-row][data-id='{authorization.pk}']")


def table_until(page, authorization) -> datetime.date:
    """The end date the table shows for this row (the machine-readable date of its <time>)."""
    value = row(page, authorization).locator("time").first.get_attribute("datetime")
    return datetime.date.fromisoformat(value)


def show_inactive(page):
    """Tick "show inactive too" in the filter form and filter."""
    filters = page.get_by_test_id("permission-filters")
    filters.locator("input[name=show_inactive]").check()
    with page.expect_navigation():
        filters.locator("button[type=submit]").click()
    assert "show_inactive=on" in page.url, page.url


def test_request_a_permission_through_the_wizard(page):
    bv1 = Organization.objects.get(name=BV1)
    bram = User.objects.get(email=BRAM)
    wanted = Service.objects.get(name="Mijn Belastingdienst Zakelijk inzien")  # minimum EH2+
    too_high = Service.objects.get(name="Omzetbelasting aangifte")  # minimum EH3
    before = set(Authorization.objects.values_list("pk", flat=True))

    log_in(page, ANNA)
    page.goto("/manage/permissions/")
    page.shots("list_before")
    with page.expect_navigation():
        page.locator("a[href$='/manage/permissions/new/']").first.click()

    # 1. Organisation: anna manages two, so she must choose.
    step = page.get_by_test_id("step-organization")
    step.locator("select[name=organization]").select_option(str(bv1.pk))
    page.shots("wizard_organization")
    with page.expect_navigation():
        step.locator("button[type=submit]").click()

    # 2. User: the people linked to BV 1.
    step = page.get_by_test_id("step-user")
    step.locator("select[name=user]").select_option(str(bram.pk))
    page.shots("wizard_user")
    with page.expect_navigation():
        step.locator("form").filter(has=page.locator("select[name=user]")).locator("button[type=submit]").click()

    # 3. Level: EH4 is above bram's EH3 means, so it is offered disabled with the reason.
    step = page.get_by_test_id("step-level")
    assert step.locator("input[name=level][value=EH4]").is_disabled()
    assert step.locator("input[name=level][value=EH4]").get_attribute("aria-describedby")
    step.locator("input[name=level][value='EH2+']").check()
    page.shots("wizard_level")
    with page.expect_navigation():
        step.locator("button[type=submit]").click()

    # 4. Services: search; a service that needs more than EH2+ is shown disabled.
    step = page.get_by_test_id("step-services")
    step.locator("input[name=q]").fill("Belasting")
    step.locator("form[role=search] button[type=submit]").click()
    results = page.get_by_test_id("service-results")
    wanted_row = results.locator(f"tr[data-service='{wanted.pk}']")
    wanted_row.wait_for()
    assert results.locator(f"tr[data-service='{too_high.pk}'] button").is_disabled()
    assert results.locator(f"tr[data-service='{too_high.pk}'] [data-testid=add-authorization]").count() == 0
    page.shots("wizard_search_results")
    with page.expect_navigation():
        wanted_row.get_by_test_id("add-authorization").click()

    lines = page.get_by_test_id("wizard-list").get_by_test_id("wizard-line")
    assert lines.count() == 1
    assert wanted.name in lines.first.inner_text()
    assert not Authorization.objects.exclude(pk__in=before).exists(), "adding to the list must not grant yet"
    page.shots("wizard_line_added")

    # 5. Review and confirm.
    with page.expect_navigation():
        page.get_by_test_id("wizard-continue").click()
    review = page.get_by_test_id("review-lines").get_by_test_id("review-line")
    assert review.count() == 1
    assert wanted.name in review.first.inner_text()
    page.locator("input[name=period][value='3']").check()
    page.shots("wizard_review")
    with page.expect_navigation():
        page.get_by_test_id("wizard-confirm").click()

    new = Authorization.objects.exclude(pk__in=before).get()
    today = timezone.localdate()
    assert (new.user, new.organization, new.service, new.level) == (bram, bv1, wanted, "EH2+")
    assert new.scope == Authorization.Scope.SERVICE
    assert (new.valid_from, new.valid_until) == (today, today + relativedelta(years=3))
    assert page.url.split("?")[0].endswith("/manage/permissions/"), page.url
    new_row = row(page, new)
    assert new_row.is_visible()
    assert new_row.get_attribute("data-status") == "active"
    assert wanted.name in new_row.inner_text() and BRAM in new_row.inner_text()
    assert table_until(page, new) == new.valid_until
    page.shots("list_after")


def test_revoke_with_the_trash_can(page):
    target = demo_authorization(BRAM, BV1, service="Omzetbelasting aangifte")
    assert target.status == "active"

    log_in(page, ANNA)
    page.goto("/manage/permissions/")
    page.shots("list_before")
    with page.expect_navigation():
        row(page, target).locator("a[href*='/revoke/']").click()
    assert f"/manage/permissions/{target.pk}/revoke/" in page.url
    target.refresh_from_db()
    assert target.revoked_at is None, "the confirmation page must not revoke"
    page.shots("revoke_confirmation")
    with page.expect_navigation():
        page.locator(f"form[action$='/permissions/{target.pk}/revoke/'] button[type=submit]").click()

    target.refresh_from_db()
    assert target.revoked_at is not None and target.status == "revoked"
    assert target.revoked_by.email == ANNA
    assert AuditEvent.objects.filter(action="authorization.revoke", object_id=str(target.pk)).count() == 1
    email = OutboxEmail.objects.get(dedupe_key=f"authorization_revoked:{target.pk}")
    assert (email.kind, email.to) == ("authorization_revoked", BRAM)

    assert page.url.split("?")[0].endswith("/manage/permissions/"), page.url
    assert row(page, target).count() == 0, "a revoked row is not in the default list"
    page.shots("list_after")

    show_inactive(page)
    revoked = row(page, target)
    assert revoked.get_attribute("data-status") == "revoked"
    assert revoked.get_by_test_id("revoked-reason").is_visible()
    assert revoked.locator("input[name=ids], a[href*='/revoke/'], a[href*='/renew/']").count() == 0
    page.shots("list_show_inactive")


def test_renew_two_with_the_renew_permissions_button(page):
    first = demo_authorization(BRAM, BV1, service="Loonaangifte")  # expiring within two months
    second = demo_authorization(CARLA, BV1, service="Jaarrekening deponeren")
    untouched = demo_authorization(BRAM, BV1, service="Omzetbelasting aangifte")
    old = {a.pk: a.valid_until for a in (first, second, untouched)}

    log_in(page, ANNA)
    page.goto("/manage/permissions/")
    for authorization in (first, second):
        row(page, authorization).locator("input[name=ids]").check()
    page.shots("list_two_ticked")
    with page.expect_navigation():
        page.get_by_test_id("renew-selection").click()

    preview = page.get_by_test_id("renew-preview").get_by_test_id("renew-row")
    assert sorted(int(pk) for pk in preview.evaluate_all("rows => rows.map(r => r.dataset.id)")) == sorted(
        [first.pk, second.pk]
    )
    # Rule 5: only the periods that keep every selected end within five years of today are offered.
    fitting = periods_that_fit(current_end=max(old[first.pk], old[second.pk]), today=timezone.localdate())
    for authorization in (first, second):
        preview_row = page.locator(f"[data-testid=renew-row][data-id='{authorization.pk}']")
        for years in fitting:
            shown = preview_row.locator(f"[data-period='{years}'] time").get_attribute("datetime")
            assert shown == (old[authorization.pk] + relativedelta(years=years)).isoformat()
    assert Authorization.objects.get(pk=first.pk).valid_until == old[first.pk], "the preview must not renew"
    form = page.get_by_test_id("renew-many-form")
    years = max(fitting)
    form.locator(f"input[name=period][value='{years}']").check()
    page.shots("renew_preview")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()

    assert page.url.split("?")[0].endswith("/manage/permissions/"), page.url
    for authorization in (first, second):
        authorization.refresh_from_db()
        assert authorization.valid_until == old[authorization.pk] + relativedelta(years=years)
        assert table_until(page, authorization) == authorization.valid_until
        assert AuditEvent.objects.filter(action="authorization.renew", object_id=str(authorization.pk)).count() == 1
    untouched.refresh_from_db()
    assert untouched.valid_until == old[untouched.pk]
    page.shots("list_after")


def test_activate_an_expired_permission(page):
    by_menu = demo_authorization(BRAM, BV1, service="Subsidieportaal")
    by_page = demo_authorization(CARLA, "Voorbeeld BV 2", service="Douane aangifte invoer")
    today = timezone.localdate()
    for authorization in (by_menu, by_page):
        assert authorization.status == "expired"

    log_in(page, ANNA)
    page.goto("/manage/permissions/")
    assert row(page, by_menu).count() == 0, "expired rows only show with show_inactive"
    show_inactive(page)
    page.shots("list_show_inactive")

    # With JavaScript: the Activate menu in the row, 3 years from today.
    expired = row(page, by_menu)
    assert expired.get_attribute("data-status") == "expired"
    expired.get_by_test_id("activate").click()
    choice = expired.locator("button[name=period][value='3']")
    choice.wait_for(state="visible")
    page.shots("activate_menu_open")
    with page.expect_navigation():
        choice.click()
    by_menu.refresh_from_db()
    assert by_menu.status == "active"
    assert (by_menu.valid_from, by_menu.valid_until) == (today, today + relativedelta(years=3))
    assert "show_inactive=on" in page.url, "back to the same filtered list"
    assert row(page, by_menu).get_attribute("data-status") == "active"
    assert table_until(page, by_menu) == by_menu.valid_until
    page.shots("list_after_menu")

    # Without the menu: the confirmation page behind the same link, 1 year from today.
    with page.expect_navigation():
        page.goto(row(page, by_page).get_by_test_id("activate").get_attribute("href"))
    assert f"/manage/permissions/{by_page.pk}/activate/" in page.url
    page.shots("activate_confirmation")
    page.locator("input[name=period][value='1']").check()
    with page.expect_navigation():
        page.locator(f"form[action$='/permissions/{by_page.pk}/activate/'] button[type=submit]").click()
    by_page.refresh_from_db()
    assert by_page.status == "active"
    assert (by_page.valid_from, by_page.valid_until) == (today, today + relativedelta(years=1))
    assert row(page, by_page).get_attribute("data-status") == "active"
    assert table_until(page, by_page) == by_page.valid_until
    assert AuditEvent.objects.filter(action="authorization.reactivate").count() == 2
    page.shots("list_after_page")


def test_permissions_page_in_english(page):
    log_in(page, ANNA)
    page.goto("/en/manage/permissions/")
    page.shots("list_en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text().strip() == "Permissions"
    headers = page.get_by_test_id("permission-table").locator("thead th").all_inner_texts()
    for header in ("User", "Organisation", "Scope", "Level", "Valid until", "Status", "Actions"):
        assert header in headers, headers
    assert "Renew permissions" in page.get_by_test_id("renew-selection").inner_text()
    assert page.get_by_test_id("permission-filters").locator("button[type=submit]").inner_text().strip() == "Filter"
    active = page.locator("[data-testid=permission-row][data-status=active]").first
    assert "Active" in active.inner_text()
    # The row actions stay in English.
    hrefs = active.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert hrefs and all(href.startswith("/en/manage/permissions/") for href in hrefs), hrefs
    with page.expect_navigation():
        active.locator("a[href*='/revoke/']").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text().strip() == "Revoke permission"
    page.shots("revoke_confirmation_en")


def test_keyboard_reaches_the_filters_and_the_row_actions(page):
    log_in(page, ANNA)
    page.goto("/manage/permissions/")
    reached = {"filter": False, "checkbox": False, "renew": False, "revoke": False}
    revoke_href = None
    for _ in range(120):
        page.keyboard.press("Tab")
        focus = page.evaluate(
            """() => {
                const el = document.activeElement;
                const row = el.closest('[data-testid=permission-row]');
                const box = el.getBoundingClientRect();
                const style = getComputedStyle(el);
                return {
                    filter: !!el.closest('[data-testid=permission-filters]') && el.name === 'organization',
                    checkbox: !!row && el.name === 'ids',
                    renew: !!row && (el.getAttribute('href') || '').includes('/renew/'),
                    revoke: !!row && (el.getAttribute('href') || '').includes('/revoke/'),
                    href: el.getAttribute('href'),
                    visible: box.width > 0 && box.height > 0,
                    ring: style.outlineStyle !== 'none' || style.boxShadow !== 'none',
                };
            }"""
        )
        for key in reached:
            if focus[key]:
                assert focus["visible"] and focus["ring"], f"{key} focused but not visibly: {focus}"
                reached[key] = True
        if focus["revoke"]:
            revoke_href = focus["href"]
            break
    assert all(reached.values()), reached
    page.shots("focus_on_trash_can")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert revoke_href.split("?")[0] in page.url, page.url
    page.shots("revoke_confirmation_by_keyboard")
