"""The read-only ledger API: every user sees exactly the accounts its role and organization allow."""

import pytest
from rest_framework.test import APIClient

from registry import services
from registry.models import Account, Asset, Transfer
from tests.factories import api_client_for


def client_for(user) -> APIClient:
    return api_client_for(user)


def holding(organization) -> Account:
    return Account.objects.get(organization=organization, kind=Account.Kind.HOLDING)


@pytest.fixture
def funded(company_a, company_b, national_regulator, exchange_operator):
    """Both companies hold CEA21 and cash, moved through the services."""
    cea21 = Asset.objects.get(code="CEA21")
    national = services.system_account(Account.Kind.NATIONAL_ISSUANCE)
    services.allowances_issue(asset=cea21, amount=3000, actor=national_regulator)
    for company, tonnes in ((company_a, 1000), (company_b, 2000)):
        services.transfer_create(
            source=national, destination=holding(company), asset=cea21, amount=tonnes,
            actor=national_regulator, kind=Transfer.Kind.ALLOCATION,
        )
    services.cash_deposit(
        account=Account.objects.get(organization=company_a, kind=Account.Kind.CASH), amount=123456,
        bank_reference="BANK-1", actor=exchange_operator,
    )


def test_a_trader_lists_only_its_own_accounts(funded, trader_a, company_a):
    response = client_for(trader_a).get("/api/v1/accounts/")
    assert response.status_code == 200
    numbers = {row["number"] for row in response.json()["results"]}
    assert numbers == {f"HA-{company_a.uscc}", f"CA-{company_a.uscc}"}


def test_balances_are_integers_for_tonnes_and_two_decimal_strings_for_cash(funded, trader_a, company_a):
    body = client_for(trader_a).get(f"/api/v1/accounts/CA-{company_a.uscc}/").json()
    assert body["balances"] == [{"asset": "CNY", "available": "1234.56", "reserved": "0.00", "pending": "0.00", "frozen": "0.00", "not_carried": "0.00"}]
    body = client_for(trader_a).get(f"/api/v1/accounts/HA-{company_a.uscc}/").json()
    cea21 = next(b for b in body["balances"] if b["asset"] == "CEA21")
    assert cea21 == {"asset": "CEA21", "available": 1000, "reserved": 0, "pending": 0, "frozen": 0, "not_carried": 0}


def test_a_trader_gets_404_for_another_companys_account(funded, trader_a, company_b):
    client = client_for(trader_a)
    for url in (f"/api/v1/accounts/HA-{company_b.uscc}/", f"/api/v1/accounts/HA-{company_b.uscc}/transfers/"):
        response = client.get(url)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
        assert str(2000) not in response.content.decode()


def test_a_trader_gets_404_for_system_accounts(funded, trader_a):
    assert client_for(trader_a).get("/api/v1/accounts/SYS-NATIONAL/").status_code == 404


def test_a_trader_cannot_change_accounts_through_the_api(funded, trader_a, company_b):
    client = client_for(trader_a)
    for method in ("post", "put", "patch", "delete"):
        response = getattr(client, method)(f"/api/v1/accounts/HA-{company_b.uscc}/", {"status": "closed"}, format="json")
        assert response.status_code in (404, 405)
    assert holding(company_b).status == Account.Status.OPEN


def test_the_statement_lists_the_accounts_transfers_newest_first(funded, trader_a, company_a):
    rows = client_for(trader_a).get(f"/api/v1/accounts/HA-{company_a.uscc}/transfers/").json()["results"]
    assert [(row["kind"], row["amount"], row["destination"]) for row in rows] == [("allocation", 1000, f"HA-{company_a.uscc}")]


def test_a_provincial_regulator_sees_its_province_only(funded, shandong_regulator, company_a, company_b):
    numbers = {row["number"] for row in client_for(shandong_regulator).get("/api/v1/accounts/?limit=500").json()["results"]}
    assert f"HA-{company_a.uscc}" in numbers
    assert "SYS-PROV-37" in numbers
    assert f"HA-{company_b.uscc}" not in numbers
    assert "SYS-PROV-32" not in numbers
    assert client_for(shandong_regulator).get(f"/api/v1/accounts/HA-{company_b.uscc}/").status_code == 404


def test_an_auditor_sees_every_account(funded, auditor, company_a, company_b):
    client = client_for(auditor)
    for number in (f"HA-{company_a.uscc}", f"HA-{company_b.uscc}", "SYS-NATIONAL", "SYS-RETIREMENT"):
        assert client.get(f"/api/v1/accounts/{number}/").status_code == 200


def test_anonymous_callers_are_refused_with_a_code(db):
    response = APIClient().get("/api/v1/accounts/")
    assert response.status_code == 401
    assert response.json() == {
        "code": "not_authenticated", "message": "Authentication credentials were not provided.", "field": None,
    }


def test_a_bad_token_is_refused_with_a_code(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = client.get("/api/v1/accounts/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_the_openapi_schema_and_docs_are_served(db, trader_a):
    client = client_for(trader_a)
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/accounts/{number}/" in schema.content
    assert client.get("/api/docs/").status_code == 200
