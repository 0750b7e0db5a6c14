"""The demo manager logs in with password and authenticator code and reaches every Manage tab."""

from tests.browser.conftest import log_in


def test_demo_manager_logs_in_with_totp_and_sees_manage_tabs(page):
    log_in(page, "anna.dejong@voorbeeld-bv1.nl")
    page.shots("home")
    assert page.url.endswith("/"), page.url
    menu = page.locator("#manage-menu")
    assert menu.is_visible()
    assert menu.inner_text().strip() == "Beheren"
    menu.click()
    page.wait_for_url("**/manage/")
    tabs = page.locator("[data-testid=manage-tabs] a")
    assert [tab.strip() for tab in tabs.all_inner_texts()] == [
        "Overzicht",
        "Machtigingen",
        "Gebruikers",
        "Aanvragen",
        "Vestigingen",
    ]
    page.shots("overview_tabs")
    for href, name in [
        ("/manage/users/", "Gebruikers"),
        ("/manage/requests/", "Aanvragen"),
        ("/manage/branches/", "Vestigingen"),
    ]:
        page.locator(f"[data-testid=manage-tabs] a[href='{href}']").click()
        page.wait_for_url(f"**{href}")
        current = page.locator("[data-testid=manage-tabs] a[aria-current=page]")
        assert current.inner_text().strip() == name
    page.locator("[data-testid=manage-tabs] a[href='/manage/permissions/']").click()
    page.wait_for_url("**/manage/permissions/")
    page.shots("permissions")
    assert page.locator("[data-testid=permission-row]").count() > 0


def test_demo_employee_sees_no_manage_menu(page):
    log_in(page, "bram.visser@voorbeeld-bv1.nl", totp=False)
    page.shots("home")
    assert page.locator("[data-testid=user-name]").inner_text() == "Bram Visser"
    assert page.locator("#manage-menu").count() == 0
    response = page.goto("/manage/")
    assert response.status == 403
