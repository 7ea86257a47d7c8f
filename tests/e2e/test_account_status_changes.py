"""In a real browser: one regulator proposes freezing a company's account (or part of one of its
holdings) from the admin, nothing is frozen yet, and a second regulator, reading in Chinese, finds it
on the regulator's home and approves it; then it is frozen (registry.status_changes)."""

import pytest
from playwright.sync_api import expect

from registry.models import Account, AccountStatusChange, Asset, Balance
from tests.auth import browser_admin_login
from tests.registry.helpers import allowances_give

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def run_action_with_reason(page, pk: int, action: str, reason: str, *, asset: str = "", amount: str = "") -> None:
    """On an admin list page: selects the row of `pk`, runs `action`, gives the reason (and a holding's
    asset and amount) on the confirmation page (core.admin.action_with_form) and waits for the outcome's message."""
    page.locator(f"#result_list input[name=_selected_action][value='{pk}']").check()
    page.locator("select[name=action]").select_option(action)
    page.locator("button[name=index]").click()
    if asset:
        page.locator("select[name=asset]").select_option(label=asset)
        page.locator("input[name=amount]").fill(amount)
    page.locator("textarea[name=reason], input[name=reason]").fill(reason)
    page.locator("form:has(input[name=confirm]) [type=submit]").click()
    expect(page.locator(".messagelist")).to_be_visible()


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
    run_action_with_reason(maker, holding_a.pk, "propose_freezing", "Court order 2026-17")
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
    run_action_with_reason(checker, change.pk, "approve_changes", "核对了法院裁定")

    stored = Account.objects.get(pk=holding_a.pk)
    assert (stored.status, stored.status_reason) == (Account.Status.FROZEN, "Court order 2026-17")


def test_part_of_a_holding_frozen_on_one_regulators_proposal_and_anothers_approval_in_the_browser(
        browser, live_server, screenshot, holding_a, national_regulator, second_national_regulator):
    cea = Asset.objects.get(code="CEA21")
    for regulator in (national_regulator, second_national_regulator):
        regulator.is_staff = True
    second_national_regulator.language = "zh-hans"
    national_regulator.save()
    second_national_regulator.save()
    allowances_give(account=holding_a, asset=cea, amount=100, regulator=national_regulator)

    maker = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    browser_admin_login(maker, live_server.url, national_regulator)
    maker.goto(f"{live_server.url}/admin/registry/account/?q={holding_a.number}")
    run_action_with_reason(maker, holding_a.pk, "propose_freezing_holding", "Court order 2026-31", asset="CEA21", amount="40")
    expect(maker.locator(".messagelist")).to_contain_text("Propose freezing part of a holding: 1 done.")
    assert Balance.objects.get(account=holding_a, asset=cea).frozen == 0  # one person's word freezes nothing

    checker = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    browser_admin_login(checker, live_server.url, second_national_regulator)
    checker.goto(f"{live_server.url}/regulator/")
    waiting = checker.get_by_role("link", name=f"批准或驳回冻结账户 {holding_a.number}")
    expect(waiting).to_contain_text("40 CEA21")
    waiting.click()
    expect(checker.locator("#result_list")).to_contain_text("可用 100，冻结 0")
    screenshot(checker, "holding-freeze-zh-hans-phone")
    run_action_with_reason(checker, AccountStatusChange.objects.get().pk, "approve_changes", "核对了法院裁定")

    held = Balance.objects.get(account=holding_a, asset=cea)
    assert (held.available, held.frozen) == (60, 40)
    assert Account.objects.get(pk=holding_a.pk).status == Account.Status.OPEN  # the rest of the holding trades on
