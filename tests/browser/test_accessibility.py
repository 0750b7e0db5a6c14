"""The accessibility and layout walk: every page state of the portal and of the admin pages support
uses, as each persona, in Dutch and English, at 1280 and 390 px wide, in a real Chromium.

Each state fails the test on
- any axe-core violation of impact serious or critical (axe is vendored under ``vendor/``),
- any horizontal overflow of the page, and at 1280 px any scroll box that hides part of its
  content sideways (a table whose key column sits behind a scrollbar),
- any console error or uncaught script error (a Content-Security-Policy refusal is one).

Every state is saved as a screenshot under ``test-artifacts/a11y/``. A persona logs in once and walks
all four language/width combinations in the same browser context.
"""

import json
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection

from authorizations.models import Authorization
from notifications.models import OutboxEmail
from organizations.models import Organization, Representative
from reconi.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET, totp_now
from users.models import User

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "a11y"
LANGUAGES = ["nl", "en"]
WIDTHS = [1280, 390]
BLOCKING = {"serious", "critical"}

ANNA = "anna.dejong@voorbeeld-bv1.nl"
BRAM = "bram.visser@voorbeeld-bv1.nl"
SUPPORT = "support@reconi.example"

LAYOUT_JS = """() => {
  const root = document.documentElement;
  const describe = (el) => {
    let name = el.tagName.toLowerCase();
    if (el.id) name += '#' + el.id;
    if (el.classList.length) name += '.' + [...el.classList].slice(0, 3).join('.');
    const testid = el.closest('[data-testid]');
    if (testid) name += ' in [data-testid=' + testid.dataset.testid + ']';
    return name;
  };
  const hidden = [];
  for (const el of document.querySelectorAll('body *')) {
    if (!el.clientWidth) continue;
    const style = getComputedStyle(el);
    if (!['auto', 'scroll'].includes(style.overflowX)) continue;
    if (el.scrollWidth > el.clientWidth + 1) {
      hidden.push(describe(el) + ' (' + el.scrollWidth + ' px in ' + el.clientWidth + ')');
    }
  }
  const wide = [];
  if (root.scrollWidth > root.clientWidth + 1) {
    for (const el of document.querySelectorAll('body *')) {
      const box = el.getBoundingClientRect();
      if (box.width && box.right > root.clientWidth + 1 && getComputedStyle(el).position !== 'fixed') {
        wide.push(describe(el) + ' (right edge ' + Math.round(box.right) + ')');
        if (wide.length > 4) break;
      }
    }
  }
  return {overflow: root.scrollWidth - root.clientWidth, hidden: hidden, wide: wide};
}"""


@dataclass
class State:
    """One page state: a path (without language prefix) and, optionally, what to do there first."""

    name: str
    path: str
    act: Callable | None = None
    expect_status: int = 200


@dataclass
class Walk:
    page: object
    persona: str
    problems: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    visited: int = 0
    findings: int = 0
    expected_error: bool = False

    def listen(self):
        def on_console(message):
            if message.type != "error":
                return
            # An error page (403, 404) logs its own status; the walk asks for those on purpose.
            if message.location.get("url") == self.page.url and self.expected_error:
                return
            self.console.append(message.text)

        self.page.on("console", on_console)
        self.page.on("pageerror", lambda error: self.console.append(f"uncaught: {error}"))

    def run(self, states: list[State]):
        for width in WIDTHS:
            self.page.set_viewport_size({"width": width, "height": 900})
            for language in LANGUAGES:
                for state in states:
                    self.check(state, language, width)

    def check(self, state: State, language: str, width: int):
        label = f"{self.persona} {language} {width}px {state.name}"
        self.console.clear()
        self.expected_error = state.expect_status >= 400
        prefix = "" if language == "nl" else f"/{language}"
        response = self.page.goto(prefix + state.path)
        if response is None or response.status != state.expect_status:
            status = response.status if response else "none"
            self.problems.append(f"{label}: HTTP {status} at {self.page.url}")
            return
        if state.act:
            try:
                state.act(self.page)
            except Exception as exc:  # noqa: BLE001 - reported with the state, the walk goes on
                self.problems.append(f"{label}: could not {state.act.__name__}: {str(exc).splitlines()[0]}")
                return
        self.visited += 1
        # The page's own errors, before axe runs (axe's probes may trip the page's CSP themselves).
        console_errors = list(self.console)
        lang = self.page.evaluate("document.documentElement.lang")
        if lang != language:
            self.problems.append(f"{label}: page language is {lang!r}")
        self.axe(label)
        layout = self.page.evaluate(LAYOUT_JS)
        if layout["overflow"] > 0:
            self.problems.append(f"{label}: page overflows by {layout['overflow']} px: {layout['wide']}")
        if width >= 1280 and layout["hidden"]:
            self.problems.append(f"{label}: content hidden behind a sideways scroll: {layout['hidden']}")
        for text in console_errors:
            self.problems.append(f"{label}: console error: {text[:300]}")
        self.shoot(state.name, language, width)

    def axe(self, label: str):
        if not self.page.evaluate("typeof window.axe !== 'undefined'"):
            self.page.evaluate(AXE)  # evaluated, not injected as a <script>: a strict CSP stays strict
        result = self.page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
            ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
            " nodes: v.nodes.slice(0, 3)"
            ".map(n => n.target.join(' ') + ' ' + (n.failureSummary || '').split('\\n')[1])}))"
        )
        for violation in result:
            if violation["impact"] in BLOCKING:
                self.findings += 1
                self.problems.append(
                    f"{label}: axe {violation['impact']} {violation['id']} ({violation['help']}): "
                    + json.dumps(violation["nodes"], ensure_ascii=False)[:600]
                )

    def shoot(self, name: str, language: str, width: int):
        folder = ARTIFACTS / self.persona
        folder.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        path = folder / f"{slug}_{language}_{width}.jpg"
        self.page.screenshot(path=str(path), full_page=True, type="jpeg", quality=70)

    def assert_clean(self):
        summary = f"{self.persona}: {self.visited} page states checked"
        print(summary)
        assert not self.problems, summary + f", {len(self.problems)} problems:\n" + "\n".join(self.problems)


@pytest.fixture
def walk(browser, live_server, demo, request):
    context = browser.new_context(base_url=live_server.url, locale="nl-NL", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    # A CSP refusal names the element it refused (the console message alone does not).
    context.add_init_script(
        "document.addEventListener('securitypolicyviolation', (e) => console.error('CSP ' + e.violatedDirective"
        " + ' refused: ' + (e.target && e.target.outerHTML ? e.target.outerHTML.slice(0, 160)"
        " : e.sourceFile + ':' + e.lineNumber)), true);"
    )
    page = context.new_page()
    walker = Walk(page=page, persona=request.node.name.removeprefix("test_").removesuffix("_walk"))
    walker.listen()
    yield walker
    context.close()


def log_in(page, email: str):
    """Password, then the authenticator code when the login asks for one."""
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("form").filter(has=page.locator("input[name=password]")).locator("[type=submit]").first.click()
    page.wait_for_load_state("networkidle")
    if page.locator("input[name=code]").count():
        page.fill("input[name=code]", totp_now(DEMO_TOTP_SECRET))
        page.locator("form").filter(has=page.locator("input[name=code]")).locator("[type=submit]").first.click()
        page.wait_for_load_state("networkidle")
    assert "/accounts/" not in page.url, page.url


# Actions inside a page -----------------------------------------------------------------


def open_user_menu(page):
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible():
        toggler.click()
        page.locator("#main-nav.show").wait_for()
    page.locator("#user-menu").click()
    page.locator("[aria-labelledby=user-menu].show").wait_for()


def submit_first_form_empty(selector: str) -> Callable:
    def act(page):
        page.locator(selector).first.click()
        page.wait_for_load_state("load")

    return act


def upload_csv(content: str) -> Callable:
    def act(page):
        bv1 = Organization.objects.get(name="Voorbeeld BV 1")
        page.locator("select[name=csv-organization]").select_option(str(bv1.pk))
        page.set_input_files(
            "input[name=csv-file]",
            files=[{"name": "people.csv", "mimeType": "text/csv", "buffer": content.encode()}],
        )
        page.locator("[data-testid=csv-form] button[type=submit]").click()
        page.wait_for_url("**/preview/")

    return act


CSV_WITH_ERRORS = (
    "first_name,initials,last_name,date_of_birth,email,phone,level,years\r\n"
    "Jan,J.P.,de Vries,1980-04-12,jan.devries@voorbeeld-bv1.nl,+31612345678,EH3,3\r\n"
    "Piet,,Jansen,not-a-date,info@elders.example,,EH9,2\r\n"
)


# Demo states that need a request in flight --------------------------------------------------


def in_flight_requests() -> dict:
    """A signed new-means request, a pending link request for bram and an appointment awaiting
    the director's signature: the states support, bram and carla see.

    Made in a thread of its own: PDF signing runs an asyncio loop, which Playwright's thread has.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(_in_flight_requests).result()


def _in_flight_requests() -> dict:
    try:
        return _make_in_flight_requests()
    finally:
        connection.close()


def _make_in_flight_requests() -> dict:
    from requests_app.services import (
        appointment_apply,
        link_request_create,
        means_request_create,
        request_sign_as_manager,
    )

    anna = User.objects.get(email=ANNA)
    bram = User.objects.get(email=BRAM)
    bv1 = Organization.objects.get(name="Voorbeeld BV 1")
    bv2 = Organization.objects.get(name="Voorbeeld BV 2")
    person = {
        "first_name": "Jan",
        "initials": "J.",
        "last_name": "de Vries",
        "date_of_birth": "1980-04-12",
        "email": "jan.devries@voorbeeld-bv1.nl",
        "phone": "+31612345678",
        "level": "EH3",
        "years": 3,
        "authorizations": [{"scope": "level", "level": "EH3"}],
    }
    means = means_request_create(actor=anna, organization=bv1, people=[person])
    request_sign_as_manager(actor=anna, request=means)
    draft = means_request_create(
        actor=anna,
        organization=bv1,
        people=[{**person, "first_name": "Kees", "last_name": "Jansen", "email": "kees.jansen@voorbeeld-bv1.nl"}],
    )
    link = link_request_create(actor=anna, user=bram, organization=bv2)
    appointment = appointment_apply(actor=bram, organization=bv2, level="EH3")
    carla = Representative.objects.get(organization=bv2, name="Carla Smit")
    invitation = OutboxEmail.objects.filter(kind="signing_request", to__iexact=carla.email).latest("id")
    sign_link = re.search(r"https?://\S+/sign/\S+/", invitation.body_text).group(0)
    return {
        "means": means,
        "draft": draft,
        "link": link,
        "appointment": appointment,
        "sign_path": sign_link[sign_link.index("/", 8) :].removeprefix("/en"),
    }


# The walks -----------------------------------------------------------------------------


def test_anonymous_walk(walk):
    flight = in_flight_requests()
    walk.run(
        [
            State("login", "/accounts/login/"),
            State("login-error", "/accounts/login/", act=wrong_password),
            State("password-reset", "/accounts/password/reset/"),
            State("verify", "/verify/"),
            State("sign", flight["sign_path"]),
            State("sign-invalid", "/sign/not-a-valid-token/", expect_status=404),
        ]
    )
    walk.assert_clean()


def wrong_password(page):
    page.fill("input[name=login]", ANNA)
    page.fill("input[name=password]", "not-the-password")
    page.locator("form").filter(has=page.locator("input[name=password]")).locator("[type=submit]").first.click()
    page.wait_for_load_state("load")


def test_manager_walk(walk):
    flight = in_flight_requests()
    bv1 = Organization.objects.get(name="Voorbeeld BV 1")
    bram = User.objects.get(email=BRAM)
    active = Authorization.objects.filter(organization=bv1, user=bram, revoked_at__isnull=True).first()
    log_in(walk.page, ANNA)
    walk.run(
        [
            State("home", "/"),
            State("home-user-menu", "/", act=open_user_menu),
            State("profile", "/profile/"),
            State("overview", "/manage/"),
            State("permissions", "/manage/permissions/"),
            State("permissions-inactive", "/manage/permissions/?show_inactive=1"),
            State("permissions-filtered", f"/manage/permissions/?organization={bv1.pk}&level=EH3&q=loon"),
            State("permissions-expiring", "/manage/permissions/?expiring=1"),
            State("permission-revoke", f"/manage/permissions/{active.pk}/revoke/"),
            State("permission-renew", f"/manage/permissions/{active.pk}/renew/"),
            State("permissions-renew-many", "/manage/permissions/renew/?expiring=1"),
            State("wizard", "/manage/permissions/new/"),
            State("wizard-user", f"/manage/permissions/new/?organization={bv1.pk}"),
            State("wizard-level", f"/manage/permissions/new/?organization={bv1.pk}&user={bram.pk}"),
            State(
                "wizard-services",
                f"/manage/permissions/new/?organization={bv1.pk}&user={bram.pk}&level=EH3&q=all",
            ),
            State("users", "/manage/users/"),
            State("users-add", "/manage/users/add/"),
            State("users-add-errors", "/manage/users/add/", act=submit_first_form_empty("[data-testid=person-submit]")),
            State("users-add-csv", "/manage/users/add/?tab=csv"),
            State("users-add-csv-preview", "/manage/users/add/?tab=csv", act=upload_csv(CSV_WITH_ERRORS)),
            State("users-upgrade", f"/manage/users/{bram.pk}/upgrade/"),
            State("requests", "/manage/requests/"),
            State("request-new", "/manage/requests/new/"),
            State("request-signed", f"/manage/requests/{flight['means'].pk}/"),
            State("request-draft", f"/manage/requests/{flight['draft'].pk}/"),
            State("request-link", f"/manage/requests/{flight['link'].pk}/"),
            State("become-manager", "/become-manager/"),
            State("mfa", "/accounts/2fa/"),
        ]
    )
    walk.assert_clean()


def test_user_walk(walk):
    in_flight_requests()
    log_in(walk.page, BRAM)
    walk.run(
        [
            State("home-link-request", "/"),
            State("profile", "/profile/"),
            State("become-manager", "/become-manager/"),
            State("change-password", "/accounts/password/change/"),
            State("manage-forbidden", "/manage/", expect_status=403),
            State("not-found", "/manage/requests/999999/", expect_status=403),
        ]
    )
    walk.assert_clean()


def test_support_walk(walk):
    flight = in_flight_requests()
    cache.clear()
    log_in(walk.page, SUPPORT)
    walk.run(
        [
            State("admin-index", "/admin/"),
            State("admin-requests", "/admin/requests_app/request/"),
            State("admin-requests-todo", "/admin/requests_app/request/?queue=todo"),
            State("admin-request-means", f"/admin/requests_app/request/{flight['means'].pk}/change/"),
            State("admin-request-link", f"/admin/requests_app/request/{flight['link'].pk}/change/"),
            State("admin-request-appointment", f"/admin/requests_app/request/{flight['appointment'].pk}/change/"),
            State("admin-users", "/admin/users/user/"),
            State("admin-means", "/admin/users/means/"),
            State("admin-organizations", "/admin/organizations/organization/"),
            State("admin-authorizations", "/admin/authorizations/authorization/"),
            State("admin-outbox", "/admin/notifications/outboxemail/"),
            State("admin-audit", "/admin/audit/auditevent/"),
        ]
    )
    walk.assert_clean()
