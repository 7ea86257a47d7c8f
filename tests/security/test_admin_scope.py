"""The admin keeps a provincial regulator to its province (RULEBOOK: it sees only its province): orders,
trades and memberships of other provinces' units are not listed and cannot be opened."""

import pytest
from django.test import Client

from accounts.models import Membership, Organization
from accounts.roles import Role
from tests.auth import login
from tests.factories import OrganizationFactory, user_with_role
from tests.trading.conftest import cea21, funded, place  # noqa: F401 - fixtures used by name
from trading.models import Order, Trade


@pytest.fixture
def traded(funded, cea21, trader_a, trader_b, company_b):  # noqa: F811 - the imported fixtures
    """A (Shandong) buys from B (Jiangsu); B also has a resting order of its own."""
    place(trader_b, "sell", "54.00", 100, "b-sell")
    place(trader_a, "buy", "54.00", 100, "a-buy")
    place(trader_b, "buy", "50.00", 10, "b-rests")
    return Trade.objects.get()


def admin_as(user) -> Client:
    """Regulators and the exchange are staff: they use the admin."""
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return login(Client(), user)


def guangdong_regulator():
    bureau = OrganizationFactory(name="Guangdong DEE", kind=Organization.Kind.INSTITUTION, sector="government", province="44")
    return user_with_role(Role.PROVINCIAL_REGULATOR, bureau)


def test_a_provincial_regulator_lists_only_its_units_orders_trades_and_memberships(traded, shandong_regulator, trader_b):
    client = admin_as(shandong_regulator)
    orders = client.get("/admin/trading/order/?q=")
    assert orders.status_code == 200
    assert orders.context["cl"].result_count == 1 and orders.context["cl"].result_list[0].client_order_id == "a-buy"
    trades = client.get("/admin/trading/trade/").context["cl"]
    assert [trade.pk for trade in trades.result_list] == [traded.pk]  # its unit bought: the trade is its business
    members = client.get("/admin/accounts/membership/").context["cl"]
    assert {m.organization.province for m in members.result_list} == {"37"}
    b_order = Order.objects.get(client_order_id="b-rests")
    assert client.get(f"/admin/trading/order/{b_order.pk}/change/").status_code == 302  # "does not exist": back to the list
    b_membership = Membership.objects.get(user=trader_b)
    assert client.get(f"/admin/accounts/membership/{b_membership.pk}/change/").status_code == 302


def test_a_regulator_of_a_province_without_the_units_sees_none_of_them(traded):
    client = admin_as(guangdong_regulator())
    for path in ("/admin/trading/order/", "/admin/trading/trade/"):
        response = client.get(path)
        assert response.status_code == 200 and response.context["cl"].result_count == 0, path
    members = client.get("/admin/accounts/membership/").context["cl"].result_list
    assert {m.organization.province for m in members} == {"44"}  # its own bureau's staff only
    assert client.get(f"/admin/trading/trade/{traded.pk}/change/").status_code == 302


def test_the_national_regulator_and_the_exchange_see_every_unit(traded, national_regulator, exchange_operator):
    for user in (national_regulator, exchange_operator):
        client = admin_as(user)
        assert client.get("/admin/trading/order/").context["cl"].result_count == 3
        assert client.get("/admin/trading/trade/").context["cl"].result_count == 1
