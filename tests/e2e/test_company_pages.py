"""A trader logs in, sees the dashboard, creates an API token (used, then revoked), and looks through
its orders and trades; the pages fit a laptop and a phone and work from the keyboard."""

import datetime as dt
from pathlib import Path

import pytest
from playwright.sync_api import expect

from allocation.services import period_create
from registry.models import Asset
from tests.compliance.helpers import plan_issue, verify
from tests.e2e.test_login_and_holdings import login
from tests.trading.conftest import fund, place
from trading.models import Order

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def trading_history(company_a, company_b, trader_a, trader_b, national_regulator, second_national_regulator, exchange_operator):
    period = period_create(code="2021", first_year=2021, last_year=2021, vintages=[Asset.objects.get(code="CEA21")],
                           surrender_deadline=dt.date.today() + dt.timedelta(days=300), actor=national_regulator)
    # 100,000 MWh x 0.8218 t/MWh, 70 % pre-allocated: 57,526 t; verified 80,000 t: obligation 57,526 + 16,000.
    plan_issue(period, [(company_a, "coal_gt300", 100_000)], maker=national_regulator, checker=second_national_regulator)
    verify(period, national_regulator, {company_a: 80_000})
    fund(company_a, regulator=national_regulator, operator=exchange_operator)
    fund(company_b, regulator=national_regulator, operator=exchange_operator)
    place(trader_b, "sell", "54.50", 1200, client_order_id="b-1")
    place(trader_a, "buy", "55.00", 1000, client_order_id="a-buy")
    place(trader_b, "buy", "54.10", 300, client_order_id="b-2")
    place(trader_a, "sell", "54.00", 300, client_order_id="a-sell")
    place(trader_a, "buy", "52.00", 2000, client_order_id="a-rests")


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1")


def test_a_trader_uses_the_dashboard_tokens_orders_and_trades(browser, live_server, screenshot, trading_history, trader_a, company_a):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
    page = context.new_page()
    login(page, live_server, trader_a.username)

    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    balances = page.locator("section", has=page.get_by_role("heading", name="Balances"))
    # Bought 1,000 t (pending until the next trading day), sold 300 t of the 157,526 held.
    expect(balances.get_by_role("row", name="CEA21 157,226 0 1,000 0 0")).to_be_visible()
    expect(page.get_by_role("row", name="2021 57,526 80,000 0 73,526 open")).to_be_visible()
    # 300 t x 54.10 - 1,000 t x 54.50 - fees (27.25 + 8.115 rounded down to 8.11)
    expect(page.locator("#cash-flow-total")).to_have_text("-38,305.36")
    expect(page.get_by_role("link", name=f"HA-{company_a.uscc}")).to_be_visible()
    assert no_horizontal_scroll(page)
    DOCS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS / "dashboard.png"), full_page=True)

    # A token, created from the keyboard: the key is shown once and works in the API.
    page.get_by_role("link", name="API tokens").first.click()
    page.get_by_label("Name").focus()
    page.keyboard.type("nightly export")
    page.keyboard.press("Tab")  # the expiry
    page.keyboard.press("Tab")  # the button
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Token “nightly export” created")).to_be_visible()
    key = page.locator("#new-key").input_value()
    assert key.startswith("ncr_")
    screenshot(page, "token-created")
    api = context.request
    assert api.get(f"{live_server.url}/api/v1/balances/", headers={"Authorization": f"Token {key}"}).status == 200

    page.get_by_role("link", name="API tokens").first.click()  # reloading: the key is gone for good
    expect(page.locator("#new-key")).to_have_count(0)
    row = page.get_by_role("row", name="nightly export")
    expect(row).to_contain_text("active")
    row.get_by_role("button", name="Revoke nightly export").click()
    expect(page.get_by_role("status")).to_contain_text("revoked")
    expect(page.get_by_role("row", name="nightly export")).to_contain_text("revoked")
    assert api.get(f"{live_server.url}/api/v1/balances/", headers={"Authorization": f"Token {key}"}).status == 401

    # Orders, filtered, and one order's fills.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Orders").click()
    page.get_by_label("Status").select_option("filled")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("cell", name="a-buy")).to_be_visible()
    expect(page.get_by_role("cell", name="a-rests")).to_have_count(0)
    page.get_by_role("link", name=str(Order.objects.get(client_order_id="a-buy").pk), exact=True).click()
    expect(page.get_by_role("heading", name="Fills")).to_be_visible()
    expect(page.get_by_role("cell", name="54,500.00")).to_be_visible()  # 1,000 t at 54.50

    # Trades and their CSV.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Trades").click()
    expect(page.get_by_role("cell", name="Sell")).to_be_visible()
    screenshot(page, "trades")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("Trade,Executed at") and len(text.splitlines()) == 3

    # A phone: nothing wider than the screen, tables scroll inside their cards.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, storage_state=context.storage_state())
    small = phone.new_page()
    for path in ("/", "/orders/", "/trades/", "/profile/tokens/"):
        small.goto(f"{live_server.url}{path}")
        assert no_horizontal_scroll(small), path
    small.goto(f"{live_server.url}/")
    screenshot(small, "dashboard-phone")


def test_the_dashboard_in_chinese(browser, live_server, trading_history, trader_a):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("用户名").fill(trader_a.username)
    page.get_by_label("密码").fill("correct-horse-battery")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="概览")).to_be_visible()
    expect(page.get_by_role("heading", name="余额")).to_be_visible()
    page.get_by_label("语言").select_option("en")
    page.get_by_role("button", name="切换").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
