"""The demo manager logs in with password and authenticator code and sees the Manage menu."""

from tests.browser.conftest import log_in


def test_demo_manager_logs_in_with_totp_and_sees_manage_menu(page):
    log_in(page, "anna.dejong@voorbeeld-bv1.nl")
    page.shots("home")
    assert page.url.endswith("/"), page.url
    menu = page.locator("#manage-menu")
    assert menu.is_visible()
    assert menu.inner_text().strip() == "Beheren"
    menu.click()
    page.shots("manage_menu_open")
    entries = page.locator("[aria-labelledby=manage-menu] a")
    assert {"Machtigingen", "Gebruikers", "Aanvragen"} <= {entry.strip() for entry in entries.all_inner_texts()}
    page.locator("[aria-labelledby=manage-menu] a[href='/manage/permissions/']").click()
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
