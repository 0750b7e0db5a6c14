"""Browser tests for Users and Requests, on the demo data in a real Chromium.

1. The demo manager adds a user and sees the request; support records the
   identity check, approves and fulfils it in the admin; the new user's
   confirmation email arrives.
2. The manager links bram from BV 1 to BV 2; bram accepts on his home page; the
   manager then authorizes him at BV 2.
"""

from django.core import mail
from django.core.cache import cache

from authorizations.models import Authorization
from organizations.models import Membership, Organization
from requests_app.models import Request
from tests.browser.conftest import log_in
from users.models import Means, User

ANNA = "anna.dejong@voorbeeld-bv1.nl"
BRAM = "bram.visser@voorbeeld-bv1.nl"
SUPPORT = "support@reconi.example"
NEW_USER = "jan.devries@voorbeeld-bv1.nl"


def log_out(page):
    page.context.clear_cookies()
    # allauth refuses a TOTP code used before; the next login may fall in the same 30 seconds.
    cache.clear()


def run_admin_action(page, request_pk: int, action: str):
    page.goto("/en/admin/requests_app/request/?queue=todo")
    page.check(f"input[name=_selected_action][value='{request_pk}']")
    page.select_option("select[name=action]", action)
    page.click("button[name=index]")
    page.wait_for_load_state("networkidle")


def test_add_a_user_support_approves_and_the_user_gets_the_email(page):
    log_in(page, ANNA)
    page.goto("/en/manage/users/")
    page.shots("users_list")
    page.get_by_test_id("add-users").click()
    form = page.get_by_test_id("person-form")
    bv1 = Organization.objects.get(name="Voorbeeld BV 1")
    form.get_by_label("Organisation").select_option(str(bv1.pk))
    form.get_by_label("First name").fill("Jan")
    form.get_by_label("Last name").fill("de Vries")
    form.get_by_label("Date of birth").fill("1980-04-12")
    form.get_by_label("Email address").fill(NEW_USER)
    form.locator("select[name=person-level]").select_option("EH3")
    form.locator("input[name=person-all_services]").check()
    page.shots("add_user_form")
    page.get_by_test_id("person-submit").click()

    page.wait_for_selector("[data-testid=people-table]")
    request = Request.objects.get(kind=Request.Kind.NEW_MEANS)
    assert request.number in page.content()
    page.shots("request_draft")
    page.get_by_test_id("sign").click()
    page.wait_for_selector("[data-testid=request-status] [data-status=submitted]")
    page.shots("request_signed")

    page.goto("/en/manage/requests/")
    assert page.get_by_test_id("request-table").get_by_text(request.number).is_visible()
    page.shots("request_list")

    log_out(page)
    log_in(page, SUPPORT)
    run_admin_action(page, request.pk, "record_identity_check")
    page.select_option("select[name=method]", "face_to_face")
    page.select_option("select[name=document_type]", "passport")
    page.fill("input[name=document_last4]", "X12B")
    page.shots("admin_identity_check")
    page.locator("input[type=submit][value=Record]").click()
    page.wait_for_load_state("networkidle")
    run_admin_action(page, request.pk, "approve_requests")
    page.shots("admin_approved")
    run_admin_action(page, request.pk, "fulfil_requests")
    page.shots("admin_fulfilled")

    request.refresh_from_db()
    assert request.status == Request.Status.FULFILLED, page.content()[:3000]
    user = User.objects.get(email=NEW_USER)
    assert Means.objects.active().filter(owner=user, level="EH3").exists()
    welcome = [m for m in mail.outbox if NEW_USER in m.to]
    assert len(welcome) == 1, [(m.to, m.subject) for m in mail.outbox]
    assert "/accounts/password/reset/key/" in welcome[0].body


def test_link_bram_to_bv2_accept_and_authorize_him_there(page):
    bv2 = Organization.objects.get(name="Voorbeeld BV 2")
    bram = User.objects.get(email=BRAM)
    assert not Membership.objects.filter(user=bram, organization=bv2).exists()

    log_in(page, ANNA)
    page.goto("/en/manage/requests/")
    page.get_by_test_id("new-request").click()
    page.locator("select[name=user]").select_option(str(bram.pk))
    page.locator("select[name=organization]").select_option(str(bv2.pk))
    page.shots("link_request_form")
    page.get_by_role("button", name="Send link request").click()
    page.wait_for_selector("[data-testid=request-status] [data-status=awaiting_signature]")
    page.shots("link_request_sent")
    assert any(BRAM in m.to for m in mail.outbox)

    log_out(page)
    log_in(page, BRAM)
    page.get_by_test_id("pending-link").wait_for()
    page.shots("bram_home_pending_link")
    page.get_by_test_id("link-accept").click()
    page.wait_for_load_state("networkidle")
    page.shots("bram_home_accepted")
    assert page.get_by_test_id("pending-link").count() == 0
    assert Membership.objects.filter(user=bram, organization=bv2).exists()

    log_out(page)
    log_in(page, ANNA)
    page.goto(f"/en/manage/users/?organization={bv2.pk}")
    assert page.get_by_test_id("user-table").get_by_text(BRAM).is_visible()
    page.shots("bv2_users_with_bram")
    page.goto(f"/en/manage/permissions/new/?organization={bv2.pk}&user={bram.pk}&level=EH3&q=all")
    page.get_by_test_id("add-authorization").first.click()
    page.wait_for_load_state("networkidle")
    page.goto(f"/en/manage/permissions/new/?{page.url.split('?', 1)[1]}&step=review")
    page.shots("authorize_review")
    page.get_by_test_id("wizard-confirm").click()
    page.wait_for_load_state("networkidle")
    page.shots("authorized_at_bv2")
    assert Authorization.objects.in_force().filter(user=bram, organization=bv2).exists()
