"""Trade history: my fills from my side, filters, and a CSV download that spreadsheets open safely."""

import csv
import io

from tests.auth import login
from trading.models import Trade


def download(client, **params) -> list[list[str]]:
    response = client.get("/trades/", {"format": "csv", **params})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="trades-')
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def test_trades_shows_my_side_of_each_fill(client, trader_a, trader_b, traded):
    login(client, trader_a)
    page = client.get("/trades/").content.decode()
    assert 'class="side-buy">Buy' in page and 'class="side-sell">Sell' in page
    sells = client.get("/trades/", {"side": "sell"}).content.decode()
    assert 'class="side-buy">' not in sells and "54.00" in sells


def test_the_csv_has_my_fills_with_the_page_filters(client, trader_a, traded):
    login(client, trader_a)
    rows = download(client)
    assert rows[0][:5] == ["Trade", "Executed at", "Trading day", "Instrument", "Side"]
    assert [(row[4], row[5], row[6], row[7]) for row in rows[1:]] == [
        ("sell", "54.00", "40", "2160.00"), ("buy", "54.50", "100", "5450.00"),
    ]
    assert [row[4] for row in download(client, side="buy")[1:]] == ["buy"]
    assert download(client, date_from="2000-01-01", date_to="2000-01-02")[1:] == []


def test_the_other_company_sees_only_its_own_side(client, trader_b, traded):
    login(client, trader_b)
    assert [row[4] for row in download(client)[1:]] == ["buy", "sell"]
    assert Trade.objects.count() == 2


def test_a_bad_filter_downloads_nothing(client, trader_a, traded):
    login(client, trader_a)
    response = client.get("/trades/", {"format": "csv", "side": "sideways"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
