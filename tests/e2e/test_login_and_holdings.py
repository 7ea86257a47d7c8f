"""A trader logs in through the browser and sees its own holdings; a regulator reaches the admin."""

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from registry import services
from registry.models import Account, Asset, Transfer
from tests.auth import browser_admin_login, browser_login
from tests.factories import user_with_role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def login(page, live_server, username, password="correct-horse-battery"):
    """The login page, and the second factor for roles that need it (tests.auth.browser_login)."""
    browser_login(page, live_server.url, username, password)


def test_a_trader_logs_in_and_sees_its_holdings(page, live_server, screenshot, company_a, company_b, trader_a, national_regulator):
    cea21 = Asset.objects.get(code="CEA21")
    national = services.system_account(Account.Kind.NATIONAL_ISSUANCE)
    services.allowances_issue(asset=cea21, amount=150_000, actor=national_regulator)
    for company, tonnes in ((company_a, 120_000), (company_b, 30_000)):
        services.transfer_create(
            source=national, destination=Account.objects.get(organization=company, kind=Account.Kind.HOLDING),
            asset=cea21, amount=tonnes, actor=national_regulator, kind=Transfer.Kind.ALLOCATION,
        )

    login(page, live_server, trader_a.username)
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_text("120,000")).to_be_visible()
    expect(page.get_by_text(f"HA-{company_b.uscc}")).to_have_count(0)
    screenshot(page, "holdings")

    page.get_by_role("link", name=f"HA-{company_a.uscc}").click()
    expect(page.get_by_role("cell", name="Allocation")).to_be_visible()

    page.goto(f"{live_server.url}/accounts/HA-{company_b.uscc}/")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.get_by_text("30,000")).to_have_count(0)


def test_a_wrong_password_is_refused_in_the_browser(page, live_server, trader_a):
    login(page, live_server, trader_a.username, password="not-the-password")
    expect(page.get_by_role("alert")).to_contain_text("didn't match")


def test_a_regulator_logs_into_the_admin(page, live_server, screenshot, company_a):
    regulator = user_with_role(Role.NATIONAL_REGULATOR, is_staff=True)
    browser_admin_login(page, live_server.url, regulator)
    page.goto(f"{live_server.url}/admin/registry/account/?q={company_a.uscc}")
    expect(page.get_by_text(f"HA-{company_a.uscc}")).to_be_visible()
    screenshot(page, "admin-accounts")
