"""Issue 15, numbers mean one thing: the order API and the trading page read quantities and prices
with core.numbers. A JSON integer stays a quantity; a JSON float (49.5, 1000.0), an exponent or
another script's digits is refused, naming the field; full-width digits are read as ASCII."""

from __future__ import annotations

import pytest
from django.test import TestCase

from tests.auth import login
from trading.models import Order

from .conftest import api_client

URL = "/api/v1/orders/"
pytestmark = pytest.mark.django_db


def order(user, **changes):
    body = {"instrument": "CEA21", "side": "buy", "price": "54.22", "quantity": 100, "client_order_id": "n-1", **changes}
    return api_client(user).post(URL, body, format="json")


@pytest.mark.parametrize("quantity", [49.5, 1000.0, "4.9e1", "49.5", "1000.0", "٤٩", "𝟒𝟗", "⁴⁹", "1e3", "NaN"])
def test_the_api_refuses_a_quantity_that_is_not_a_whole_number_in_digits(funded, cea21, trader_a, quantity):
    response = order(trader_a, quantity=quantity)
    assert response.status_code == 400, response.content
    assert (response.json()["code"], response.json()["field"]) == ("invalid", "quantity")
    assert "quantity" in response.json()["message"]
    assert not Order.objects.exists()


@pytest.mark.parametrize("price", ["٥٤.٢٢", "𝟓𝟒.22", "5.422e1", "54.22e0", "Infinity"])
def test_the_api_refuses_a_price_in_other_digits_or_with_an_exponent(funded, cea21, trader_a, price):
    response = order(trader_a, price=price)
    assert response.status_code == 400, response.content
    assert (response.json()["code"], response.json()["field"]) == ("invalid_price", "price")
    assert not Order.objects.exists()


def test_a_price_with_more_than_two_decimals_is_off_the_tick_even_with_zeros(funded, cea21, trader_a):
    response = order(trader_a, price="54.220")
    assert (response.status_code, response.json()["code"]) == (400, "invalid_tick")


def test_a_json_integer_and_full_width_digits_are_accepted(funded, cea21, trader_a):
    assert order(trader_a, quantity=49).status_code == 201
    response = order(trader_a, quantity="４９", price="５４．２２", client_order_id="n-2")
    assert response.status_code == 201, response.content
    assert (response.json()["quantity"], response.json()["price"]) == (49, "54.22")


def post_ticket(client, **fields):
    body = {"side": "buy", "price": "54.00", "quantity": "100", "client_order_id": "ticket-n", **fields}
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post("/trade/CEA21/order/", body, HTTP_HX_REQUEST="true")


@pytest.mark.parametrize(("fields", "field"), [
    ({"quantity": "٤٩"}, "quantity"), ({"quantity": "𝟒𝟗"}, "quantity"), ({"quantity": "4.9e1"}, "quantity"),
    ({"quantity": "1000.0"}, "quantity"), ({"price": "٥٤.00"}, "price"), ({"price": "5.4e1"}, "price"),
])
def test_the_trading_page_refuses_them_next_to_the_field(client, trader_a, funded, fields, field):
    login(client, trader_a)
    page = post_ticket(client, **fields).content.decode()
    assert page.split(f'id="error-{field}"')[1].split("</p>")[0].strip(">\n ")
    assert not Order.objects.exists()


def test_the_trading_page_reads_full_width_digits(client, trader_a, funded):
    login(client, trader_a)
    post_ticket(client, quantity="４９", price="５４．００")
    assert Order.objects.get().quantity == 49 and Order.objects.get().price == 5400
