import pytest

from registry import services
from registry.models import Account, Asset, Balance, Transfer
from tests.factories import api_client_for
from trading.models import Instrument

CASH = 10_000_000_00  # 10 million CNY in fen
ALLOWANCES = 100_000  # tonnes of CEA21


def fund(organization, *, regulator, operator, cash=CASH, allowances=ALLOWANCES, reference="fund"):
    """Gives an organization cash and CEA21 through the registry services."""
    holding = Account.objects.get(organization=organization, kind=Account.Kind.HOLDING)
    cash_account = Account.objects.get(organization=organization, kind=Account.Kind.CASH)
    cea21 = Asset.objects.get(code="CEA21")
    if allowances:
        services.allowances_issue(asset=cea21, amount=allowances, actor=regulator)
        services.transfer_create(
            source=services.system_account(Account.Kind.NATIONAL_ISSUANCE), destination=holding, asset=cea21,
            amount=allowances, actor=regulator, kind=Transfer.Kind.ALLOCATION,
        )
    if cash:
        services.cash_deposit(account=cash_account, amount=cash, bank_reference=f"{reference}-{organization.uscc}", actor=operator)


def balance(organization, code):
    """(available, reserved, pending, frozen) of an organization's holding or cash for an asset code."""
    kind = Account.Kind.CASH if code == "CNY" else Account.Kind.HOLDING
    row = Balance.objects.get(account__organization=organization, account__kind=kind, asset__code=code)
    return row.available, row.reserved, row.pending, row.frozen


@pytest.fixture
def cea21():
    return Instrument.objects.get(symbol="CEA21")  # reference 54.22: limits 48.80 to 59.64


@pytest.fixture
def funded(company_a, company_b, national_regulator, exchange_operator):
    fund(company_a, regulator=national_regulator, operator=exchange_operator)
    fund(company_b, regulator=national_regulator, operator=exchange_operator)


def place(user, side, price, quantity, client_order_id=None, instrument="CEA21"):
    """order_place, with its after-commit work (matching, settlement) run at once, as in production
    (a `db` test never commits, so on_commit callbacks would otherwise wait for the test's end)."""
    from django.test import TestCase

    from trading.services import order_place

    place.counter = getattr(place, "counter", 0) + 1
    with TestCase.captureOnCommitCallbacks(execute=True):
        order, _ = order_place(
            user=user, instrument=instrument, side=side, price=price, quantity=quantity,
            client_order_id=client_order_id or f"auto-{place.counter}",
        )
    order.refresh_from_db()
    return order


def cancel(user, order):
    from django.test import TestCase

    from trading.services import order_cancel

    with TestCase.captureOnCommitCallbacks(execute=True):
        order_cancel(user=user, order_id=order.pk)
    order.refresh_from_db()
    return order


@pytest.fixture(autouse=True)
def _fresh_matchers():
    """The matcher registry is process-wide: a matcher left by an earlier test (whose writes were
    rolled back) must not carry its in-memory book into this one."""
    from trading import matcher

    matcher._matchers.clear()
    yield
    matcher._matchers.clear()


@pytest.fixture
def company_c(db):
    from tests.factories import OrganizationFactory, make_uscc

    return OrganizationFactory(name="Guodian Zhejiang Power Co., Ltd.", province="33", uscc=make_uscc("33"))


@pytest.fixture
def trader_c(company_c):
    from accounts.roles import Role
    from tests.factories import user_with_role

    return user_with_role(Role.COMPANY_TRADER, company_c)


@pytest.fixture
def trader_a2(company_a):
    """A second trader of company A (self-trade prevention works per organization, not per user)."""
    from accounts.roles import Role
    from tests.factories import user_with_role

    return user_with_role(Role.COMPANY_TRADER, company_a)


def run_on_commit(function, *args, **kwargs):
    """Calls a service and runs its after-commit work (matching, settlement) at once, like `place`."""
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        result = function(*args, **kwargs)
    return result


def api_client(user=None):
    """A DRF client authenticated with the user's API token (anonymous without a user)."""
    from rest_framework.test import APIClient

    return APIClient() if user is None else api_client_for(user)


class _HeldSettlement:
    """Stands in for the settlement task: records the trade ids the matcher queues, settles nothing."""

    def __init__(self) -> None:
        self.queued: list[list[int]] = []

    def delay(self, trade_ids):
        self.queued.append(list(trade_ids))


@pytest.fixture
def settlement_held(monkeypatch):
    """Trades stay unsettled (as when no worker is running) so that the state between matching and
    settlement can be seen. The matcher imports the task at call time, so the module attribute is it."""
    held = _HeldSettlement()
    monkeypatch.setattr("trading.settlement.settle_trades_task", held)
    return held


@pytest.fixture
def funded3(funded, company_c, national_regulator, exchange_operator):
    """Companies A, B and C with cash and CEA21."""
    fund(company_c, regulator=national_regulator, operator=exchange_operator)
