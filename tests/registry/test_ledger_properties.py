"""Random sequences of ledger operations, run through the services and compared with a small model.

After every operation: the ledger proves itself (`ledger_verify().ok`), no bucket is negative, and every
bucket of every account involved equals the model's. An operation the model says must be refused has
to raise that DomainError and change nothing (no transfer, no audit event, no balance); one it says
must succeed writes exactly one audit event (and one transfer, if it moves value).

Each example runs in its own atomic block that is rolled back at the end, so examples do not see each
other's ledger; the fixtures (organizations, users) are shared, hence the suppressed health check.
"""

from __future__ import annotations

from collections import defaultdict

import pytest
from django.db import transaction
from django.db.models import Q
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from accounts.roles import Role
from core.errors import (
    AccountFrozen,
    AssetNotAllowed,
    DomainError,
    IdempotencyConflict,
    InsufficientBalance,
    InvalidInput,
    NonPositiveAmount,
)
from core.models import AuditEvent
from registry import services
from registry.models import Account, Asset, Balance, Bucket, Transfer
from registry.selectors import ledger_verify
from tests.factories import user_with_role

COMPANIES = (0, 1, 2)
# Two vintages (CCER enter only by an offset registry issuance with serials: tests/offsets has their property test).
ALLOWANCES = ("CEA21", "CEA19-20")
NATIONAL, RETIREMENT, CANCELLATION = ("national",), ("retirement",), ("cancellation",)

# Company 0 is drawn most often, so that operations on one account meet each other (freeze, then reserve ...).
company = st.sampled_from((0, 0, 0, 1, 2))
allowance = st.sampled_from(ALLOWANCES)
any_asset = st.sampled_from((*ALLOWANCES, "CNY"))
# Mostly amounts that often fit, some far too large (refused), some that are not positive.
amount = st.one_of(st.integers(1, 60), st.integers(1, 200), st.integers(150, 5_000), st.integers(-2, 0))
bank_reference = st.sampled_from(["ICBC-1", "ICBC-2", "ICBC-3"])  # a small pool, so replays and conflicts happen
which_account = st.sampled_from(["holding", "cash"])

operation = st.one_of(
    st.tuples(st.just("issue"), any_asset, amount),
    st.tuples(st.just("allocate"), company, allowance, amount),
    st.tuples(st.just("transfer"), company, company, any_asset, amount),
    st.tuples(st.just("reserve"), company, any_asset, amount),
    st.tuples(st.just("release"), company, any_asset, amount),
    st.tuples(st.just("freeze_holdings"), company, any_asset, amount),
    st.tuples(st.just("unfreeze_holdings"), company, any_asset, amount),
    st.tuples(st.just("freeze_account"), company, which_account),
    st.tuples(st.just("unfreeze_account"), company, which_account),
    st.tuples(st.just("deposit"), company, amount, bank_reference),
    st.tuples(st.just("withdraw"), company, amount, bank_reference),
    st.tuples(st.just("retire"), company, any_asset, amount),
    st.tuples(st.just("cancel"), company, any_asset, amount),
)


# Every example starts from the same funded ledger, built by the same services, so that most operations
# have something to move.
OPENING = [
    ("issue", "CEA21", 1_000),
    ("issue", "CEA19-20", 300),
    *[("allocate", index, "CEA21", 200) for index in COMPANIES],
    *[("allocate", index, "CEA19-20", 50) for index in COMPANIES],
    *[("deposit", index, 50_000, f"OPENING-{index}") for index in COMPANIES],
]


class _Rollback(Exception):
    """Raised at the end of an example to undo everything it wrote."""


class Refused:
    def __init__(self, error: type[DomainError]) -> None:
        self.error = error


class Model:
    """What the ledger must hold: buckets per (account key, asset code), account statuses, booked bank records."""

    def __init__(self) -> None:
        self.buckets: dict[tuple, dict[str, int]] = defaultdict(lambda: dict.fromkeys(Bucket.values, 0))
        self.frozen_accounts: set[tuple] = set()
        self.deposits: dict[str, tuple[int, int]] = {}
        self.withdrawals: dict[str, tuple[int, int]] = {}

    @staticmethod
    def account_for(index: int, asset: str) -> tuple:
        return ("cash", index) if asset == "CNY" else ("holding", index)

    def can_take(self, key: tuple, asset: str, bucket: str, amount: int) -> bool:
        return self.buckets[(key, asset)][bucket] >= amount

    def move(self, asset: str, amount: int, source: tuple | None, source_bucket: str, destination: tuple | None, destination_bucket: str) -> None:
        if source is not None:
            self.buckets[(source, asset)][source_bucket] -= amount
        if destination is not None:
            self.buckets[(destination, asset)][destination_bucket] += amount

    def apply(self, op: tuple) -> Refused | str:
        """Applies `op` to the model and says what the ledger must do: Refused(error), "moved" (one new
        transfer), "status" (no transfer, one audit event) or "replayed" (nothing written at all)."""
        name, *args = op
        if name == "issue":
            asset, amount = args
            if asset == "CNY":
                return Refused(AssetNotAllowed)
            if amount <= 0:
                return Refused(NonPositiveAmount)
            self.move(asset, amount, None, "", NATIONAL, "available")
            return "moved"
        if name == "allocate":
            index, asset, amount = args
            if amount <= 0:
                return Refused(NonPositiveAmount)
            if not self.can_take(NATIONAL, asset, "available", amount):
                return Refused(InsufficientBalance)
            self.move(asset, amount, NATIONAL, "available", ("holding", index), "available")
            return "moved"
        if name in ("transfer", "retire", "cancel"):
            if name == "transfer":
                index, to_index, asset, amount = args
                if index == to_index:
                    return Refused(InvalidInput)
                destination = self.account_for(to_index, asset)
            else:
                index, asset, amount = args
                if asset == "CNY":
                    return Refused(AssetNotAllowed)
                destination = RETIREMENT if name == "retire" else CANCELLATION
            source = self.account_for(index, asset)
            if amount <= 0:
                return Refused(NonPositiveAmount)
            if source in self.frozen_accounts:
                return Refused(AccountFrozen)
            if not self.can_take(source, asset, "available", amount):
                return Refused(InsufficientBalance)
            self.move(asset, amount, source, "available", destination, "available")
            return "moved"
        if name in ("reserve", "release", "freeze_holdings", "unfreeze_holdings"):
            index, asset, amount = args
            account = self.account_for(index, asset)
            source_bucket, destination_bucket = {
                "reserve": ("available", "reserved"),
                "release": ("reserved", "available"),
                "freeze_holdings": ("available", "frozen"),
                "unfreeze_holdings": ("frozen", "available"),
            }[name]
            if amount <= 0:
                return Refused(NonPositiveAmount)
            # A frozen account keeps no value from leaving its available bucket, except into a freeze.
            if account in self.frozen_accounts and name == "reserve":
                return Refused(AccountFrozen)
            if not self.can_take(account, asset, source_bucket, amount):
                return Refused(InsufficientBalance)
            self.move(asset, amount, account, source_bucket, account, destination_bucket)
            return "moved"
        if name in ("freeze_account", "unfreeze_account"):
            index, which = args
            account = (which, index)
            if (name == "freeze_account") == (account in self.frozen_accounts):
                return Refused(InvalidInput)
            if name == "freeze_account":
                self.frozen_accounts.add(account)
            else:
                self.frozen_accounts.discard(account)
            return "status"
        if name in ("deposit", "withdraw"):
            index, amount, reference = args
            if amount <= 0:
                return Refused(NonPositiveAmount)
            booked = self.deposits if name == "deposit" else self.withdrawals
            if reference in booked:
                return "replayed" if booked[reference] == (index, amount) else Refused(IdempotencyConflict)
            account = ("cash", index)
            if name == "withdraw":
                if account in self.frozen_accounts:
                    return Refused(AccountFrozen)
                if not self.can_take(account, "CNY", "available", amount):
                    return Refused(InsufficientBalance)
                self.move("CNY", amount, account, "available", None, "")
            else:
                self.move("CNY", amount, None, "", account, "available")
            booked[reference] = (index, amount)
            return "moved"
        raise AssertionError(f"unknown operation {name}")


class World:
    """The real side: the accounts (loaded fresh for each example), assets and actors."""

    def __init__(self, organizations, regulator, operator, traders) -> None:
        self.regulator, self.operator, self.traders = regulator, operator, traders
        self.assets = {asset.code: asset for asset in Asset.objects.filter(code__in=(*ALLOWANCES, "CNY"))}
        self.accounts: dict[tuple, Account] = {
            NATIONAL: services.system_account(Account.Kind.NATIONAL_ISSUANCE),
            RETIREMENT: services.system_account(Account.Kind.RETIREMENT),
            CANCELLATION: services.system_account(Account.Kind.CANCELLATION),
        }
        for index, organization in enumerate(organizations):
            for account in Account.objects.filter(organization=organization):
                self.accounts[(account.kind, index)] = account
        self.keys = {account.pk: key for key, account in self.accounts.items()}

    def account(self, index: int, asset: str) -> Account:
        return self.accounts[Model.account_for(index, asset)]

    def run(self, op: tuple) -> None:
        name, *args = op
        s, regulator = services, self.regulator
        if name == "issue":
            asset, amount = args
            s.allowances_issue(asset=self.assets[asset], amount=amount, actor=regulator)
        elif name == "allocate":
            index, asset, amount = args
            s.transfer_create(
                source=self.accounts[NATIONAL], destination=self.accounts[("holding", index)], asset=self.assets[asset],
                amount=amount, actor=regulator, kind=Transfer.Kind.ALLOCATION,
            )
        elif name == "transfer":
            index, to_index, asset, amount = args
            s.transfer_create(
                source=self.account(index, asset), destination=self.account(to_index, asset), asset=self.assets[asset],
                amount=amount, actor=self.traders[index],
            )
        elif name in ("reserve", "release"):
            index, asset, amount = args
            service = s.balance_reserve if name == "reserve" else s.balance_release
            service(account=self.account(index, asset), asset=self.assets[asset], amount=amount, actor=self.traders[index])
        elif name in ("freeze_holdings", "unfreeze_holdings"):
            index, asset, amount = args
            service = s.holdings_freeze if name == "freeze_holdings" else s.holdings_unfreeze
            service(account=self.account(index, asset), asset=self.assets[asset], amount=amount, reason="court order", actor=regulator)
        elif name in ("freeze_account", "unfreeze_account"):
            index, which = args
            service = s.account_freeze if name == "freeze_account" else s.account_unfreeze
            service(account=self.accounts[(which, index)], reason="court order", actor=regulator)
        elif name in ("deposit", "withdraw"):
            index, amount, reference = args
            service = s.cash_deposit if name == "deposit" else s.cash_withdraw
            service(account=self.accounts[("cash", index)], amount=amount, bank_reference=reference, actor=self.operator)
        elif name in ("retire", "cancel"):
            index, asset, amount = args
            service = s.allowances_retire if name == "retire" else s.allowances_cancel
            service(account=self.account(index, asset), asset=self.assets[asset], amount=amount, actor=self.traders[index])
        else:
            raise AssertionError(f"unknown operation {name}")

    def observed(self) -> dict[tuple, dict[str, int]]:
        rows = Balance.objects.filter(account_id__in=self.keys).values_list("account_id", "asset__code", *Bucket.values)
        return {
            (self.keys[account_id], code): dict(zip(Bucket.values, amounts, strict=True))
            for account_id, code, *amounts in rows
            if any(amounts)
        }

    def counts(self) -> tuple[int, int]:
        return Transfer.objects.count(), AuditEvent.objects.count()


def _model_state(model: Model) -> dict[tuple, dict[str, int]]:
    return {key: dict(amounts) for key, amounts in model.buckets.items() if any(amounts.values())}


@pytest.fixture
def participants(company_a, company_b, company_c, trader_a, trader_b):
    return [company_a, company_b, company_c], [trader_a, trader_b, user_with_role(Role.COMPANY_TRADER, company_c)]


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(operation, min_size=1, max_size=20))
def test_random_operations_keep_the_ledger_consistent(participants, national_regulator, exchange_operator, operations):
    organizations, traders = participants
    try:
        with transaction.atomic():
            world, model = World(organizations, national_regulator, exchange_operator, traders), Model()
            for op in OPENING:
                assert model.apply(op) == "moved"
                world.run(op)
            assert world.observed() == _model_state(model)
            for step, op in enumerate(operations):
                transfers_before, audits_before = world.counts()
                expected = model.apply(op)
                event(f"{op[0]}: {expected.error.__name__ if isinstance(expected, Refused) else expected}")
                try:
                    world.run(op)
                except DomainError as error:
                    assert isinstance(expected, Refused), f"step {step} {op}: refused with {error!r}, the model expected {expected}"
                    assert isinstance(error, expected.error), f"step {step} {op}: {error!r}, expected {expected.error.__name__}"
                    assert world.counts() == (transfers_before, audits_before), f"step {step} {op}: a refusal wrote"
                else:
                    assert not isinstance(expected, Refused), f"step {step} {op}: accepted, expected {expected.error.__name__}"
                    new_transfers = {"moved": 1, "status": 0, "replayed": 0}[expected]
                    new_audits = 0 if expected == "replayed" else 1
                    assert world.counts() == (transfers_before + new_transfers, audits_before + new_audits), f"step {step} {op}"
                assert world.observed() == _model_state(model), f"step {step} {op}: balances differ from the model"
                frozen = set(Account.objects.filter(pk__in=world.keys, status=Account.Status.FROZEN).values_list("pk", flat=True))
                assert {world.keys[pk] for pk in frozen} == model.frozen_accounts, f"step {step} {op}"
                assert not Balance.objects.filter(Q(available__lt=0) | Q(reserved__lt=0) | Q(pending__lt=0) | Q(frozen__lt=0)).exists()
                report = ledger_verify()
                assert report.ok, f"step {step} {op}: " + "; ".join(report.problems)
            raise _Rollback
    except _Rollback:
        pass
