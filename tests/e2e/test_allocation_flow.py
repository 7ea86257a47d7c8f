"""One regulator imports a plan in the admin, another approves it, and the company sees its allowances."""

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from allocation.services import period_create
from registry.models import Asset
from tests.auth import browser_admin_login
from tests.factories import user_with_role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def admin_login(browser, live_server, user):
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    browser_admin_login(page, live_server.url, user)
    return page


def decide(page, live_server, decision, reason):
    """From the plans' list, the first plan's review page, then the decision with its reason."""
    page.goto(f"{live_server.url}/admin/allocation/allocationplan/")
    page.locator("#result_list").get_by_role("link", name="Review the plan").first.click()
    page.fill("textarea[name=reason]", reason)
    page.locator(f"button[name=decision][value={decision}]").click()


def test_a_plan_is_imported_approved_and_seen_by_the_company(browser, live_server, screenshot, tmp_path, company_a, trader_a):
    maker = user_with_role(Role.NATIONAL_REGULATOR, is_staff=True)
    checker = user_with_role(Role.NATIONAL_REGULATOR, is_staff=True)
    period_create(code="2021", first_year=2021, last_year=2021, vintages=[Asset.objects.get(code="CEA21")], actor=maker)
    plan_file = tmp_path / "plan-2021.csv"
    plan_file.write_text(f"uscc,unit_category,electricity_mwh,heat_gj,correction_factor\n{company_a.uscc},coal_gt300,1000000,50000,1\n")

    page = admin_login(browser, live_server, maker)
    page.goto(f"{live_server.url}/admin/allocation/allocationplan/import/")
    page.select_option("select[name=period]", label="2021")
    page.select_option("select[name=vintage]", label="CEA21")
    page.set_input_files("input[name=file]", str(plan_file))
    page.click("input[value=Preview]")
    expect(page.locator("#preview")).to_contain_text("579,128")  # 70 % of 827,325 t
    screenshot(page, "allocation-import-preview")
    page.click("input[name=confirm]")
    # The save runs as a job (in-process under the live server's eager tasks); its page says what it saved.
    expect(page.locator("#import-progress")).to_have_attribute("value", "100")
    expect(page.locator("#content")).to_contain_text("1 unit saved in plan")
    screenshot(page, "allocation-import-job")
    page.click("text=Open it")
    page.locator("a", has_text="Review the plan").first.click()
    page.fill("textarea[name=reason]", "Pre-allocation 2021")
    page.locator("button[name=decision][value=submit]").click()
    expect(page.locator(".messagelist")).to_contain_text("submitted for approval")
    expect(page.locator("#plan-awaiting")).to_be_visible()  # the maker is not offered Approve

    page = admin_login(browser, live_server, checker)
    page.goto(f"{live_server.url}/admin/allocation/allocationplan/")
    page.locator("#result_list").get_by_role("link", name="Review the plan").first.click()
    expect(page.locator("#plan-totals")).to_contain_text("579,128")  # the facts before the decision
    expect(page.locator("#plan-facts")).to_contain_text("Pre-allocation 2021")  # the maker's reason
    screenshot(page, "allocation-review")
    page.fill("textarea[name=reason]", "Checked against the benchmark table")
    page.get_by_role("button", name="Approve and issue 579,128 t to 1 units").click()
    expect(page.locator(".messagelist")).to_contain_text("579,128 t issued to 1 units")
    expect(page.locator("#plan-issued")).to_contain_text("ledger transfer")

    context = browser.new_context()
    company = context.new_page()
    company.goto(f"{live_server.url}/login/")
    company.get_by_label("Username").fill(trader_a.username)
    company.get_by_label("Password").fill("correct-horse-battery")
    company.get_by_role("button", name="Log in").click()
    balances = company.locator("section", has=company.get_by_role("heading", name="Balances"))
    expect(balances.get_by_role("row", name="CEA21")).to_contain_text("579,128")
    obligations = company.locator("section", has=company.get_by_role("heading", name="Compliance obligations"))
    expect(obligations.get_by_role("row", name="2021")).to_contain_text("579,128")  # allocated, nothing verified yet
    screenshot(company, "holdings-after-allocation")
