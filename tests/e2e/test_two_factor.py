"""A regulator's first login in the browser: enrolment with the QR code (under the Content-Security-
Policy), then a later login that asks for the code."""

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from accounts.roles import Role
from tests.auth import totp_code
from tests.factories import user_with_role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _log_in(page, live_server, user):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.click("main form button[type=submit]")


def test_a_regulator_enrols_then_must_give_a_code_at_each_login(browser, live_server, screenshot):
    regulator = user_with_role(Role.NATIONAL_REGULATOR, is_staff=True)
    context = browser.new_context()
    page = context.new_page()
    violations = []
    page.on("console", lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None)

    _log_in(page, live_server, regulator)
    expect(page).to_have_url(f"{live_server.url}/account/two-factor/?next=%2Fregulator%2F")  # its landing
    page.get_by_role("button", name="Set up two-factor authentication").click()
    expect(page.locator(".qr svg")).to_be_visible()
    screenshot(page, "two-factor-enrol")
    device = TOTPDevice.objects.get(user=regulator, confirmed=False)
    page.get_by_label("Six-digit code").fill(totp_code(device))
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(f"{live_server.url}/regulator/")
    expect(page.get_by_role("status")).to_contain_text("Two-factor authentication is on")

    page.click("header form button[type=submit]")  # log out
    _log_in(page, live_server, regulator)
    expect(page).to_have_url(f"{live_server.url}/account/two-factor/verify/?next=%2Fregulator%2F")
    page.goto(f"{live_server.url}/admin/")
    expect(page).to_have_url(f"{live_server.url}/account/two-factor/verify/?next=%2Fadmin%2F")
    page.get_by_label("Six-digit code").fill(totp_code(TOTPDevice.objects.get(user=regulator)))
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(f"{live_server.url}/admin/")
    assert not violations, violations
    context.close()
