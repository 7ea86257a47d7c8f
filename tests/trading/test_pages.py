"""The trading page, its fragments and order ticket, and the public market page."""

import datetime as dt

import pytest
from django.test import TestCase
from django.utils import timezone

from tests.auth import login
from tests.trading.conftest import balance, place
from trading.models import DailyBar, Instrument, Order

pytestmark = pytest.mark.django_db


def post_order(client, htmx=True, **fields):
    body = {"side": "buy", "price": "54.00", "quantity": "100", "client_order_id": "ticket-1", **fields}
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post("/trade/CEA21/order/", body, **headers)


def test_the_trading_page_needs_a_login(client):
    response = client.get("/trade/CEA21/")
    assert response.status_code == 302 and response.url.startswith("/login/")


def test_an_unknown_instrument_is_a_404(client, trader_a):
    login(client, trader_a)
    assert client.get("/trade/CEA99/").status_code == 404


def test_trade_index_goes_to_cea21(client, trader_a):
    login(client, trader_a)
    response = client.get("/trade/")
    assert response.status_code == 302 and response.url == "/trade/CEA21/"


def test_the_trading_page_shows_book_limits_tape_orders_and_balances(client, trader_a, trader_b, funded, cea21):
    place(trader_a, "buy", "54.00", 300)
    place(trader_b, "sell", "55.00", 200)
    place(trader_b, "sell", "54.00", 100)  # trades 100 against A's bid
    login(client, trader_a)
    page = client.get("/trade/CEA21/").content.decode()
    assert 'id="ticket-form"' in page
    assert "48.80 – 59.64" in page  # today's limits around the 54.22 reference
    assert 'data-price="55.00"' in page and 'data-price="54.00"' in page  # ask and bid levels
    assert 'id="spread">1.00<' in page
    assert 'id="last-price" class="value">54.00<' in page
    # My open order (200 left of 300) and my reserved cash.
    assert f"#{Order.objects.get(organization__memberships__user=trader_a).pk}" in page
    reserved = balance(trader_a.memberships.get().organization, "CNY")[1]
    assert f"{reserved / 100:,.2f}" in page
    assert 'data-stream-url="/live/stream/?t=' in page and 'data-stream-refresh="/trade/CEA21/stream-url/"' in page


def test_asks_are_above_bids_with_depth_bars(client, trader_a, trader_b, funded):
    place(trader_a, "buy", "53.00", 100)
    place(trader_a, "buy", "54.00", 400)
    place(trader_b, "sell", "56.00", 200)
    login(client, trader_a)
    book = client.get("/trade/CEA21/book/").content.decode()
    assert book.index('data-price="56.00"') < book.index('data-price="54.00"') < book.index('data-price="53.00"')
    assert "bar w20" in book and "bar w5" in book and "bar w10" in book  # 400 the largest; 100 and 200 of it


def test_the_book_shows_ten_levels_a_side_with_the_cumulative_quantity(client, trader_a, trader_b, funded):
    for n in range(12):  # bids 54.00, 53.90, ... 52.90: the two lowest are past ten levels
        place(trader_a, "buy", f"{54 - n / 10:.2f}", 10 + n)
    place(trader_b, "sell", "56.00", 5)
    place(trader_b, "sell", "57.00", 7)
    login(client, trader_a)
    book = client.get("/trade/CEA21/book/").content.decode()
    bids = book.split('class="mid"')[1].split('<tr class="bid"')[1:]
    assert len(bids) == 10
    assert 'data-price="54.00"' in bids[0] and ">10</td>" in bids[0]  # best bid: its total is its own
    assert 'data-price="53.10"' in bids[9] and ">145</td>" in bids[9]  # 10 + 11 + ... + 19
    asks = book.split('class="mid"')[0].split('<tr class="ask"')[1:]
    assert 'data-price="57.00"' in asks[0] and ">12</td>" in asks[0]  # the far ask (drawn on top): 5 + 7
    assert 'data-price="56.00"' in asks[1] and ">5</td>" in asks[1]


def test_the_header_shows_the_change_and_its_percentage_against_the_previous_close(client, trader_a, trader_b, funded):
    place(trader_a, "buy", "55.00", 10)
    place(trader_b, "sell", "55.00", 10)  # reference (the previous close) 54.22
    login(client, trader_a)
    summary = client.get("/trade/CEA21/summary/").content.decode()
    assert "+0.78 (+1.44%)" in summary


def test_a_regulator_sees_the_page_without_a_ticket(client, national_regulator, cea21):
    login(client, national_regulator)
    page = client.get("/trade/CEA21/").content.decode()
    assert 'id="no-ticket"' in page and 'id="ticket-form"' not in page
    assert client.post("/trade/CEA21/order/", {"side": "buy", "price": "54.00", "quantity": "1"}).status_code == 403
    assert client.get("/trade/CEA21/orders/").status_code == 403


def test_the_ticket_places_an_order(client, trader_a, funded):
    login(client, trader_a)
    response = post_order(client)
    assert response.status_code == 200
    order = Order.objects.get(client_order_id="ticket-1")
    assert (order.side, order.price, order.quantity, order.status) == ("buy", 5400, 100, Order.Status.OPEN)
    ticket = response.content.decode()
    # (Here the matcher runs once the test's on-commit callbacks do, after the answer: still accepted.)
    assert f"Order #{order.pk}: Buy 100 t at 54.00" in ticket and ">Accepted</strong>" in ticket
    assert f'hx-get="/trade/orders/{order.pk}/status/"' in ticket  # the line follows the order
    assert ">Open</strong>" in client.get(f"/trade/orders/{order.pk}/status/").content.decode()
    assert "live-org" in response["HX-Trigger"]


def test_the_tickets_order_line_follows_its_status(client, trader_a, trader_b, funded):
    order = place(trader_a, "buy", "54.00", 300)
    login(client, trader_a)
    place(trader_b, "sell", "54.00", 100)
    line = client.get(f"/trade/orders/{order.pk}/status/").content.decode()
    assert ">Partially filled</strong>" in line and "100 of 300 t filled" in line
    place(trader_b, "sell", "54.00", 200)
    line = client.get(f"/trade/orders/{order.pk}/status/").content.decode()
    assert ">Filled</strong>" in line and "300 of 300 t filled" in line
    login(client, trader_b)
    assert client.get(f"/trade/orders/{order.pk}/status/").status_code == 404


def test_fills_after_the_last_seen_one_each_once_with_the_side_taken(client, trader_a, trader_b, funded):
    place(trader_a, "buy", "54.00", 300)
    login(client, trader_a)
    start = client.get("/trade/CEA21/").content.decode().split('data-last-fill="')[1].split('"')[0]
    place(trader_b, "sell", "54.00", 100)
    place(trader_b, "sell", "53.00", 50)
    fills = client.get(f"/trade/CEA21/fills/?after={start}").content.decode()
    assert fills.count('class="toast buy"') == 2
    assert "Bought 100 t at 54.00" in fills and "Bought 50 t at 54.00" in fills  # at the resting order's price
    last = fills.split('data-last-fill="')[1].split('"')[0]
    assert int(last) > int(start)
    assert 'class="toast' not in client.get(f"/trade/CEA21/fills/?after={last}").content.decode()
    login(client, trader_b)
    seller = client.get(f"/trade/CEA21/fills/?after={start}").content.decode()
    assert seller.count('class="toast sell"') == 2 and "Sold 100 t at 54.00" in seller


@pytest.mark.parametrize("after", ["", "-1", "1e9", "99999999999999999999999", "١٢"])
def test_fills_without_a_usable_after_start_from_now(client, trader_a, trader_b, funded, after):
    place(trader_a, "buy", "54.00", 100)
    place(trader_b, "sell", "54.00", 100)
    login(client, trader_a)
    response = client.get("/trade/CEA21/fills/", {"after": after})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'class="toast' not in body and 'data-last-fill="0"' not in body


def test_a_repeated_ticket_is_one_order(client, trader_a, funded):
    login(client, trader_a)
    post_order(client)
    post_order(client)
    assert Order.objects.filter(client_order_id="ticket-1").count() == 1


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"price": "70.00"}, "price", "Today&#x27;s limits are 48.80 to 59.64."),
    ({"price": "54.001"}, "price", "Prices have at most two decimals"),
    ({"price": "abc"}, "price", "is not a price"),
    ({"quantity": "100000"}, "quantity", "The quantity must be 1 to 99,999 t."),
    ({"quantity": "1.5"}, "quantity", "quantity: &#x27;1.5&#x27; is not a whole number."),
])
def test_the_servers_refusal_is_shown_next_to_its_field(client, trader_a, funded, fields, field, message):
    login(client, trader_a)
    response = post_order(client, **fields)
    page = response.content.decode()
    assert response.status_code == 200
    slot = page.split(f'id="error-{field}"')[1].split("</p>")[0]
    assert message in slot
    assert f'id="ticket-{field}"' in page and 'aria-invalid="true"' in page
    assert not Order.objects.exists()


def test_insufficient_funds_is_shown_next_to_the_quantity(client, trader_a):
    login(client, trader_a)  # company A has no cash
    page = post_order(client).content.decode()
    assert "The order needs 5,402.70 CNY (value and fee) available." in page.split('id="error-quantity"')[1].split("</p>")[0]


def test_without_htmx_a_refusal_shows_the_page_again_with_its_status(client, trader_a, funded):
    login(client, trader_a)
    response = post_order(client, htmx=False, price="70.00")
    assert response.status_code == 400
    assert "Today&#x27;s limits are 48.80 to 59.64." in response.content.decode()


def test_without_htmx_an_order_redirects_to_the_page(client, trader_a, funded):
    login(client, trader_a)
    response = post_order(client, htmx=False)
    assert response.status_code == 302 and response.url == "/trade/CEA21/"
    assert Order.objects.filter(client_order_id="ticket-1").exists()


def test_cancel_releases_the_reservation(client, trader_a, company_a, funded):
    order = place(trader_a, "buy", "54.00", 100)
    assert balance(company_a, "CNY")[1] > 0
    login(client, trader_a)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(f"/trade/orders/{order.pk}/cancel/", HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert balance(company_a, "CNY")[1] == 0
    assert f"order-{order.pk}" not in client.get("/trade/CEA21/orders/").content.decode()


def test_cancel_all_cancels_each_live_order_of_the_instrument_through_order_cancel(client, trader_a, trader_b, funded):
    from core.models import AuditEvent

    mine = [place(trader_a, "buy", price, 10) for price in ("50.00", "51.00", "52.00")]
    theirs = place(trader_b, "sell", "58.00", 10)
    login(client, trader_a)
    page = client.get("/trade/CEA21/orders/").content.decode()
    assert "Cancel all 3 open orders in CEA21?" in page
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post("/trade/CEA21/cancel-all/", HTTP_HX_REQUEST="true")
    assert response.content.decode() == "3 orders cancelled." and "live-org" in response["HX-Trigger"]
    assert {order.status for order in Order.objects.filter(pk__in=[o.pk for o in mine])} == {Order.Status.CANCELLED}
    assert AuditEvent.objects.filter(action="order.cancel").count() == 3  # one per order, as one by one
    theirs.refresh_from_db()
    assert theirs.status == Order.Status.OPEN and not theirs.cancel_requested
    assert balance(mine[0].organization, "CNY")[1] == 0  # nothing reserved any more
    # Nothing left: a second one says so; without htmx it goes back to the page with a message.
    response = client.post("/trade/CEA21/cancel-all/", follow=True)
    assert "0 orders cancelled." in response.content.decode()


def test_cancel_all_is_for_traders(client, company_a, funded):
    from accounts.roles import Role
    from tests.factories import user_with_role

    login(client, user_with_role(Role.COMPLIANCE_OFFICER, company_a))
    assert client.post("/trade/CEA21/cancel-all/").status_code == 403


def test_cancel_from_the_orders_page_comes_back_to_it(client, trader_a, funded):
    order = place(trader_a, "sell", "58.00", 10)
    login(client, trader_a)
    page = client.get("/orders/").content.decode()
    assert f'aria-label="Cancel order #{order.pk}"' in page
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(f"/trade/orders/{order.pk}/cancel/", {"next": "/orders/?status=live"})
    assert response.status_code == 302 and response["Location"] == "/orders/?status=live"
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    response = client.post(f"/trade/orders/{order.pk}/cancel/", {"next": "https://elsewhere.example/"})
    assert response["Location"] == "/trade/"  # never to another site


def test_another_companys_order_cannot_be_cancelled(client, trader_a, trader_b, funded):
    order = place(trader_a, "buy", "54.00", 100)
    login(client, trader_b)
    assert client.post(f"/trade/orders/{order.pk}/cancel/").status_code == 404
    order.refresh_from_db()
    assert order.status == Order.Status.OPEN and not order.cancel_requested
    assert f"order-{order.pk}" not in client.get("/trade/CEA21/orders/").content.decode()


def test_my_fragments_show_only_my_organizations_orders_and_balances(client, trader_a, trader_b, company_b, funded):
    mine = place(trader_a, "buy", "54.00", 100)
    theirs = place(trader_b, "sell", "58.00", 100)
    login(client, trader_b)
    orders = client.get("/trade/CEA21/orders/").content.decode()
    assert f"order-{theirs.pk}" in orders and f"order-{mine.pk}" not in orders
    balances = client.get("/trade/CEA21/balances/").content.decode()
    assert "CNY" in balances and "CEA21" in balances
    assert f"{balance(company_b, 'CEA21')[0]:,}" in balances


def test_the_market_page_is_public(client, trader_a, trader_b, funded, cea21):
    place(trader_a, "buy", "55.00", 300)
    place(trader_b, "sell", "55.00", 300)
    DailyBar.objects.create(instrument=cea21, day=timezone.localdate() - dt.timedelta(days=1), open=5300, high=5500,
                            low=5200, close=5422, volume=1000, turnover=5422000, trade_count=3, reference_price=5300)
    page = client.get("/market/").content.decode()
    row = page.split('id="row-CEA21"')[1].split("</tr>")[0]
    assert "55.00" in row and "300" in row and "16,500.00" in row  # last, volume, turnover
    assert "54.22" in row  # previous close
    assert "+0.78 (+1.44%)" in row
    assert row.count("54.22") == 1  # the previous close, once (it is the reference price)
    assert 'data-candles-url="/api/v1/instruments/CEA21/candles/"' in page
    assert 'href="/trade/CEA21/"' not in page  # anonymous: no trading link, but the instrument's chart
    assert 'href="/market/?symbol=CEA21"' in row
    assert client.get("/market/table/").status_code == 200


def test_the_days_statistics_are_remembered_for_market_statistics_ms_and_the_last_price_is_not(
        client, trader_a, trader_b, funded, cea21, settings, monkeypatch):
    import trading.selectors

    settings.MARKET_STATISTICS_MS = 1000
    now = [1000.0]
    monkeypatch.setattr(trading.selectors.time, "monotonic", lambda: now[0])
    place(trader_a, "buy", "55.00", 300)
    place(trader_b, "sell", "55.00", 300)

    def row() -> str:
        return client.get("/market/table/").content.decode().split('id="row-CEA21"')[1].split("</tr>")[0]

    assert "55.00" in row() and "16,500.00" in row()  # last price, turnover
    place(trader_a, "buy", "56.00", 100)
    place(trader_b, "sell", "56.00", 100)
    now[0] += 0.5
    assert "56.00" in row() and "16,500.00" in row()  # the latest trade's price at once; the day's totals a moment later
    now[0] += 0.6
    assert "22,100.00" in row()


def test_the_market_page_refuses_an_unknown_chart(client):
    assert client.get("/market/?symbol=NOPE").status_code == 404


def test_halted_instrument_shows_its_status(client, trader_a, exchange_operator, cea21):
    from trading.services import instrument_set_status

    instrument_set_status(instrument=cea21, status=Instrument.Status.HALTED, reason="Price investigation", actor=exchange_operator)
    login(client, trader_a)
    summary = client.get("/trade/CEA21/summary/").content.decode()
    assert "Halted" in summary and "Price investigation" in summary


def test_the_trading_and_market_pages_in_chinese(client, trader_a, funded):
    login(client, trader_a)
    page = client.get("/trade/CEA21/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    for label in ("委托簿", "今日涨跌停价", "我的余额", "我的未成交委托", "下单", "价格（元/吨）"):
        assert label in page, label
    market = client.get("/market/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "全国碳排放配额行情" in market and "成交额（元）" in market


def test_cancelling_a_finished_order_says_so(client, trader_a, trader_b, funded):
    order = place(trader_a, "buy", "54.00", 100)
    place(trader_b, "sell", "54.00", 100)  # fills it
    login(client, trader_a)
    response = client.post(f"/trade/orders/{order.pk}/cancel/", follow=True)
    assert "The order is filled." in response.content.decode()
