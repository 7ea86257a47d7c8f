"""One-way bidding in the browser: the national regulator announces paid allocation (a refused reserve
price first, the reason beside the field), the exchange operator approves it from the auction's page,
a member bids from its phone (below the reserve first, refused beside the price), the close job clears
it and the member reads the results; the pages read in Chinese and have no serious accessibility
violation (axe-core injected: the contexts bypass the page's CSP for it)."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.axe import serious_violations
from tests.e2e.test_login_and_holdings import login
from tests.trading.conftest import balance, fund
from trading.models import Auction
from trading.tasks import auctions_close_task

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_paid_allocation_is_announced_approved_bid_for_and_published(
    browser, live_server, screenshot, company_b, trader_b, national_regulator, exchange_operator
):
    fund(company_b, regulator=national_regulator, operator=exchange_operator, allowances=0)

    regulator = browser.new_context(viewport={"width": 1366, "height": 768}, bypass_csp=True).new_page()
    login(regulator, live_server, national_regulator.username)
    regulator.goto(f"{live_server.url}/auctions/")
    expect(regulator.get_by_role("heading", name="Announce an auction")).to_be_visible()
    regulator.get_by_label("Instrument").select_option("CEA21")
    regulator.get_by_label("Quantity (tonnes)").fill("20000")
    regulator.get_by_label("Reserve price (CNY per tonne)").fill("48.001")
    regulator.get_by_label("Minimum bid (tonnes)").fill("100")
    regulator.get_by_role("button", name="Announce").click()
    expect(regulator.locator("#error-reserve_price")).to_contain_text("two decimals")
    assert not Auction.objects.exists()
    regulator.get_by_label("Reserve price (CNY per tonne)").fill("48.00")
    regulator.get_by_role("button", name="Announce").click()
    expect(regulator.get_by_role("status")).to_contain_text("waits for the exchange's approval")
    expect(regulator.locator("#auction-status")).to_contain_text("Awaiting approval")
    assert serious_violations(regulator) == []
    auction = Auction.objects.get()
    assert auction.paid_allocation and auction.reserved == 20_000

    operator = browser.new_context(viewport={"width": 1366, "height": 768}, bypass_csp=True).new_page()
    login(operator, live_server, exchange_operator.username)
    operator.goto(f"{live_server.url}/auctions/")
    operator.locator(f"#auction-{auction.pk}").get_by_role("link", name=str(auction.pk)).click()
    operator.get_by_role("button", name="Approve").click()
    expect(operator.locator("#auction-status")).to_contain_text("Approved")
    assert serious_violations(operator) == []
    screenshot(operator, "auction-approved")

    member = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True).new_page()
    login(member, live_server, trader_b.username)
    member.goto(f"{live_server.url}/auctions/{auction.pk}/")
    member.get_by_label("Price (CNY per tonne)").fill("47.50")
    member.get_by_label("Quantity (tonnes)").fill("5000")
    member.get_by_role("button", name="Place bid").click()
    expect(member.locator("#error-price")).to_contain_text("48.00")
    member.get_by_label("Price (CNY per tonne)").fill("50.00")
    member.get_by_role("button", name="Place bid").click()
    expect(member.get_by_role("status")).to_contain_text("Only you see it until the close")
    expect(member.locator("#my-bids")).to_contain_text("5,000")
    assert member.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1")
    assert serious_violations(member) == []
    screenshot(member, "auction-bid-phone")

    Auction.objects.filter(pk=auction.pk).update(ends_at=timezone.now() - dt.timedelta(seconds=1))
    assert auctions_close_task() == 1
    member.reload()
    expect(member.locator("#auction-results")).to_contain_text("50.00")
    expect(member.locator("#my-bids tbody")).to_contain_text("Won")
    assert balance(company_b, "CEA21")[2] == 5_000  # pending (T+1)

    # In Chinese.
    trader_b.language = "zh-hans"
    trader_b.save(update_fields=["language"])
    member.goto(f"{live_server.url}/auctions/{auction.pk}/")
    expect(member.get_by_role("heading", name="竞价结果")).to_be_visible()
    expect(member.locator("#auction-results")).to_contain_text("成交价")
    assert serious_violations(member) == []
