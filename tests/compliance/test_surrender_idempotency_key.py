"""The Idempotency-Key header on `POST /api/v1/surrenders/`: it stands in for client_request_id and
must agree with it."""

import datetime as dt

import pytest
from django.utils import timezone

from allocation.services import period_create
from compliance.models import Surrender
from registry.models import Asset, Transfer
from tests.compliance.helpers import api_as, officer_of, plan_issue, verify

URL = "/api/v1/surrenders/"
BODY = {"period": "2021", "asset": "CEA21", "quantity": 1_000}


@pytest.fixture
def officer(company_a, national_regulator, second_national_regulator):
    period = period_create(code="2021", first_year=2021, last_year=2021, vintages=[Asset.objects.get(code="CEA21")],
                           surrender_deadline=timezone.localdate() + dt.timedelta(days=60), actor=national_regulator)
    plan_issue(period, [(company_a, "coal_gt300", 100_000)], maker=national_regulator, checker=second_national_regulator)
    verify(period, national_regulator, {company_a: 70_000})
    return officer_of(company_a)


def test_the_key_stands_in_for_client_request_id_and_a_retry_surrenders_once(officer):
    client = api_as(officer)
    first = client.post(URL, BODY, format="json", HTTP_IDEMPOTENCY_KEY="s-1")
    again = client.post(URL, BODY, format="json", HTTP_IDEMPOTENCY_KEY="s-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Surrender.objects.get().client_request_id == "s-1"
    assert Transfer.objects.filter(kind=Transfer.Kind.SURRENDER).count() == 1


def test_a_key_that_differs_from_client_request_id_is_refused_and_nothing_moves(officer):
    response = api_as(officer).post(URL, {**BODY, "client_request_id": "mine"}, format="json", HTTP_IDEMPOTENCY_KEY="other")
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_mismatch" and response.json()["field"] == "client_request_id"
    assert not Surrender.objects.exists()
    assert not Transfer.objects.filter(kind=Transfer.Kind.SURRENDER).exists()
