"""Browser tests for the means lifecycle (docs/means-lifecycle.md), on the demo data in a real Chromium.

1. bram receives the means reminder (his means' end date moved to 55 days from now), follows
   its link and asks for 3 years (a tampered period 2 first gets a clear message); BV 1 has no
   working manager, so carla signs through the emailed link; support approves and fulfils in the
   admin; the end date moved by three years, exactly once.
2. anna renews the means of two of her users from Manage -> Users in one go.
3. anna adds a branch, grants a branch-restricted authorization through the wizard, sees it in the
   list, filters on the branch, and the authorization's reminder names the branch.
"""

import datetime
import re

from dateutil.relativedelta import relativedelta
from django.core.cache import cache
from django.utils import timezone

from authorizations.models import Authorization
from notifications.models import OutboxEmail
from notifications.services import renewal_reminders_send
from organizations.models import Membership, Organization, Representative
from organizations.services import manager_withdraw
from reconi.demo import DEMO_TOTP_SECRET, totp_now
from requests_app.models import Request
from tests.browser.conftest import log_in
from users.models import Means, User

ANNA = "anna.dejong@voorbeeld-bv1.nl"
BRAM = "bram.visser@voorbeeld-bv1.nl"
CARLA = "carla.smit@voorbeeld-bv1.nl"
SUPPORT = "support@reconi.example"
BRANCH = "000011112222"


def log_out(page):
    page.context.clear_cookies()
    cache.clear()  # allauth refuses a TOTP code used before; the next login may fall in the same 30 s


def path_of(url: str) -> str:
    return url[url.index("/", 8) :]


def active_means(email: str) -> Means:
    return Means.objects.get(owner__email=email, status=Means.Status.ACTIVE)


def run_admin_action(page, request_pk: int, action: str, *, queue: str = "?queue=todo"):
    page.goto(f"/en/admin/requests_app/request/{queue}")
    page.check(f"input[name=_selected_action][value='{request_pk}']")
    page.select_option("select[name=action]", action)
    page.click("button[name=index]")
    page.wait_for_load_state("networkidle")


def test_bram_renews_his_means_from_the_reminder_carla_signs_support_fulfils_once(page):
    bv1 = Organization.objects.get(name="Voorbeeld BV 1")
    support = User.objects.get(email=SUPPORT)
    # BV 1 without a working manager: the representative signs.
    manager_withdraw(actor=support, membership=Membership.objects.get(user__email=ANNA, organization=bv1))
    today = timezone.localdate()
    means = active_means(BRAM)
    Means.objects.filter(pk=means.pk).update(valid_until=today + datetime.timedelta(days=55))
    old_until = today + datetime.timedelta(days=55)

    renewal_reminders_send(today=today)
    reminder = OutboxEmail.objects.get(kind="renewal_reminder_user", to=BRAM)
    link = re.search(r"https?://\S+/means/\d+/renew/", reminder.body_text).group(0)
    assert f"/means/{means.pk}/renew/" in link

    log_in(page, BRAM)
    page.goto(path_of(link))
    form = page.get_by_test_id("means-renew-form")
    assert page.get_by_test_id("price-3").is_visible()
    page.shots("means_renew_form")

    # A tampered period (2 years) gets a clear message and changes nothing.
    page.eval_on_selector("#period-1", "el => { el.value = '2'; el.checked = true; }")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert page.get_by_test_id("period-error").is_visible()
    assert not Request.objects.filter(kind=Request.Kind.MEANS_RENEWAL).exists()
    page.shots("means_renew_period_2")

    page.get_by_test_id("means-renew-form").locator("#period-3").check()
    with page.expect_navigation():
        page.get_by_test_id("means-renew-form").locator("button[type=submit]").click()
    request = Request.objects.get(kind=Request.Kind.MEANS_RENEWAL)
    assert request.status == Request.Status.AWAITING_SIGNATURE
    assert request.number in page.get_by_test_id("requests-about-me").inner_text()
    page.shots("home_renewal_under_way")

    # A second submit of the same page makes no second request.
    page.goto(path_of(link))
    assert page.get_by_test_id("renewal-pending").is_visible()
    assert Request.objects.filter(kind=Request.Kind.MEANS_RENEWAL).count() == 1

    # Carla signs through the emailed link, as a visitor.
    log_out(page)
    carla = Representative.objects.get(organization=bv1, email=CARLA)
    invitation = OutboxEmail.objects.filter(kind="signing_request", to__iexact=CARLA).latest("id")
    sign_link = re.search(r"https?://\S+/sign/\S+/", invitation.body_text).group(0)
    page.goto(path_of(sign_link))
    assert "Bram Visser" in page.get_by_test_id("form-html").inner_text()
    page.locator("input[name=id-name]").fill("Carla Smit")
    page.locator("input[name=id-date_of_birth]").fill(carla.date_of_birth.isoformat())
    page.locator("input[name=action][value=identify] ~ button").click()
    page.wait_for_load_state("networkidle")
    code_mail = OutboxEmail.objects.filter(kind="signing_code", to__iexact=CARLA).latest("id")
    code = re.search(r"(?<![\d-])(\d{6})(?!\d)", code_mail.body_text).group(1)
    page.locator("input[name=sign-code]").fill(code)
    page.locator("input[name=sign-consent]").check()
    page.locator("input[name=action][value=sign] ~ button").click()
    page.wait_for_selector("[data-testid=sign-done]")
    page.shots("carla_signed")
    request.refresh_from_db()
    assert request.status == Request.Status.SUBMITTED
    assert active_means(BRAM).valid_until == old_until

    # Support sees the renewal in the queue, approves and fulfils it.
    log_out(page)
    log_in(page, SUPPORT, totp=False)
    page.goto("/en/admin/requests_app/request/?queue=todo")
    if page.locator("input[name=code]").count():  # the admin asks for the second factor
        page.fill("input[name=code]", totp_now(DEMO_TOTP_SECRET))
        page.locator("form").filter(has=page.locator("input[name=code]")).locator("[type=submit]").first.click()
        page.wait_for_load_state("networkidle")
    assert request.number in page.content()
    run_admin_action(page, request.pk, "approve_requests")
    run_admin_action(page, request.pk, "fulfil_requests")
    page.shots("admin_fulfilled")
    request.refresh_from_db()
    assert request.status == Request.Status.FULFILLED
    assert active_means(BRAM).valid_until == old_until + relativedelta(years=3)

    # Fulfilling again changes nothing.
    run_admin_action(page, request.pk, "fulfil_requests", queue="")
    assert active_means(BRAM).valid_until == old_until + relativedelta(years=3)
    assert OutboxEmail.objects.filter(kind="means_renewed", to=BRAM).count() == 1


def test_anna_renews_the_means_of_two_users_in_one_go(page):
    today = timezone.localdate()
    ends = {}
    for email, days in ((BRAM, 20), (CARLA, 200)):
        means = active_means(email)
        Means.objects.filter(pk=means.pk).update(valid_until=today + datetime.timedelta(days=days))
        ends[email] = today + datetime.timedelta(days=days)
    bram, carla = User.objects.get(email=BRAM), User.objects.get(email=CARLA)

    log_in(page, ANNA)
    page.goto("/manage/users/")
    selection = page.get_by_test_id("means-selection-form")
    for person in (bram, carla):
        selection.locator(f"input[name=ids][value='{person.pk}']").check()
    page.shots("users_selected")
    with page.expect_navigation():
        page.get_by_test_id("means-renew-selected").click()
    preview = page.get_by_test_id("means-renew-preview")
    assert preview.get_by_test_id("means-renew-row").count() == 2
    page.locator("input[name=period][value='1']").check()
    page.shots("means_renew_preview")
    with page.expect_navigation():
        page.get_by_test_id("means-renew-confirm").click()
    assert page.url.split("?")[0].endswith("/manage/users/"), page.url
    page.shots("users_after_renewal")
    for email in (BRAM, CARLA):
        assert active_means(email).valid_until == ends[email] + relativedelta(years=1)

    # The browser's back button and a second confirmation renew nothing twice.
    page.go_back()
    page.wait_for_load_state("networkidle")
    if page.get_by_test_id("means-renew-confirm").count():
        with page.expect_navigation():
            page.get_by_test_id("means-renew-confirm").click()
        assert page.get_by_test_id("form-error").is_visible()
    for email in (BRAM, CARLA):
        assert active_means(email).valid_until == ends[email] + relativedelta(years=1)


def test_a_branch_restricted_authorization_is_granted_listed_filtered_and_reminded(page):
    bv1 = Organization.objects.get(name="Voorbeeld BV 1")
    bram = User.objects.get(email=BRAM)
    before = set(Authorization.objects.values_list("pk", flat=True))

    log_in(page, ANNA)
    page.goto("/manage/branches/")
    form = page.get_by_test_id("branch-form")
    form.locator("select[name=organization]").select_option(str(bv1.pk))
    form.locator("input[name=number]").fill(BRANCH)
    form.locator("input[name=name]").fill("Vestiging Utrecht")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert BRANCH in page.get_by_test_id("branch-table").inner_text()
    page.shots("branches")

    page.goto(f"/manage/permissions/new/?organization={bv1.pk}&user={bram.pk}&level=EH2&q=all")
    step = page.get_by_test_id("step-services")
    step.get_by_test_id("wizard-branch").select_option(BRANCH)
    # The results follow the chosen branch (htmx): their add buttons carry it.
    page.wait_for_selector(f"[data-testid=scope-level] input[name=branch][value='{BRANCH}']", state="attached")
    page.shots("wizard_branch")
    with page.expect_navigation():
        page.get_by_test_id("scope-level").get_by_test_id("add-authorization").click()
    assert BRANCH in page.get_by_test_id("wizard-list").inner_text()
    with page.expect_navigation():
        page.get_by_test_id("wizard-continue").click()
    assert BRANCH in page.get_by_test_id("review-branch").inner_text()
    page.locator("input[name=period][value='1']").check()
    with page.expect_navigation():
        page.get_by_test_id("wizard-confirm").click()
    new = Authorization.objects.exclude(pk__in=before).get()
    assert (new.user, new.organization, new.branch_number) == (bram, bv1, BRANCH)

    # Listed, with its branch, and found by the branch filter (and only it).
    row = page.locator(f"[data-testid=permission-row][data-id='{new.pk}']")
    assert BRANCH in row.get_by_test_id("permission-branch").inner_text()
    filters = page.get_by_test_id("permission-filters")
    filters.locator("input[name=branch]").fill(BRANCH)
    with page.expect_navigation():
        filters.locator("button[type=submit]").click()
    rows = page.locator("[data-testid=permission-row]")
    assert rows.count() == 1 and rows.first.get_attribute("data-id") == str(new.pk)
    page.shots("list_filtered_by_branch")

    # A branch of another organisation is refused with a clear message, nothing added.
    andere = Organization.objects.get(name="Andere BV")
    andere.branches.create(number="000099998888", name="Andere vestiging")
    page.goto(f"/manage/permissions/new/?organization={bv1.pk}&user={bram.pk}&level=EH2&q=all&branch=000099998888")
    assert page.get_by_test_id("branch-error").is_visible()

    # Its reminder names the branch.
    Authorization.objects.filter(pk=new.pk).update(valid_until=timezone.localdate() + datetime.timedelta(days=20))
    renewal_reminders_send(today=timezone.localdate())
    reminder = OutboxEmail.objects.get(kind="renewal_reminder_user", to=BRAM)
    assert BRANCH in reminder.body_text and BRANCH in reminder.body_html
