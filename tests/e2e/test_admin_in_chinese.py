"""A regulator whose language is Chinese reads the admin in Chinese, with yuan and Beijing time (issue 16, item 4)."""

from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.models import User
from core.admin import format_market_time
from tests.auth import browser_admin_login
from trading.models import Trade

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_chinese_regulator_reads_trades_in_yuan_and_beijing_time(browser, live_server, screenshot):
    call_command("seed_demo", companies=4, password="correct-horse-battery", stdout=StringIO())
    regulator = User.objects.get(username="regulator1")
    regulator.language = "zh-hans"
    regulator.save(update_fields=["language"])
    trade = Trade.objects.order_by("pk").first()

    page = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    browser_admin_login(page, live_server.url, regulator)
    page.goto(f"{live_server.url}/admin/trading/trade/")

    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("h1")).to_contain_text("成交")  # Django's "Select trade to view" with the model's Chinese name
    headers = page.locator("#result_list thead")
    expect(headers).to_contain_text("价格（元/吨）")
    expect(headers).to_contain_text("成交时间（北京时间）")
    row = page.locator("#result_list tbody tr", has=page.locator(f"a[href$='/{trade.pk}/change/']"))
    expect(row).to_contain_text(f"{trade.price / 100:,.2f}")
    expect(row).to_contain_text(format_market_time(trade.executed_at))
    screenshot(page, "admin-trades-zh-hans")
