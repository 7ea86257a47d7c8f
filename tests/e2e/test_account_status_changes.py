"""In a real browser: one regulator proposes freezing a company's account from the admin, the account
stays open, and a second regulator, reading in Chinese, finds it on the regulator's home and approves
it; then the account is frozen (registry.status_changes)."""

import pytest
from playwright.sync_api import expect

from registry.models import Account, AccountStatusChange
from tests.auth import browser_admin_login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_freeze_proposed_by_one_regulator_is_approved_by_another_in_the_browser(
        browser, live_server, screenshot, holding_a, national_regulator, second_national_regulator):
    for regulator in (national_regulator, second_national_regulator):
        regulator.is_staff = True
    second_national_regulator.language = "zh-hans"
    national_regulator.save()
    second_national_regulator.save()

    maker = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    browser_admin_login(maker, live_server.url, national_regulator)
    maker.goto(f"{live_server.url}/admin/registry/account/?q={holding_a.number}")
    maker.locator(f"#result_list input[name=_selected_action][value='{holding_a.pk}']").check()
    maker.locator("select[name=action]").select_option("propose_freezing")
    maker.locator("button[name=index]").click()
    maker.locator("textarea[name=reason], input[name=reason]").fill("Court order 2026-17")
    maker.locator("form:has(input[name=confirm]) [type=submit]").click()
    expect(maker.locator(".messagelist")).to_be_visible()
    assert Account.objects.get(pk=holding_a.pk).status == Account.Status.OPEN  # one person's word freezes nothing

    checker = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    browser_admin_login(checker, live_server.url, second_national_regulator)
    checker.goto(f"{live_server.url}/regulator/")
    waiting = checker.locator("#waiting")
    expect(waiting).to_contain_text(f"批准或驳回冻结账户 {holding_a.number}")
    waiting.get_by_role("link", name=f"批准或驳回冻结账户 {holding_a.number}").click()
    expect(checker.locator("#result_list")).to_contain_text("冻结")
    screenshot(checker, "account-status-change-zh-hans-phone")
    change = AccountStatusChange.objects.get()
    checker.locator(f"#result_list input[name=_selected_action][value='{change.pk}']").check()
    checker.locator("select[name=action]").select_option("approve_changes")
    checker.locator("button[name=index]").click()
    checker.locator("textarea[name=reason], input[name=reason]").fill("核对了法院裁定")
    checker.locator("form:has(input[name=confirm]) [type=submit]").click()
    expect(checker.locator(".messagelist")).to_be_visible()

    stored = Account.objects.get(pk=holding_a.pk)
    assert (stored.status, stored.status_reason) == (Account.Status.FROZEN, "Court order 2026-17")
