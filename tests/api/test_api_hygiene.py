"""API hygiene: request size limit (413 `request_too_large`), JSON 404 and 500 bodies under /api/,
and every API operation that changes state honours the Idempotency-Key header."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from tests.trading.conftest import api_client
from trading.models import Order

# Operations that change state but move no value, with the reason; every other POST, PUT, PATCH and
# DELETE under /api/ must honour Idempotency-Key (core.idempotency) and document it in the schema.
NOT_VALUE_MOVING: dict[tuple[str, str], str] = {}


def test_every_api_operation_that_changes_state_honours_the_idempotency_key():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    missing = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method not in ("post", "put", "patch", "delete") or (method.upper(), path) in NOT_VALUE_MOVING:
                continue
            headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
            if "Idempotency-Key" not in headers:
                missing.append(f"{method.upper()} {path}")
    assert not missing, (
        "These API operations change state without honouring the Idempotency-Key header: "
        f"{missing}. Use core.idempotency (body_with_key for a body with its own id, idempotent() otherwise) and "
        "add IDEMPOTENCY_KEY_PARAMETER to the view's extend_schema, or list the operation in NOT_VALUE_MOVING "
        "with the reason it moves no value."
    )


def test_a_body_over_the_limit_is_refused_with_413_before_anything_reads_it(db, trader_a, settings):
    settings.API_MAX_BODY_SIZE = 2048
    body = json.dumps({"instrument": "CEA21", "side": "buy", "price": "50.00", "quantity": 1,
                       "client_order_id": "big", "padding": "x" * 3000})
    response = api_client(trader_a).post("/api/v1/orders/", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"
    assert response["X-Content-Type-Options"] == "nosniff" and "Content-Security-Policy" in response
    assert not Order.objects.exists()


def test_a_body_under_the_limit_goes_through(db, trader_a, settings):
    settings.API_MAX_BODY_SIZE = 2048
    response = api_client(trader_a).post("/api/v1/orders/", {"padding": "x" * 1500}, format="json")
    assert response.status_code == 400  # reached the view: an order without its fields


def test_pages_are_not_held_to_the_api_limit(db, settings):
    settings.API_MAX_BODY_SIZE = 2048
    response = Client().post("/login/", {"username": "nobody", "password": "x" * 4000})
    assert response.status_code == 200  # the login form again, not a 413


def test_an_unknown_api_url_is_a_json_404_and_an_unknown_page_is_html(db):
    response = Client().get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Not found.", "field": None}
    page = Client().get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


def test_an_unhandled_error_in_the_api_is_a_json_500(db, monkeypatch):
    def broken(symbol):
        raise RuntimeError("a bug")

    monkeypatch.setattr("trading.selectors.instrument_get", broken)
    response = Client(raise_request_exception=False).get("/api/v1/instruments/CEA21/")
    assert response.status_code == 500
    assert response.json()["code"] == "server_error"
    assert "a bug" not in response.content.decode()


@pytest.mark.parametrize("value", ["1200/min", "5/s", "100/hour"])
def test_the_order_rate_setting_parses(value, monkeypatch):
    from config.env import env_rate

    monkeypatch.setenv("API_ORDER_RATE", value)
    count, period = env_rate("API_ORDER_RATE", "1/s")
    assert count == int(value.split("/")[0]) and period in (1, 60, 3600)


@pytest.mark.parametrize("value", ["fast", "0/min", "10/week", "/min"])
def test_a_bad_order_rate_stops_start_up_naming_the_variable(value, monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from config.env import env_rate

    monkeypatch.setenv("API_ORDER_RATE", value)
    with pytest.raises(ImproperlyConfigured, match="API_ORDER_RATE"):
        env_rate("API_ORDER_RATE", "1/s")


@pytest.mark.parametrize("url", ["/api/v1/accounts/HA-%00/", "/api/v1/orders/?instrument=CEA%0021"])
def test_a_nul_character_in_an_api_url_is_a_400_not_a_server_error(db, trader_a, url):
    response = api_client(trader_a).get(url)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
