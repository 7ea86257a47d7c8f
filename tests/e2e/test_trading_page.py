"""The trading and market pages in Chromium, served by uvicorn (ASGI) so that their Server-Sent
Events streams are live: two traders cross, both pages follow without reload; a cancel releases
its reservation on screen; the server's band refusal shows next to the price; another company's
order is out of reach. The screenshots of docs/screenshots/ come from here."""

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from demo.management.commands.seed_demo import Command as SeedDemo
from tests.asgi import asgi_server, password_for_server
from tests.e2e.test_login_and_holdings import login
from tests.trading.conftest import fund
from trading.models import Instrument, Order
from trading.services import order_place

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def server(transactional_db):
    with asgi_server() as url:
        yield SimpleNamespace(url=url)


@pytest.fixture
def traders(company_a, company_b, trader_a, trader_b, national_regulator, exchange_operator):
    fund(company_a, regulator=national_regulator, operator=exchange_operator)
    fund(company_b, regulator=national_regulator, operator=exchange_operator)
    return trader_a, trader_b


def logged_in(browser, server, user, viewport=DESKTOP):
    page = browser.new_context(viewport=viewport).new_page()
    password_for_server(user)
    login(page, server, user.username)
    return page


def trading_page(browser, server, user, viewport=DESKTOP):
    page = logged_in(browser, server, user, viewport)
    page.goto(f"{server.url}/trade/CEA21/")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "connected")
    page.evaluate("window.notReloaded = true")
    return page


def place_on(page, side, price, quantity):
    page.get_by_label("Buy" if side == "buy" else "Sell", exact=True).check()
    page.get_by_label("Price (CNY per tonne)").fill(price)
    page.get_by_label("Quantity (tonnes)").fill(str(quantity))
    page.get_by_role("button", name="Place order").click()


def test_two_traders_cross_and_both_pages_follow_live(browser, server, traders, company_a):
    SeedDemo()._price_history()
    trader_a, trader_b = traders
    page_a = trading_page(browser, server, trader_a)
    page_b = trading_page(browser, server, trader_b)

    page_a.get_by_label("Price (CNY per tonne)").fill("54.00")
    page_a.get_by_label("Quantity (tonnes)").fill("300")
    expect(page_a.locator("#ticket-estimate")).to_have_text("Reserves 16,208.10 CNY: 16,200.00 and a 8.10 fee.")
    place_on(page_a, "buy", "54.00", 300)
    expect(page_a.locator("#ticket-accepted")).to_contain_text("Open")
    expect(page_a.locator("#orders")).to_contain_text("54.00")
    expect(page_a.locator("#balance-CNY-reserved")).to_have_text("16,208.10")  # 300 x 54.00 + fee
    # B's page shows A's bid without a reload; B picks it from the book.
    bid = page_b.locator('#book button.level[data-price="54.00"]')
    expect(bid).to_be_visible()
    bid.click()
    expect(page_b.get_by_label("Price (CNY per tonne)")).to_have_value("54.00")
    page_b.get_by_label("Sell", exact=True).check()
    page_b.get_by_label("Quantity (tonnes)").fill("100")
    page_b.get_by_role("button", name="Place order").click()

    for page in (page_a, page_b):
        expect(page.locator("#tape tbody tr").first).to_contain_text("54.00")
        expect(page.locator("#tape tbody tr").first).to_contain_text("100")
        expect(page.locator("#last-price")).to_have_text("54.00")
        expect(page.locator("#book .bid .qty")).to_have_text("200")  # 300 bid, 100 filled
    # Balances after settlement (T+1: the bought tonnes are pending), on both screens.
    expect(page_a.locator("#balance-CEA21-pending")).to_have_text("100")
    expect(page_a.locator("#orders")).to_contain_text("Partially filled")
    expect(page_b.locator("#balance-CEA21-available")).to_have_text("99,900")
    expect(page_b.locator("#balance-CNY-available")).to_have_text("10,005,397.30")  # + 5,400 less the 2.70 fee
    assert page_a.evaluate("window.notReloaded") and page_b.evaluate("window.notReloaded")
    expect(page_a.locator("#chart canvas").first).to_be_visible()
    expect(page_a.locator("#chart")).not_to_have_attribute("data-bars", "0")

    for page in (page_a, page_b):  # every card shows all it holds: no sideways scroll (the book's totals)
        assert page.evaluate("[...document.querySelectorAll('.card')].every(c => c.scrollWidth <= c.clientWidth)")
    page_a.screenshot(path=str(SCREENSHOTS / "trading-page.png"))
    phone = trading_page(browser, server, trader_a, PHONE)
    assert phone.evaluate("[...document.querySelectorAll('.card')].every(c => c.scrollWidth <= c.clientWidth)")
    phone.screenshot(path=str(SCREENSHOTS / "trading-page-phone.png"), full_page=True)


def test_cancelling_releases_the_reservation_on_screen(browser, server, traders):
    trader_a, _ = traders
    page = trading_page(browser, server, trader_a)
    place_on(page, "buy", "50.00", 10)
    reserved = page.locator("#balance-CNY-reserved")
    expect(reserved).to_have_text("500.25")
    order = Order.objects.get(side="buy")
    page.get_by_role("button", name=f"Cancel order #{order.pk}").click()
    expect(reserved).to_have_text("0.00")
    expect(page.locator("#balance-CNY-available")).to_have_text("10,000,000.00")
    expect(page.locator("#orders")).to_contain_text("No open orders.")
    assert page.evaluate("window.notReloaded")


def test_a_price_outside_the_band_shows_the_error_next_to_the_price(browser, server, traders):
    trader_a, _ = traders
    page = trading_page(browser, server, trader_a)
    price_error = page.locator("#error-price")
    # The page's own check, before anything is sent.
    place_on(page, "buy", "70.00", 10)
    expect(price_error).to_have_text("Today's limits are 48.80 to 59.64.")
    expect(page.get_by_label("Price (CNY per tonne)")).to_have_attribute("aria-invalid", "true")
    # The reference price moved since the page was drawn: the server refuses, next to the price.
    # (Typed and sent from the keyboard alone.)
    Instrument.objects.filter(symbol="CEA21").update(reference_price=60_00)
    page.get_by_label("Price (CNY per tonne)").focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("50.00")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Quantity (tonnes)")).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type("10")
    page.keyboard.press("Enter")
    expect(price_error).to_have_text("Today's limits are 54.00 to 66.00.")
    assert not Order.objects.exists()


def test_the_tickets_own_checks_speak_chinese_to_a_chinese_user(browser, server, traders):
    """The page's checks before sending use Django's JavaScript catalogue: the same words as the
    server's refusals, in the user's language."""
    trader_a, _ = traders
    trader_a.language = "zh-hans"
    trader_a.save(update_fields=["language"])
    page = trading_page(browser, server, trader_a)
    page.locator("#ticket-price").fill("70.00")
    page.locator("#ticket-quantity").fill("100000")
    page.locator("#ticket-form button[type=submit]").click()
    expect(page.locator("#error-price")).to_have_text("今日涨跌幅限制为 48.80 至 59.64。")
    expect(page.locator("#error-quantity")).to_have_text("数量必须在 1 至 99,999 吨之间。")
    assert not Order.objects.exists()


def test_another_companys_order_is_out_of_reach(browser, server, traders):
    trader_a, trader_b = traders
    order, _ = order_place(user=trader_a, instrument="CEA21", side="buy", price="54.00", quantity=5, client_order_id="a-1")
    page = trading_page(browser, server, trader_b)
    expect(page.locator("#orders")).not_to_contain_text(f"#{order.pk}")
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(f"{server.url}/trade/orders/{order.pk}/cancel/", headers={"X-CSRFToken": token})
    assert response.status == 404
    assert page.request.get(f"{server.url}/api/v1/orders/{order.pk}/").status == 404
    order.refresh_from_db()
    assert not order.cancel_requested


def test_a_regulator_watches_without_a_ticket(browser, server, national_regulator):
    page = logged_in(browser, server, national_regulator)
    page.goto(f"{server.url}/trade/CEA21/")
    expect(page.locator("#no-ticket")).to_be_visible()
    expect(page.locator("#ticket-form")).to_have_count(0)


def test_the_public_market_page_follows_trades_live_across_reconnects(browser, traders):
    SeedDemo()._price_history()
    trader_a, trader_b = traders
    with asgi_server(LIVE_STREAM_SECONDS="2", LIVE_RETRY_MS="200") as url:
        page = browser.new_context(viewport=DESKTOP).new_page()
        page.goto(f"{url}/market/")
        # Each stream ends after 2 s; the browser reconnects on its own and stays live.
        expect(page.locator("#market")).to_have_attribute("data-connections", re.compile(r"^([3-9]|\d\d+)$"), timeout=10_000)
        expect(page.locator("#live-status")).to_have_attribute("data-state", "connected")
        expect(page.locator("#chart")).not_to_have_attribute("data-bars", "0")
        expect(page.locator("#chart canvas").first).to_be_visible()
        order_place(user=trader_a, instrument="CEA21", side="buy", price="55.00", quantity=300, client_order_id="a-1")
        order_place(user=trader_b, instrument="CEA21", side="sell", price="55.00", quantity=300, client_order_id="b-1")
        row = page.locator("#row-CEA21")
        expect(row.locator("[data-col=last]")).to_have_text("55.00")
        expect(row.locator("[data-col=volume]")).to_have_text("300")
        expect(row.locator("[data-col=turnover]")).to_have_text("16,500.00")
        page.screenshot(path=str(SCREENSHOTS / "market-page.png"), full_page=True)
        phone = browser.new_context(viewport=PHONE).new_page()
        phone.goto(f"{url}/market/")
        expect(phone.locator("#chart")).not_to_have_attribute("data-bars", "0")
        phone.screenshot(path=str(SCREENSHOTS / "market-page-phone.png"), full_page=True)


def test_a_corrected_price_then_a_direct_click_sends_the_order(browser, server, traders):
    """The lost click: after the page refused a price, the trader corrects it and clicks "Place order"
    at once. The price field loses focus under the pointer (its check runs then); nothing above the
    button may move, or the click lands beside it and no order is sent."""
    trader_a, _ = traders
    page = trading_page(browser, server, trader_a)
    button = page.get_by_role("button", name="Place order")
    page.get_by_label("Sell", exact=True).check()
    expect(button).to_have_css("background-color", "rgb(11, 110, 79)")  # the side's colour: green sells
    place_on(page, "buy", "70.00", 10)
    expect(button).to_have_css("background-color", "rgb(192, 57, 43)")  # red buys, as the bids
    expect(page.locator("#error-price")).to_have_text("Today's limits are 48.80 to 59.64.")
    expect(page.get_by_label("Price (CNY per tonne)")).to_be_focused()
    page.get_by_label("Price (CNY per tonne)").fill("54.00")
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/trade/CEA21/order/"), timeout=5_000):
        page.get_by_role("button", name="Place order").click()
    expect(page.locator("#ticket-accepted")).to_contain_text("Buy 10 t at 54.00")
    assert Order.objects.filter(price=54_00, quantity=10).count() == 1


def test_a_fill_arriving_by_the_stream_is_announced_and_the_ticket_follows_its_order(browser, server, traders):
    trader_a, trader_b = traders
    page = trading_page(browser, server, trader_a)
    place_on(page, "buy", "54.00", 300)
    status = page.locator("#ticket-accepted")
    expect(status).to_contain_text("Open")
    expect(page.locator("#toasts .toast")).to_have_count(0)
    # Another company sells into the bid, elsewhere (the API, say): only the stream tells this page.
    order_place(user=trader_b, instrument="CEA21", side="sell", price="54.00", quantity=100, client_order_id="b-1")
    toast = page.locator("#toasts .toast")
    expect(toast).to_have_text(re.compile(r"Bought 100 t at 54\.00 \(order #\d+\)"))
    expect(page.locator("#toasts")).to_have_attribute("role", "log")  # read out by screen readers
    expect(status).to_contain_text("Partially filled")
    expect(status).to_contain_text("100 of 300 t filled")
    order_place(user=trader_b, instrument="CEA21", side="sell", price="53.00", quantity=200, client_order_id="b-2")
    expect(status).to_contain_text("Filled")
    expect(toast).to_have_count(2)  # one notice per fill, none repeated
    expect(toast.nth(1)).to_contain_text("Bought 200 t at 54.00")
    assert page.evaluate("window.notReloaded")


def within_the_screen(page, locator):
    """Visible without a sideways scroll: inside the 390 px width, and the page no wider than it."""
    expect(locator).to_be_visible()
    left, right = locator.evaluate("element => { const box = element.getBoundingClientRect(); return [box.left, box.right]; }")
    assert 0 <= left and right <= PHONE["width"], (left, right)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_on_a_phone_ticket_book_and_orders_are_at_hand_and_cancel_all_asks_first(browser, server, traders):
    trader_a, _ = traders
    for n, price in enumerate(("50.00", "51.00", "52.00")):
        order_place(user=trader_a, instrument="CEA21", side="buy", price=price, quantity=10, client_order_id=f"a-{n}")
    page = trading_page(browser, server, trader_a, PHONE)
    # The ticket first, the book next (not below the chart), then my orders.
    ticket, book, orders, chart = (page.locator(f".pane-{name}").evaluate("element => element.getBoundingClientRect().top")
                                   for name in ("ticket", "book", "orders", "chart"))
    assert ticket < book < orders < chart
    page.get_by_role("link", name="My open orders").click()
    first = page.locator("#orders tbody tr").first
    expect(first).to_be_in_viewport()
    for cell in (first.get_by_text("Open"), first.get_by_role("button", name=re.compile(r"Cancel order #\d+"))):
        within_the_screen(page, cell)
    page.screenshot(path=str(SCREENSHOTS / "trading-page-phone-orders.png"))
    # Cancel all: a confirmation first, then every order through the same cancel, one by one.
    page.get_by_text("Cancel all…").click()
    expect(page.locator("#orders .cancel-all")).to_contain_text("Cancel all 3 open orders in CEA21?")
    assert Order.objects.filter(cancel_requested=True).count() == 0
    page.get_by_role("button", name="Yes, cancel them all").click()
    expect(page.locator("#cancel-all-result")).to_have_text("3 orders cancelled.")
    expect(page.locator("#orders")).to_contain_text("No open orders.")
    assert set(Order.objects.values_list("status", flat=True)) == {Order.Status.CANCELLED}
    assert page.evaluate("window.notReloaded")


def test_on_a_phone_the_orders_page_shows_status_and_cancels(browser, server, traders):
    trader_a, _ = traders
    order, _ = order_place(user=trader_a, instrument="CEA21", side="sell", price="58.00", quantity=10, client_order_id="a-1")
    page = logged_in(browser, server, trader_a, PHONE)
    page.goto(f"{server.url}/orders/")
    row = page.locator(f"#order-{order.pk}")
    cancel = row.get_by_role("button", name=f"Cancel order #{order.pk}")
    for cell in (row.get_by_text("Open"), cancel):
        within_the_screen(page, cell)
    cancel.click()
    expect(page.locator(".messages")).to_contain_text(f"Order #{order.pk} cancelled.")
    expect(page).to_have_url(re.compile(r"/orders/$"))
    expect(row).to_contain_text("Cancelled")
    expect(row.get_by_role("button")).to_have_count(0)


def test_an_open_market_page_re_reads_at_most_once_per_live_refresh_ms_however_busy_the_market(browser, traders):
    import time as clock
    from itertools import pairwise

    from core.live import publish

    with asgi_server(LIVE_REFRESH_MS="1000", LIVE_COALESCE_MS="0") as url:
        page = browser.new_context(viewport=DESKTOP).new_page()
        page.goto(f"{url}/market/")
        expect(page.locator("#live-status")).to_have_attribute("data-state", "connected")
        page.wait_for_timeout(1500)  # the refresh of the connection is done
        started = page.evaluate("performance.now()")
        begun = clock.monotonic()
        while clock.monotonic() - begun < 3:  # an announcement every 50 ms: 60 in all
            publish("market")
            clock.sleep(0.05)
        page.wait_for_timeout(1500)  # the last announcement's refresh, never dropped
        reads = page.evaluate("""started => performance.getEntriesByType("resource")
            .filter(entry => entry.name.includes("/market/table/") && entry.startTime > started)
            .map(entry => entry.startTime - started)""", started)
    assert 3 <= len(reads) <= 5, reads  # one per second of announcements, and the trailing one; not 60
    assert all(later - earlier >= 950 for earlier, later in pairwise(reads)), reads
    assert reads[-1] > 3000, reads  # the last announcement was followed by a read
