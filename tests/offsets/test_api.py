"""The offset registry API: POST /api/v1/cancellations/, GET /api/v1/serial-blocks/, GET /api/v1/certificates/<number>/."""

import pytest
from rest_framework.test import APIClient

from offsets.models import Certificate
from tests.compliance.helpers import api_as
from tests.offsets.helpers import ccer_issue


@pytest.fixture
def issued(company_a, holding_a, national_regulator):
    return ccer_issue(company_a, 300, national_regulator)


def test_a_holder_cancels_through_the_api_and_anyone_reads_the_certificate(issued, officer_a):
    client = api_as(officer_a)
    body = {"asset": "CCER", "quantity": 20, "purpose": "Product footprint", "blocks": [[101, 120]], "client_request_id": "api-1"}
    created = client.post("/api/v1/cancellations/", body, format="json")
    assert created.status_code == 201
    answer = created.json()
    assert answer["ranges"] == [{"project": issued.project.identifier, "vintage": 2024, "first_serial": 101, "last_serial": 120,
                                 "quantity": 20}]
    assert answer["verification_url"].endswith(f"/offsets/certificates/{answer['number']}/")
    replay = client.post("/api/v1/cancellations/", body, format="json")
    assert replay.status_code == 200 and replay.json()["number"] == answer["number"]
    assert Certificate.objects.count() == 1
    public = APIClient().get(f"/api/v1/certificates/{answer['number']}/")
    assert public.status_code == 200 and public.json()["quantity"] == 20

    held = client.get("/api/v1/serial-blocks/").json()
    assert [(b["first_serial"], b["last_serial"]) for b in held] == [(1, 100), (121, 300)]


@pytest.mark.parametrize("changes, status, code, field", [
    ({"quantity": 1.5}, 400, "invalid", "quantity"),
    ({"blocks": [[1, 2, 3]]}, 400, "max_length", "blocks"),
    ({"blocks": [[290, 310]], "quantity": 21}, 409, "serials_unavailable", "blocks"),
    ({"purpose": ""}, 400, "blank", "purpose"),
])
def test_bad_input_is_a_clear_error(issued, officer_a, changes, status, code, field):
    body = {"asset": "CCER", "quantity": 20, "purpose": "x", "client_request_id": "bad", **changes}
    answer = api_as(officer_a).post("/api/v1/cancellations/", body, format="json")
    assert answer.status_code == status
    assert (answer.json()["code"], answer.json()["field"]) == (code, field)
    assert not Certificate.objects.exists()
