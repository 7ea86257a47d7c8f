"""Racing surrenders that share one client_request_id: one is made; a racer with the same body gets
it back (a replay); a racer with another body is a 409 `idempotency_conflict`, never another
request's surrender."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from compliance.models import Surrender
from tests.compliance.helpers import api_as, officer_of, plan_issue, verify

pytestmark = pytest.mark.django_db(transaction=True)


def test_racing_surrenders_with_one_id_and_different_quantities(period, company_a, national_regulator,
                                                                 second_national_regulator):
    plan_issue(period, [(company_a, "coal_gt300", 1_000)], maker=national_regulator, checker=second_national_regulator)
    verify(period, national_regulator, {company_a: 100_000})
    officer = officer_of(company_a)
    start, answers, lock = threading.Barrier(20), [], threading.Lock()

    def surrender(quantity: int) -> None:
        try:
            client = api_as(officer)
            start.wait()
            response = client.post("/api/v1/surrenders/", {"period": "2021", "asset": "CEA21", "quantity": quantity,
                                                           "client_request_id": "one-id"}, format="json")
            with lock:
                answers.append((quantity, response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=surrender, args=(1 + n % 4,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    made = Surrender.objects.get(organization=company_a, client_request_id="one-id")
    assert len(answers) == 20
    for quantity, status, body in answers:
        if quantity == made.quantity:
            assert status in (200, 201) and body["id"] == made.pk, (quantity, status, body)
        else:
            assert (status, body["code"], body["field"]) == (409, "idempotency_conflict", "client_request_id"), (quantity, body)
    assert Surrender.objects.count() == 1
