"""Order history: filters, an order's fills, and another company's order is a 404."""

from tests.auth import login
from trading.models import Order


def test_orders_lists_mine_newest_first_with_filters(client, trader_a, traded):
    login(client, trader_a)
    page = client.get("/orders/").content.decode()
    assert page.index("a-rests") < page.index("a-sell-1") < page.index("a-buy-1")
    assert "b-sell-1" not in page

    live = client.get("/orders/", {"status": "live"}).content.decode()
    assert "a-rests" in live and "a-buy-1" not in live
    filled = client.get("/orders/", {"status": "filled", "side": "sell"}).content.decode()
    assert "a-sell-1" in filled and "a-buy-1" not in filled and "a-rests" not in filled
    day = Order.objects.first().trading_day
    assert "a-buy-1" in client.get("/orders/", {"date_from": day, "date_to": day, "instrument": "CEA21"}).content.decode()


def test_bad_filters_are_shown_next_to_the_field_not_a_500(client, trader_a, traded):
    login(client, trader_a)
    response = client.get("/orders/", {"status": "nonsense", "date_from": "2026-13-45"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="id_status-error"' in page and 'id="id_date_from-error"' in page
    assert "a-buy-1" not in page
    reversed_range = client.get("/orders/", {"date_from": "2026-02-02", "date_to": "2026-01-01"}).content.decode()
    assert "The end date is before the start date." in reversed_range


def test_an_order_page_shows_its_fills(client, trader_a, traded):
    login(client, trader_a)
    order = Order.objects.get(client_order_id="a-buy-1")
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert "54.50" in page and "5,450.00" in page  # the fill's price and value (100 t)
    resting = Order.objects.get(client_order_id="a-rests")
    assert "Not filled." in client.get(f"/orders/{resting.pk}/").content.decode()


def test_another_companys_order_is_a_404(client, trader_a, traded):
    login(client, trader_a)
    theirs = Order.objects.get(client_order_id="b-sell-1")
    assert client.get(f"/orders/{theirs.pk}/").status_code == 404
    assert client.get("/orders/999999999/").status_code == 404


def test_an_order_page_links_to_its_instruments_trading_page(client, trader_a, traded):
    client.force_login(trader_a)
    order = Order.objects.get(client_order_id="a-buy-1")
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert 'href="/trade/CEA21/"' in page
    assert client.get("/trade/CEA21/").status_code == 200
