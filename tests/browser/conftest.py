"""Browser tests: Playwright for Python driving the system Chromium (no browser download).

Each test gets the demo data (``seed_demo``) in a live server and a fresh page;
screenshots go to ``test-artifacts/screenshots/``.
"""

import os
import re
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.management import call_command

from reconi.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET, totp_now

# Playwright's sync API runs an event loop in this thread; the ORM calls the
# tests make between browser steps are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def browser(chromium_path_session):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path_session, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def chromium_path_session():
    import shutil

    from tests.conftest import require_or_skip

    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    require_or_skip(os.path.exists(path), "Chromium")
    return path


@pytest.fixture
def demo(transactional_db, settings):
    settings.SEED_DEMO_ALLOWED = True
    cache.clear()  # allauth remembers used TOTP codes; each test logs in afresh
    call_command("seed_demo", verbosity=0)


@pytest.fixture
def page(browser, live_server, demo, request):
    context = browser.new_context(base_url=live_server.url, locale="nl-NL", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.shots = Screenshots(page, request.node.name)
    # The Content-Security-Policy (no inline script or style) must block nothing the pages use.
    csp_errors = []
    page.on(
        "console",
        lambda message: (
            csp_errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    yield page
    context.close()
    assert csp_errors == [], f"blocked by the Content-Security-Policy: {csp_errors}"


class Screenshots:
    def __init__(self, page, test_name):
        self.page = page
        self.prefix = re.sub(r"[^A-Za-z0-9_]+", "_", test_name)
        self.count = 0

    def __call__(self, label: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.count += 1
        path = SCREENSHOTS / f"{self.prefix}_{self.count:02d}_{label}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


def log_in(page, email: str, *, totp: bool = True, password: str = DEMO_PASSWORD) -> None:
    """Log in through the real allauth pages, with the authenticator code when asked."""
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.locator("form").filter(has=page.locator("input[name=password]")).locator("[type=submit]").first.click()
    if totp:
        page.wait_for_selector("input[name=code]")
        page.fill("input[name=code]", totp_now(DEMO_TOTP_SECRET))
        page.locator("form").filter(has=page.locator("input[name=code]")).locator("[type=submit]").first.click()
    page.wait_for_load_state("networkidle")
