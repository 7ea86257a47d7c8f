"""One company's surrenders, orders, cancels and the matcher's batches, all at once on PostgreSQL.

Surrender locks the company's row and then its balances; order entry locks balances and, at
commit, checks its foreign key to the company's row (KEY SHARE). With a plain FOR UPDATE on the
company's row the two deadlocked and the loser was answered 500. Now: no 5xx, every refusal a
coded 4xx, the ledger conserved. (Should a retry run out, the answer is a 503 `contention`:
test_contention_answers.py.)"""

from __future__ import annotations

import datetime as dt
import gc
import threading
from collections import Counter

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from allocation.services import period_create
from compliance.models import Surrender
from registry.models import Asset
from tests.auth import api_token
from tests.compliance.helpers import officer_of, plan_issue, verify
from tests.trading.conftest import fund
from trading.models import Trade

pytestmark = pytest.mark.django_db(transaction=True)

# Each request of a round is a thread with its own connection: n surrenders, n orders and n/3 cancels.
# The machine's PostgreSQL allows 100 connections for everyone, and earlier tests of a full-suite run
# may still hold some: a round is as large as the free connections allow (at most 24 of each, about 60
# connections with the matcher's and settlement's), and there are as many rounds as it takes to send
# the same 96 surrenders and 96 orders in all.
REQUESTS = 96
PER_ROUND_MAX = 24
SPARE_CONNECTIONS = 12  # the matcher, settlement, this test's own, and a margin


def _per_round() -> int:
    gc.collect()  # connections of finished threads that nothing refers to any more are closed now
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('max_connections')::int - count(*) FROM pg_stat_activity")
        free = cursor.fetchone()[0]
    return max(6, min(PER_ROUND_MAX, (free - SPARE_CONNECTIONS) * 3 // 7))


def _client(user) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user)}")
    return client


@pytest.fixture
def market(company_a, company_b, trader_a, trader_b, national_regulator, second_national_regulator, exchange_operator):
    for company in (company_a, company_b):
        fund(company, regulator=national_regulator, operator=exchange_operator)
    period = period_create(code="2021", first_year=2021, last_year=2021, vintages=[Asset.objects.get(code="CEA21")],
                           surrender_deadline=timezone.localdate() + dt.timedelta(days=60), actor=national_regulator)
    plan_issue(period, [(company_a, "coal_gt300", 1_000)], maker=national_regulator, checker=second_national_regulator)
    verify(period, national_regulator, {company_a: 100_000})
    return {"officer": _client(officer_of(company_a)), "trader_a": _client(trader_a), "trader_b": _client(trader_b)}


def _run_together(jobs) -> list[tuple[str, int, dict]]:
    """Runs the jobs (callables returning (what, response)) in threads started at the same moment."""
    start, outcomes, lock = threading.Barrier(len(jobs)), [], threading.Lock()

    def run(job):
        try:
            start.wait()
            what, response = job()
            with lock:
                outcomes.append((what, response.status_code, response.json() if response.content else {}))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(outcomes) == len(jobs), "a request did not finish"
    return outcomes


def test_surrenders_orders_cancels_and_matching_of_one_company_race_without_server_errors(market, company_a):
    officer, trader_a, trader_b = market["officer"], market["trader_a"], market["trader_b"]
    seen: Counter[tuple[str, int]] = Counter()
    sent, round_ = 0, 0
    while sent < REQUESTS:
        per_round = min(_per_round(), REQUESTS - sent)
        sent, round_ = sent + per_round, round_ + 1
        resting = [trader_a.post("/api/v1/orders/", {"instrument": "CEA21", "side": "sell", "price": "58.00", "quantity": 1,
                                                     "client_order_id": f"rest-{round_}-{n}"}, format="json").json()["id"]
                   for n in range(max(1, per_round // 3))]
        jobs = []
        for n in range(per_round):
            jobs.append(lambda n=n, r=round_: ("surrender", officer.post("/api/v1/surrenders/", {
                "period": "2021", "asset": "CEA21", "quantity": 1, "client_request_id": f"s-{r}-{n}"}, format="json")))
            side, client = ("buy", trader_a) if n % 2 else ("sell", trader_b)
            jobs.append(lambda n=n, r=round_, side=side, client=client: ("order", client.post("/api/v1/orders/", {
                "instrument": "CEA21", "side": side, "price": "54.22", "quantity": 1 + n % 3,
                "client_order_id": f"o-{r}-{n}"}, format="json")))
        jobs += [lambda order_id=order_id: ("cancel", trader_a.delete(f"/api/v1/orders/{order_id}/")) for order_id in resting]
        for what, status, body in _run_together(jobs):
            seen[(what, status)] += 1
            assert status < 500, (what, status, body)
            if status >= 400:
                assert body.get("code") and body.get("message"), (what, status, body)
    assert seen[("surrender", 201)] == Surrender.objects.filter(organization=company_a).count() > 0, seen
    assert Trade.objects.exists(), "the matcher matched nothing: the race did not include its batches"
    assert seen[("cancel", 200)] > 0, seen
