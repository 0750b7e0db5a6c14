"""The demo manager logs in with password and authenticator code and sees the Manage menu."""

from tests.browser.conftest import log_in


def test_demo_manager_logs_in_with_totp_and_sees_manage_menu(page):
    log_in(page, "anna.dejong@voorbeeld-bv1.nl")
    page.shots("home")
    assert page.url.endswith("/"), page.url
    nav = page.get_by_role("navigation").first
    assert nav.get_by_text("Beheren").count() > 0, page.content()[:2000]
    page.goto("/manage/")
    page.shots("manage_overview")
    assert page.locator("h1").first.is_visible()


def test_demo_employee_sees_no_manage_menu(page):
    log_in(page, "bram.visser@voorbeeld-bv1.nl", totp=False)
    page.shots("home")
    assert page.get_by_text("Beheren").count() == 0
    response = page.goto("/manage/")
    assert response.status == 403
