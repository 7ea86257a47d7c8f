"""The dashboard: my balances per asset, today's net cash flow from trading, obligations and links; nothing of another company."""

import pytest

from tests.auth import login
from trading.models import Trade
from web.selectors import cash_flow_of_day


def test_anonymous_users_are_sent_to_log_in(client, db):
    response = client.get("/")
    assert response.status_code == 302 and response.url.startswith("/login/")


def test_the_dashboard_shows_my_balances_per_asset(client, trader_a, funded):
    login(client, trader_a)
    page = client.get("/").content.decode()
    assert "10,000,000.00" in page  # CNY
    assert "100,000" in page  # CEA21 tonnes
    assert "HA-" in page and "CA-" in page


def test_todays_net_cash_flow_is_sales_less_purchases_less_fees_and_says_so(client, trader_a, trader_b, company_a, traded):
    trades = list(Trade.objects.order_by("id"))
    assert [(t.price, t.quantity) for t in trades] == [(5450, 100), (5400, 40)]
    a_fees = trades[0].buyer_fee + trades[1].seller_fee
    expected = 5400 * 40 - 5450 * 100 - a_fees

    cash_flow = cash_flow_of_day(trader_a, trades[0].trading_day)
    assert cash_flow.net == expected
    [row] = cash_flow.instruments
    assert (row.symbol, row.bought, row.sold, row.fees) == ("CEA21", 100, 40, a_fees)
    # The other side sees the mirror image, less its own fees.
    b_fees = trades[0].seller_fee + trades[1].buyer_fee
    assert cash_flow_of_day(trader_b, trades[0].trading_day).net == 5450 * 100 - 5400 * 40 - b_fees

    login(client, trader_a)
    page = client.get("/").content.decode()
    total = f"-{(-expected) // 100:,}.{(-expected) % 100:02d}"
    assert f'id="cash-flow-total">{total}<' in page
    assert "Realised" not in page and "It is not a profit" in page  # named for what it is


def test_no_trades_today_says_so(client, trader_a, funded):
    login(client, trader_a)
    assert "No trades today." in client.get("/").content.decode()


def test_the_dashboard_shows_nothing_of_another_company(client, trader_b, company_a, traded):
    login(client, trader_b)
    page = client.get("/").content.decode()
    assert f"HA-{company_a.uscc}" not in page and company_a.name not in page


@pytest.mark.django_db
def test_a_user_of_no_company_gets_a_plain_dashboard(client, national_regulator):
    login(client, national_regulator)
    response = client.get("/")
    assert response.status_code == 200
    assert "holds no registry accounts" in response.content.decode()


def test_the_dashboard_runs_a_bounded_number_of_queries(client, trader_a, traded, django_assert_max_num_queries):
    login(client, trader_a)
    client.get("/")
    with django_assert_max_num_queries(25):
        assert client.get("/").status_code == 200


def test_the_dashboard_links_each_account_to_its_statement(client, trader_a, company_a, funded):
    login(client, trader_a)
    page = client.get("/").content.decode()
    assert f'href="/reports/accounts/HA-{company_a.uscc}/statement/"' in page
    assert client.get(f"/reports/accounts/HA-{company_a.uscc}/statement/").status_code == 200
