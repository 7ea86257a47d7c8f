"""Login, the holdings page and account statements, with the same visibility rules as the API."""

import pytest

from registry import services
from registry.models import Account, Asset, Transfer
from tests.auth import login


@pytest.fixture
def allocated(company_a, national_regulator):
    cea21 = Asset.objects.get(code="CEA21")
    national = services.system_account(Account.Kind.NATIONAL_ISSUANCE)
    services.allowances_issue(asset=cea21, amount=4321, actor=national_regulator)
    services.transfer_create(
        source=national, destination=Account.objects.get(organization=company_a, kind=Account.Kind.HOLDING),
        asset=cea21, amount=4321, actor=national_regulator, kind=Transfer.Kind.ALLOCATION, reference="plan:1",
    )


def test_the_login_page_logs_a_user_in_and_out(client, trader_a):
    assert client.get("/login/").status_code == 200
    response = client.post("/login/", {"username": trader_a.username, "password": "correct-horse-battery"})
    assert response.status_code == 302 and response.url == "/"
    assert client.get("/").status_code == 200
    client.post("/logout/")
    assert client.get("/").status_code == 302


def test_a_wrong_password_shows_a_generic_error(client, trader_a):
    response = client.post("/login/", {"username": trader_a.username, "password": "wrong"})
    assert response.status_code == 200
    assert b"didn&#x27;t match" in response.content or b"didn't match" in response.content


def test_the_home_page_shows_my_holdings(client, trader_a, company_a, allocated):
    login(client, trader_a)
    page = client.get("/").content.decode()
    assert f"HA-{company_a.uscc}" in page
    assert "4,321" in page


def test_my_account_statement_lists_the_allocation(client, trader_a, company_a, allocated):
    login(client, trader_a)
    page = client.get(f"/accounts/HA-{company_a.uscc}/").content.decode()
    assert "Allocation" in page and "plan:1" in page and "4,321" in page


def test_another_companys_statement_is_a_404(client, trader_b, company_a, allocated):
    login(client, trader_b)
    assert client.get(f"/accounts/HA-{company_a.uscc}/").status_code == 404
    assert f"HA-{company_a.uscc}" not in client.get("/").content.decode()


def test_pages_require_login(client, company_a):
    response = client.get(f"/accounts/HA-{company_a.uscc}/")
    assert response.status_code == 302 and response.url.startswith("/login/")
