"""core.contention: a deadlock's loser is run again whole; contention that outlasts the retries, and
a lock wait cut short by lock_timeout, are answered 503 `contention` with Retry-After (JSON for the
API, a page for the trading screen), never 500; nothing is half-saved."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection, transaction
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Organization
from core.contention import retry_on_contention
from registry.models import Account, Balance
from tests.auth import api_token, login
from tests.trading.conftest import fund
from trading.models import Order

from .conftest import lock_balance_row

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_loser_of_a_deadlock_is_run_again_and_both_complete(company_a, company_b):
    first, second = company_a.pk, company_b.pk
    both_hold_one, attempts, done = threading.Barrier(2), Counter(), []

    @retry_on_contention
    def rename(name: str, one: int, other: int) -> None:
        attempts[name] += 1
        with transaction.atomic():
            Organization.objects.filter(pk=one).update(name=f"{name} 1")
            if attempts[name] == 1:
                both_hold_one.wait(5)  # each holds its first row: the second lock closes the cycle
            Organization.objects.filter(pk=other).update(name=f"{name} 2")
        done.append(name)

    def run(*args):
        try:
            rename(*args)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=("x", first, second)), threading.Thread(target=run, args=("y", second, first))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(done) == ["x", "y"]
    assert sorted(attempts.values()) == [1, 2]  # PostgreSQL chose one victim; it ran again and went through


@pytest.fixture
def cash_row_held(company_a, national_regulator, exchange_operator):
    """Company A's cash balance row is held by another session; this test's session waits at most 200 ms."""
    fund(company_a, regulator=national_regulator, operator=exchange_operator)
    cash = Balance.objects.get(account__organization=company_a, account__kind=Account.Kind.CASH, asset__code="CNY")
    holder = lock_balance_row(cash)
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '200ms'")  # the test clients' requests run on this session
    yield
    holder.rollback()
    holder.close()
    with connection.cursor() as cursor:
        cursor.execute("RESET lock_timeout")


BUY = {"instrument": "CEA21", "side": "buy", "price": "54.00", "quantity": 1, "client_order_id": "waits"}


def test_an_api_order_that_cannot_get_its_lock_is_a_503_contention_with_retry_after(cash_row_held, trader_a):
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(trader_a)}")
    response = client.post("/api/v1/orders/", BUY, format="json")
    assert response.status_code == 503
    assert response.json()["code"] == "contention" and response.json()["message"]
    assert response["Retry-After"] == "1"
    assert not Order.objects.exists()  # nothing half-saved


def test_the_trading_page_answers_the_same_with_a_page(cash_row_held, trader_a):
    client = login(Client(raise_request_exception=False), trader_a)
    response = client.post("/trade/CEA21/order/", {key: str(value) for key, value in BUY.items() if key != "instrument"})
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert "Try again" in response.content.decode()
    assert not Order.objects.exists()
