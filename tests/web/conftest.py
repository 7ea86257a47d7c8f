import pytest

from tests.trading.conftest import _fresh_matchers, cea21, funded, place  # noqa: F401 (fixtures and helpers)


@pytest.fixture
def traded(request, trader_a, trader_b):
    """Company A bought 100 t from B at 54.50 and sold 40 t to B at 54.00; a buy of A rests."""
    request.getfixturevalue("funded")
    place(trader_b, "sell", "54.50", 100, client_order_id="b-sell-1")
    place(trader_a, "buy", "55.00", 100, client_order_id="a-buy-1")
    place(trader_b, "buy", "54.00", 40, client_order_id="b-buy-1")
    place(trader_a, "sell", "53.90", 40, client_order_id="a-sell-1")
    return place(trader_a, "buy", "50.00", 10, client_order_id="a-rests")
