"""Block agreement trading in the browser: one company posts a block sell from the trading page's
block link (a refused price first, the reason beside the field), another accepts it from its phone,
both see the trade; the page reads in Chinese and has no serious accessibility violation (axe-core
injected: the contexts bypass the page's CSP for it)."""

import pytest
from playwright.sync_api import expect

from tests.e2e.axe import serious_violations
from tests.e2e.test_login_and_holdings import login
from tests.trading.conftest import balance, fund
from trading.models import BlockOffer, Trade

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_block_is_posted_refused_corrected_and_accepted_by_another_member(
    browser, live_server, screenshot, company_a, company_b, trader_a, trader_b, national_regulator, exchange_operator
):
    fund(company_a, regulator=national_regulator, operator=exchange_operator, allowances=300_000)
    fund(company_b, regulator=national_regulator, operator=exchange_operator, allowances=0)

    seller = browser.new_context(viewport={"width": 1366, "height": 768}, bypass_csp=True).new_page()
    login(seller, live_server, trader_a.username)
    seller.goto(f"{live_server.url}/trade/CEA21/")
    seller.get_by_role("link", name="Block trades").click()
    expect(seller.get_by_role("heading", name="Post a block offer")).to_be_visible()
    expect(seller.locator(".block-rules")).to_contain_text("37.96 – 70.48")

    seller.get_by_label("Sell").check()
    seller.get_by_label("Price (CNY per tonne)").fill("75.00")  # above the +30 % band
    seller.get_by_label("Quantity (tonnes)").fill("150000")
    seller.get_by_role("button", name="Post offer").click()
    expect(seller.locator("#error-price")).to_contain_text("37.96 to 70.48")
    assert not BlockOffer.objects.exists()
    seller.get_by_label("Price (CNY per tonne)").fill("52.00")
    seller.get_by_role("button", name="Post offer").click()
    expect(seller.get_by_role("status")).to_contain_text("150,000 t at 52.00")
    expect(seller.locator("#my-offers-title + table")).to_contain_text("Open")
    assert balance(company_a, "CEA21")[:2] == (150_000, 150_000)
    assert serious_violations(seller) == []
    screenshot(seller, "block-offer-posted")

    buyer = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True).new_page()
    login(buyer, live_server, trader_b.username)
    buyer.goto(f"{live_server.url}/trade/CEA21/blocks/")
    offer = BlockOffer.objects.get()
    row = buyer.locator(f"#offer-{offer.pk}")
    expect(row).to_contain_text("Buy")  # what the acceptor would do
    expect(row).to_contain_text("7,800,000.00")
    buyer.get_by_role("button", name=f"Accept offer #{offer.pk}").click()
    expect(buyer.get_by_role("status")).to_contain_text("Bought 150,000 t at 52.00")
    trade = Trade.objects.get()
    assert (trade.kind, trade.buyer_id, trade.seller_id, trade.settled_at is not None) == ("block", company_b.pk, company_a.pk, True)
    assert balance(company_b, "CEA21")[2] == 150_000  # pending (T+1)
    expect(buyer.locator("#block-trades-title + table")).to_contain_text("150,000")
    assert buyer.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1")
    assert serious_violations(buyer) == []
    screenshot(buyer, "block-accepted-phone")

    seller.reload()
    expect(seller.locator("#my-offers-title + table")).to_contain_text(f"Accepted · trade #{trade.pk}")

    # In Chinese.
    trader_b.language = "zh-hans"
    trader_b.save(update_fields=["language"])
    buyer.goto(f"{live_server.url}/trade/CEA21/blocks/")
    expect(buyer.get_by_role("heading", name="今日大宗交易")).to_be_visible()
    expect(buyer.locator(".block-rules")).to_contain_text("每笔最低")
    assert serious_violations(buyer) == []
