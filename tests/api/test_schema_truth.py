"""The OpenAPI schema (/api/schema/) tells the truth: each limit the server enforces is declared, and
each answer the schema declares is the server's. Every finding of the outside schemathesis run
(scripts/schemathesis_outside.py) is pinned here twice: the schema's words, and the server's deeds."""

from __future__ import annotations

import re

import pytest
from rest_framework.test import APIClient

from registry.models import Account
from tests.compliance.helpers import officer_of
from tests.trading.conftest import api_client, fund, place, run_on_commit

IDEMPOTENT_OPERATIONS = [
    ("post", "/api/v1/orders/"), ("delete", "/api/v1/orders/{order_id}/"), ("post", "/api/v1/surrenders/"),
    ("post", "/api/v1/emission-reports/"), ("post", "/api/v1/emission-reports/{report_id}/verify/"),
    ("post", "/api/v1/emission-reports/{report_id}/confirm/"), ("post", "/api/v1/emission-reports/{report_id}/objection/"),
    ("post", "/api/v1/emission-reports/{report_id}/decision/"),
]
INSTRUMENT_PATHS = ["/api/v1/instruments/{symbol}/", "/api/v1/instruments/{symbol}/book/",
                    "/api/v1/instruments/{symbol}/trades/", "/api/v1/instruments/{symbol}/candles/"]
ENUM_FILTERS = [("/api/v1/orders/", "status"), ("/api/v1/orders/", "side"), ("/api/v1/accounts/", "kind"),
                ("/api/v1/accounts/", "status")]


@pytest.fixture
def funded(company_a, national_regulator, exchange_operator):
    from trading import matcher

    matcher._matchers.clear()  # (no book left in memory by an earlier test)
    fund(company_a, regulator=national_regulator, operator=exchange_operator)


@pytest.fixture
def cea21(db):
    from trading.models import Instrument

    return Instrument.objects.get(symbol="CEA21")


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def operation(schema, method, path):
    return schema["paths"][path][method]


def parameter(schema, method, path, name):
    found = [p for p in operation(schema, method, path).get("parameters", []) if p["name"] == name]
    assert found, f"{method.upper()} {path} declares no parameter {name}"
    return found[0]


def component(schema, reference):
    return schema["components"]["schemas"][reference.rsplit("/", 1)[-1]]


# --- the Idempotency-Key header: 1 to 64 printable ASCII characters ---


@pytest.mark.parametrize(("method", "path"), IDEMPOTENT_OPERATIONS)
def test_the_idempotency_key_header_declares_what_the_server_accepts(schema, method, path):
    key = parameter(schema, method, path, "Idempotency-Key")
    assert key["in"] == "header" and not key.get("required", False)
    assert (key["schema"]["type"], key["schema"]["minLength"], key["schema"]["maxLength"]) == ("string", 1, 64)
    pattern = re.compile(key["schema"]["pattern"])
    for good in ["k", "x" * 64, "order 2026-12-04/1", "a!~b"]:
        assert pattern.search(good), good
    for bad in ["", " ", " k", "k ", "x" * 65, "tab\there", "é", "键"]:
        assert not pattern.search(bad) or not 1 <= len(bad) <= 64, bad


@pytest.mark.parametrize("key", ["", "x" * 65, "é", "tab\there"])
def test_a_key_the_schema_refuses_the_server_refuses(funded, cea21, trader_a, key):
    response = api_client(trader_a).post("/api/v1/orders/", {"instrument": "CEA21", "side": "buy", "price": "50.00",
                                                             "quantity": 10, "client_order_id": "c"},
                                         format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == ("invalid", "Idempotency-Key")


def test_a_key_of_64_printable_ascii_characters_is_taken(funded, cea21, trader_a):
    key = "K" + "~ !" * 21
    assert len(key) == 64
    response = api_client(trader_a).post("/api/v1/orders/", {"instrument": "CEA21", "side": "buy", "price": "50.00",
                                                             "quantity": 10}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 201 and response.json()["client_order_id"] == key


# --- 422 idempotency_key_mismatch: declared where it happens, and only there ---


def test_422_idempotency_key_mismatch_is_declared_on_the_operations_that_give_it_and_no_other(schema):
    declaring = {(method, path) for path, operations in schema["paths"].items()
                 for method, op in operations.items() if "422" in op["responses"]}
    assert declaring == {("post", "/api/v1/orders/"), ("post", "/api/v1/surrenders/"), ("post", "/api/v1/block-offers/"),
                         ("post", "/api/v1/block-offers/{offer_id}/accept/"), ("post", "/api/v1/auctions/"),
                         ("post", "/api/v1/auctions/{auction_id}/bids/"), ("post", "/api/v1/cancellations/")}
    for method, path in declaring:
        answer = operation(schema, method, path)["responses"]["422"]
        assert "idempotency_key_mismatch" in answer["description"]
        assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
        assert "422 `idempotency_key_mismatch`" in parameter(schema, method, path, "Idempotency-Key")["description"]


def test_the_server_answers_the_declared_422(funded, cea21, trader_a, company_a):
    order = api_client(trader_a).post("/api/v1/orders/", {"instrument": "CEA21", "side": "buy", "price": "50.00",
                                                          "quantity": 10, "client_order_id": "mine"},
                                      format="json", HTTP_IDEMPOTENCY_KEY="other")
    surrender = api_client(officer_of(company_a)).post(
        "/api/v1/surrenders/", {"period": "2021", "asset": "CEA21", "quantity": 1, "client_request_id": "mine"},
        format="json", HTTP_IDEMPOTENCY_KEY="other",
    )
    for response, field in ((order, "client_order_id"), (surrender, "client_request_id")):
        assert response.status_code == 422
        assert (response.json()["code"], response.json()["field"]) == ("idempotency_key_mismatch", field)


@pytest.mark.parametrize("headers", [{}, {"HTTP_IDEMPOTENCY_KEY": "k-1"}])
def test_a_null_client_id_is_refused_with_or_without_the_header(funded, cea21, trader_a, company_a, headers):
    """The schema's client ids are strings, not nullable: a null is refused, never taken as absent."""
    order = api_client(trader_a).post("/api/v1/orders/", {"instrument": "CEA21", "side": "buy", "price": "50.00",
                                                          "quantity": 10, "client_order_id": None},
                                      format="json", **headers)
    surrender = api_client(officer_of(company_a)).post(
        "/api/v1/surrenders/", {"period": "2021", "asset": "CEA21", "quantity": 1, "client_request_id": None},
        format="json", **headers,
    )
    for response, field in ((order, "client_order_id"), (surrender, "client_request_id")):
        assert response.status_code == 400
        assert (response.json()["code"], response.json()["field"]) == ("null", field)


@pytest.mark.parametrize("value", [0, 12, 1.5, True])
def test_a_client_id_that_is_not_text_is_refused(funded, cea21, trader_a, value):
    """DRF's CharField would take 0 as "0"; the schema's client_order_id is a string."""
    response = api_client(trader_a).post("/api/v1/orders/", {"instrument": "CEA21", "side": "buy", "price": "50.00",
                                                             "quantity": 10, "client_order_id": value}, format="json")
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == ("invalid", "client_order_id")


def test_a_surrenders_client_id_as_a_number_is_refused(db, company_a):
    response = api_client(officer_of(company_a)).post(
        "/api/v1/surrenders/", {"period": "2021", "asset": "CEA21", "quantity": 1, "client_request_id": 5},
        format="json",
    )
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == ("invalid", "client_request_id")


# --- no NUL in a URL ---


def test_every_free_string_parameter_of_a_url_is_declared_without_nul(schema):
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            for declared in op.get("parameters", []):
                if declared["in"] in ("path", "query") and declared["schema"].get("type") == "string":
                    assert "enum" in declared["schema"] or "pattern" in declared["schema"], (method, path, declared)
                    if "pattern" in declared["schema"]:
                        assert not re.search(declared["schema"]["pattern"], "a\x00b"), (method, path, declared)
    assert parameter(schema, "get", "/api/v1/orders/", "instrument__symbol")["schema"]["pattern"] == r"^[^\x00]*$"


@pytest.mark.parametrize("url", ["/api/v1/orders/?instrument__symbol=%00", "/api/v1/orders/?instrument=a%00b",
                                 "/api/v1/instruments/CEA%0021/"])
def test_the_server_refuses_a_nul_in_a_url(funded, trader_a, url):
    response = api_client(trader_a).get(url)
    assert response.status_code == 400 and response.json()["code"] == "invalid"


# --- depth 1 to 50; period required ---


def test_book_depth_is_declared_1_to_50(schema):
    depth = parameter(schema, "get", "/api/v1/instruments/{symbol}/book/", "depth")["schema"]
    assert (depth["type"], depth["minimum"], depth["maximum"], depth["default"]) == ("integer", 1, 50, 10)


@pytest.mark.parametrize(("depth", "status"), [("0", 400), ("1", 200), ("50", 200), ("51", 400), ("", 400)])
def test_the_server_takes_the_declared_depths_and_refuses_others(db, depth, status):
    response = APIClient().get(f"/api/v1/instruments/CEA21/book/?depth={depth}")
    assert response.status_code == status
    if status == 400:
        assert response.json()["field"] == "depth"


def test_the_obligations_period_is_declared_required_and_not_empty(schema):
    period = parameter(schema, "get", "/api/v1/obligations/", "period")
    assert period["required"] is True
    assert (period["schema"]["type"], period["schema"]["minLength"], period["schema"]["maxLength"]) == ("string", 1, 9)


@pytest.mark.parametrize("query", ["", "?period="])
def test_the_server_refuses_obligations_without_a_period(db, company_a, query):
    response = api_client(officer_of(company_a)).get(f"/api/v1/obligations/{query}")
    assert response.status_code == 400
    assert response.json()["field"] == "period"


# --- TransferOut.source and destination are null outside the registry ---


def test_a_transfers_source_and_destination_are_declared_nullable(schema):
    transfer = component(schema, "TransferOut")
    assert transfer["properties"]["source"] == {"type": "string", "nullable": True}
    assert transfer["properties"]["destination"] == {"type": "string", "nullable": True}


def test_a_deposit_has_no_source(funded, company_a, trader_a):
    number = Account.objects.get(organization=company_a, kind=Account.Kind.CASH).number
    rows = api_client(trader_a).get(f"/api/v1/accounts/{number}/transfers/?kind=deposit").json()["results"]
    assert rows and all(row["source"] is None and row["destination"] == number for row in rows)


# --- an empty enum filter is refused as a wrong one is ---


@pytest.mark.parametrize(("path", "name"), ENUM_FILTERS)
def test_enum_filters_are_declared_without_the_empty_value(schema, path, name):
    declared = parameter(schema, "get", path, name)["schema"]
    assert declared["enum"] and "" not in declared["enum"]


@pytest.mark.parametrize(("path", "name"), ENUM_FILTERS + [("/api/v1/accounts/{number}/transfers/", "kind")])
def test_an_empty_enum_filter_is_refused_as_a_wrong_one(funded, company_a, trader_a, path, name):
    client = api_client(trader_a)
    path = path.replace("{number}", Account.objects.get(organization=company_a, kind=Account.Kind.CASH).number)
    wrong, empty = client.get(f"{path}?{name}=bogus"), client.get(f"{path}?{name}=")
    assert (wrong.status_code, empty.status_code) == (400, 400)
    assert wrong.json()["code"] == empty.json()["code"] == "invalid_choice"
    assert wrong.json()["field"] == empty.json()["field"] == name
    assert client.get(path).status_code == 200  # no filter at all is no filter


def test_a_filter_given_twice_with_the_last_value_empty_is_refused(funded, trader_a):
    assert api_client(trader_a).get("/api/v1/orders/?status=open&status=").status_code == 400


# --- an unknown instrument in a path is a 404; in a body it stays a 400 ---


@pytest.mark.parametrize("path", INSTRUMENT_PATHS)
def test_an_unknown_instrument_in_a_path_is_declared_404(schema, path):
    answer = operation(schema, "get", path)["responses"]["404"]
    assert "unknown_instrument" in answer["description"]
    assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


@pytest.mark.parametrize("path", INSTRUMENT_PATHS)
def test_an_unknown_instrument_in_a_path_is_a_404(db, path):
    response = APIClient().get(path.replace("{symbol}", "NOPE"))
    assert response.status_code == 404
    assert (response.json()["code"], response.json()["field"]) == ("unknown_instrument", "symbol")


def test_an_unknown_instrument_in_a_body_stays_a_400(funded, trader_a):
    response = api_client(trader_a).post("/api/v1/orders/", {"instrument": "NOPE", "side": "buy", "price": "50.00",
                                                             "quantity": 10, "client_order_id": "c"}, format="json")
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == ("unknown_instrument", "instrument")


def test_the_orders_instrument_filter_is_declared(schema):
    assert parameter(schema, "get", "/api/v1/orders/", "instrument")["schema"]["type"] == "string"


# --- DELETE on an order cancels it ---


def test_delete_on_an_order_is_declared_a_cancel_that_answers_the_order(schema):
    cancel = operation(schema, "delete", "/api/v1/orders/{order_id}/")
    assert cancel["operationId"] == "v1_orders_cancel"
    assert cancel["summary"].startswith("Cancel the order")
    assert "nothing is deleted" in cancel["description"] and "`cancelled`" in cancel["description"]
    assert cancel["responses"]["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/OrderOut"}
    assert "204" not in cancel["responses"]
    assert "order_not_open" in cancel["responses"]["409"]["description"]


def test_delete_on_an_order_cancels_it_and_the_order_stays(funded, cea21, trader_a):
    order = place(trader_a, "buy", "50.00", 10)
    client = api_client(trader_a)
    answer = run_on_commit(client.delete, f"/api/v1/orders/{order.pk}/")
    assert answer.status_code == 200
    assert (answer.json()["id"], answer.json()["cancel_requested"]) == (order.pk, True)  # the order, as declared
    after = client.get(f"/api/v1/orders/{order.pk}/")
    assert after.status_code == 200 and after.json()["status"] == "cancelled"
    again = client.delete(f"/api/v1/orders/{order.pk}/")
    assert again.status_code == 409 and again.json()["code"] == "order_not_open"


# --- what else the outside run found ---


def test_a_reports_attachment_is_declared_a_file_not_a_url(schema):
    upload = operation(schema, "post", "/api/v1/emission-reports/")["requestBody"]["content"]["multipart/form-data"]
    attachment = component(schema, upload["schema"]["$ref"])["properties"]["attachment"]
    assert (attachment["type"], attachment["format"]) == ("string", "binary")


def test_a_created_order_links_to_reading_and_cancelling_it(schema):
    links = operation(schema, "post", "/api/v1/orders/")["responses"]["201"]["links"]
    assert links == {
        "v1_orders_cancel": {"operationId": "v1_orders_cancel", "parameters": {"order_id": "$response.body#/id"}},
        "v1_orders_retrieve": {"operationId": "v1_orders_retrieve", "parameters": {"order_id": "$response.body#/id"}},
    }
    assert set(operation(schema, "post", "/api/v1/emission-reports/")["responses"]["201"]["links"]) == {
        "v1_emission_reports_retrieve", "v1_emission_reports_verify_create", "v1_emission_reports_confirm_create",
        "v1_emission_reports_objection_create", "v1_emission_reports_decision_create",
    }


def test_what_the_reverse_proxy_answers_itself_is_declared(schema):
    """nginx answers a URL over its 8 KB buffer (414) and a body over 12 MB (413) with its own pages;
    gunicorn takes request lines up to 8 KB (its default, 4 KB, answered an HTML 400 in between), and
    nginx hands TRACE, which it refuses without an Allow header, to the application."""
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            assert op["responses"]["414"]["content"] == {"text/html": {"schema": {"type": "string"}}}, (method, path)
            assert set(op["responses"]["413"]["content"]) == {"application/json", "text/html"}, (method, path)
    from django.conf import settings

    gunicorn_conf: dict = {}
    exec((settings.BASE_DIR / "deploy" / "gunicorn.conf.py").read_text(), gunicorn_conf)
    assert gunicorn_conf["limit_request_line"] == 8190
    assert "error_page 405 = @application;" in (settings.BASE_DIR / "deploy" / "nginx.conf.template").read_text()
