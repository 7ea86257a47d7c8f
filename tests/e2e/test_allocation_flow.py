"""One regulator imports a plan in the admin, another approves it, and the company sees its allowances."""

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from allocation.services import period_create
from registry.models import Asset
from tests.auth import browser_second_factor
from tests.factories import user_with_role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def admin_login(browser, live_server, user):
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "correct-horse-battery")
    page.click("input[type=submit]")
    browser_second_factor(page, user)
    return page


def run_action(page, live_server, action_label, reason):
    page.goto(f"{live_server.url}/admin/allocation/allocationplan/")
    page.locator("input.action-select").first.check()
    page.select_option("select[name=action]", label=action_label)
    page.click("button[name=index]")
    page.fill("textarea[name=reason]", reason)
    page.click("input[value=Confirm]")


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
    run_action(page, live_server, "Submit the selected plans for approval", "Pre-allocation 2021")
    expect(page.locator(".messagelist")).to_contain_text("1 done")

    page = admin_login(browser, live_server, checker)
    run_action(page, live_server, "Approve and issue the selected plans", "Checked against the benchmark table")
    expect(page.locator(".messagelist")).to_contain_text("1 done")
    expect(page.locator("#result_list")).to_contain_text("Approved and issued")

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
