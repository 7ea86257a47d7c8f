"""The Idempotency-Key header on order entry: it stands in for client_order_id, must agree with it,
and makes a cancel (DELETE, which has no id of its own) answer a retry with the first answer."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from core.models import AuditEvent, IdempotencyRecord
from trading.models import MarketEvent, Order

from .conftest import api_client, run_on_commit

URL = "/api/v1/orders/"
BODY = {"instrument": "CEA21", "side": "buy", "price": "50.00", "quantity": 10}


def test_the_key_stands_in_for_client_order_id_and_a_retry_returns_the_first_order(funded, cea21, trader_a):
    client = api_client(trader_a)
    first = client.post(URL, BODY, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    again = client.post(URL, BODY, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Order.objects.get().client_order_id == "key-1"
    # The same key with the body's own id equal to it is the same request.
    same = client.post(URL, {**BODY, "client_order_id": "key-1"}, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    assert same.status_code == 200 and same.json()["id"] == first.json()["id"]
    conflict = client.post(URL, {**BODY, "quantity": 11}, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    assert conflict.status_code == 409 and conflict.json()["code"] == "idempotency_conflict"
    assert Order.objects.count() == 1


def test_a_key_that_differs_from_the_bodys_id_is_refused_and_nothing_is_written(funded, cea21, trader_a):
    response = api_client(trader_a).post(URL, {**BODY, "client_order_id": "mine"}, format="json",
                                         HTTP_IDEMPOTENCY_KEY="other")
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_mismatch" and response.json()["field"] == "client_order_id"
    assert not Order.objects.exists()


@pytest.mark.parametrize("key", ["", " ", "x" * 65, "tab\there"])
def test_a_malformed_key_is_a_400_naming_the_header(funded, cea21, trader_a, key):
    response = api_client(trader_a).post(URL, {**BODY, "client_order_id": "c"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert response.json()["field"] == "Idempotency-Key"
    assert not Order.objects.exists()


def test_without_key_or_client_order_id_the_order_is_refused(funded, cea21, trader_a):
    response = api_client(trader_a).post(URL, BODY, format="json")
    assert response.status_code == 400 and response.json()["field"] == "client_order_id"


def test_a_cancel_retried_with_its_key_gets_the_first_answer_and_changes_nothing(funded, cea21, trader_a):
    client = api_client(trader_a)
    order = run_on_commit(client.post, URL, {**BODY, "client_order_id": "c1"}, format="json").json()
    first = run_on_commit(client.delete, f"{URL}{order['id']}/", HTTP_IDEMPOTENCY_KEY="cancel-1")
    assert first.status_code == 200 and first.json()["cancel_requested"]
    events, audits = MarketEvent.objects.count(), AuditEvent.objects.count()
    again = run_on_commit(client.delete, f"{URL}{order['id']}/", HTTP_IDEMPOTENCY_KEY="cancel-1")
    assert again.status_code == 200 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert (MarketEvent.objects.count(), AuditEvent.objects.count()) == (events, audits)
    assert Order.objects.get(pk=order["id"]).status == Order.Status.CANCELLED
    # Without the key, cancelling a cancelled order is refused: the key is what makes the retry safe.
    assert client.delete(f"{URL}{order['id']}/").json()["code"] == "order_not_open"


def test_a_cancel_key_used_again_for_another_order_is_a_conflict(funded, cea21, trader_a):
    client = api_client(trader_a)
    one = run_on_commit(client.post, URL, {**BODY, "client_order_id": "c1"}, format="json").json()
    two = run_on_commit(client.post, URL, {**BODY, "client_order_id": "c2"}, format="json").json()
    assert client.delete(f"{URL}{one['id']}/", HTTP_IDEMPOTENCY_KEY="k").status_code == 200
    conflict = client.delete(f"{URL}{two['id']}/", HTTP_IDEMPOTENCY_KEY="k")
    assert conflict.status_code == 409 and conflict.json()["code"] == "idempotency_conflict"
    assert Order.objects.get(pk=two["id"]).status == Order.Status.OPEN


def test_a_refused_cancel_stores_no_key_so_it_can_be_retried(funded, cea21, trader_a, trader_b):
    order = api_client(trader_a).post(URL, {**BODY, "client_order_id": "c1"}, format="json").json()
    refused = api_client(trader_b).delete(f"{URL}{order['id']}/", HTTP_IDEMPOTENCY_KEY="k")
    assert refused.status_code == 404  # another organization's order
    assert not IdempotencyRecord.objects.exists()


def test_keys_are_per_user(funded, cea21, trader_a, trader_b):
    mine = api_client(trader_a).post(URL, {**BODY, "client_order_id": "c1"}, format="json").json()
    theirs = api_client(trader_b).post(URL, {**BODY, "client_order_id": "c1"}, format="json").json()
    assert api_client(trader_a).delete(f"{URL}{mine['id']}/", HTTP_IDEMPOTENCY_KEY="k").status_code == 200
    assert api_client(trader_b).delete(f"{URL}{theirs['id']}/", HTTP_IDEMPOTENCY_KEY="k").status_code == 200
    assert IdempotencyRecord.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_cancels_with_one_key_cancel_once_and_answer_alike(funded, cea21, trader_a):
    order = api_client(trader_a).post(URL, {**BODY, "client_order_id": "c1"}, format="json").json()
    start = threading.Barrier(2)
    answers: list = []

    def cancel():
        try:
            start.wait(10)
            response = api_client(trader_a).delete(f"{URL}{order['id']}/", HTTP_IDEMPOTENCY_KEY="race")
            answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=cancel) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(answers) == 2
    assert answers[0] == answers[1] and answers[0][0] == 200
    assert MarketEvent.objects.filter(kind=MarketEvent.Kind.CANCEL).count() == 1
    assert AuditEvent.objects.filter(action="order.cancel").count() == 1
    assert IdempotencyRecord.objects.count() == 1


def test_a_cancel_retried_after_its_answer_was_purged_is_a_new_request(funded, cea21, trader_a, settings):
    import datetime as dt

    from django.utils import timezone

    from core.tasks import idempotency_purge_task

    client = api_client(trader_a)
    order = run_on_commit(client.post, URL, {**BODY, "client_order_id": "c1"}, format="json").json()
    assert run_on_commit(client.delete, f"{URL}{order['id']}/", HTTP_IDEMPOTENCY_KEY="cancel-1").status_code == 200
    retention = dt.timedelta(hours=settings.IDEMPOTENCY_KEY_RETENTION_HOURS, minutes=1)
    IdempotencyRecord.objects.update(created_at=timezone.now() - retention)
    assert idempotency_purge_task() == 1
    late = run_on_commit(client.delete, f"{URL}{order['id']}/", HTTP_IDEMPOTENCY_KEY="cancel-1")
    assert late.status_code == 409 and late.json()["code"] == "order_not_open"  # not the first answer replayed
