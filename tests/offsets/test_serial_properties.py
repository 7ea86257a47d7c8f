"""Random sequences of issuances, transfers, trades (reserve, then settlement into the buyer's pending
bucket, then the T+1 release), surrenders (oldest eligible first) and voluntary cancellations (oldest
first, or ranges the holder chooses), run through the services and compared with a small model that
knows, serial number by serial number, who holds what.

After every step: the ledger proves itself (`ledger_verify`, which includes the offset registry's
check: blocks sum to balances, never overlap, every issued serial in exactly one block); every account
holds exactly the serials the model says; blocks are merged (no two adjacent ranges of one issuance in
one account); sampled serials trace back to their issuance through movements that end at their
holder. A refused step changes nothing.

Each example runs in an atomic block rolled back at its end (as tests/registry/test_ledger_properties).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from core.errors import DomainError
from offsets.models import SerialBlock
from offsets.selectors import compliance_eligible, serial_trace
from offsets.serials import serial_plan
from offsets.services import cancellation_create
from registry import services as registry
from registry.models import Account, Asset, Balance, Bucket, Transfer
from registry.selectors import ledger_verify
from tests.compliance.helpers import officer_of
from tests.offsets.helpers import LEGACY, RECENT, ccer_issue
from tests.trading.conftest import fund

COMPANIES = (0, 1, 2)
PRICE = 60_00  # fen per tonne in the trades

company = st.sampled_from((0, 0, 1, 1, 2))
other = st.sampled_from((1, 2))  # the counterparty: the next company or the one after
amount = st.one_of(st.integers(1, 40), st.integers(1, 150), st.integers(100, 600))
operation = st.one_of(
    st.tuples(st.just("issue"), company, st.integers(1, 120), st.sampled_from([(2016, LEGACY), (2024, RECENT), (2025, RECENT)])),
    st.tuples(st.just("transfer"), company, other, amount),
    st.tuples(st.just("trade"), company, other, amount),
    st.tuples(st.just("trade"), company, other, amount),
    st.tuples(st.just("release_pending"), company),
    st.tuples(st.just("reserve"), company, amount),
    st.tuples(st.just("release"), company, amount),
    st.tuples(st.just("surrender"), company, amount, st.booleans()),
    st.tuples(st.just("cancel"), company, amount),
    st.tuples(st.just("cancel_chosen"), company, st.floats(0, 0.999), st.integers(1, 60)),
)
OPENING = [("issue", 0, 200, (2016, LEGACY)), ("issue", 0, 300, (2024, RECENT)), ("issue", 1, 150, (2025, RECENT))]


class Refused(Exception):
    pass


class Model:
    """Who holds each serial number (account key), with each serial's issuance and vintage."""

    def __init__(self) -> None:
        self.holder: dict[int, tuple] = {}
        self.vintage: dict[int, int] = {}
        self.issuance: dict[int, int] = {}
        self.legacy: set[int] = set()

    def held(self, key: tuple) -> list[int]:
        """The account's serials in the order movements take them: oldest vintage, then lowest serial."""
        return sorted((s for s, k in self.holder.items() if k == key), key=lambda s: (self.vintage[s], s))

    def move(self, serials: list[int], destination: tuple) -> None:
        for serial in serials:
            self.holder[serial] = destination

    def state(self) -> dict[tuple, set[int]]:
        by_key: dict[tuple, set[int]] = defaultdict(set)
        for serial, key in self.holder.items():
            by_key[key].add(serial)
        return dict(by_key)


class World:
    def __init__(self, organizations, regulators, officers, operator) -> None:
        self.organizations, self.officers, self.operator = organizations, officers, operator
        self.maker, self.checker = regulators
        self.ccer = Asset.objects.get(code="CCER")
        self.cny = Asset.objects.get(code="CNY")
        self.accounts = {("holding", i): Account.objects.get(organization=o, kind=Account.Kind.HOLDING) for i, o in enumerate(organizations)}
        self.accounts |= {("cash", i): Account.objects.get(organization=o, kind=Account.Kind.CASH) for i, o in enumerate(organizations)}
        self.accounts[("retirement",)] = registry.system_account(Account.Kind.RETIREMENT)
        self.accounts[("cancellation",)] = registry.system_account(Account.Kind.CANCELLATION)
        self.accounts[("national",)] = registry.system_account(Account.Kind.NATIONAL_ISSUANCE)
        self.keys = {account.pk: key for key, account in self.accounts.items()}
        self.requests = 0

    def holding(self, index: int) -> Account:
        return self.accounts[("holding", index)]

    def balance(self, index: int) -> Balance:
        return Balance.objects.get(account=self.holding(index), asset=self.ccer)

    def run(self, op: tuple, model: Model) -> str:
        """Runs `op`; updates the model with what must have moved; returns a label for statistics."""
        name, index, *args = op
        holding_key = ("holding", index)
        if name == "issue":
            tonnes, (vintage, registered) = args
            issuance = ccer_issue(self.organizations[index], tonnes, self.maker, self.checker, registered=registered,
                                  vintage=vintage, identifier=f"P-{index}-{registered.year}-{vintage}")
            for serial in range(issuance.first_serial, issuance.last_serial + 1):
                model.holder[serial], model.vintage[serial], model.issuance[serial] = holding_key, vintage, issuance.pk
                if registered < dt.date(2017, 3, 14):
                    model.legacy.add(serial)
            return "issued"
        if name in ("transfer", "trade"):
            offset, quantity = args
            to_index = (index + offset) % len(COMPANIES)
            taken = model.held(holding_key)[:quantity]
            if name == "transfer":
                registry.transfer_create(source=self.holding(index), destination=self.holding(to_index), asset=self.ccer,
                                         amount=quantity, actor=self.maker)
            else:
                with transaction.atomic():
                    registry.balance_reserve(account=self.holding(index), asset=self.ccer, amount=quantity, actor=self.maker)
                    registry.ledger_post([
                        registry.Movement(kind=Transfer.Kind.TRADE_SETTLEMENT, asset=self.ccer, amount=quantity,
                                          source=self.holding(index), source_bucket=Bucket.RESERVED,
                                          destination=self.holding(to_index), destination_bucket=Bucket.PENDING, reference="trade:p"),
                        registry.Movement(kind=Transfer.Kind.TRADE_SETTLEMENT, asset=self.cny, amount=quantity * PRICE,
                                          source=self.accounts[("cash", to_index)], source_bucket=Bucket.AVAILABLE,
                                          destination=self.accounts[("cash", index)], destination_bucket=Bucket.AVAILABLE,
                                          reference="trade:p"),
                    ])
            model.move(taken, ("holding", to_index))
            return "moved"
        if name == "release_pending":
            pending = self.balance(index).pending
            if not pending:
                raise Refused
            registry.pending_release(account=self.holding(index), asset=self.ccer, amount=pending)
            return "released"
        if name in ("reserve", "release"):
            (quantity,) = args
            service = registry.balance_reserve if name == "reserve" else registry.balance_release
            service(account=self.holding(index), asset=self.ccer, amount=quantity, actor=self.maker)
            return "bucket"
        if name == "surrender":
            quantity, after_legacy_deadline = args
            deadline = dt.date(2025, 12, 31) if after_legacy_deadline else dt.date(2024, 12, 31)
            eligible = [s for s in model.held(holding_key) if not (after_legacy_deadline and s in model.legacy)]
            with transaction.atomic(), serial_plan(eligible=compliance_eligible(deadline)):
                registry.allowances_retire(account=self.holding(index), asset=self.ccer, amount=quantity, actor=self.maker)
            model.move(eligible[:quantity], ("retirement",))
            return "surrendered"
        if name == "cancel":
            (quantity,) = args
            taken = model.held(holding_key)[:quantity]
            self._cancel(index, quantity, None)
            model.move(taken, ("cancellation",))
            return "cancelled"
        if name == "cancel_chosen":
            fraction, longest = args
            held = sorted(model.held(holding_key))
            if not held:
                raise Refused
            start = held[int(fraction * len(held))]
            run = [start]
            while len(run) < longest and run[-1] + 1 in held and model.issuance[run[-1] + 1] == model.issuance[start]:
                run.append(run[-1] + 1)
            self._cancel(index, len(run), [[run[0], run[-1]]])
            model.move(run, ("cancellation",))
            return "cancelled chosen"
        raise AssertionError(name)

    def _cancel(self, index: int, quantity: int, blocks: list[list[int]] | None) -> None:
        self.requests += 1
        cancellation_create(user=self.officers[index], asset="CCER", quantity=quantity, purpose="property test", blocks=blocks,
                            client_request_id=f"p-{self.requests}")

    def observed(self) -> dict[tuple, set[int]]:
        by_key: dict[tuple, set[int]] = defaultdict(set)
        for account_id, first, last in SerialBlock.objects.values_list("account_id", "first_serial", "last_serial"):
            by_key[self.keys[account_id]].update(range(first, last + 1))
        return dict(by_key)

    def snapshot(self) -> tuple:
        return (tuple(SerialBlock.objects.order_by("first_serial").values_list("account_id", "first_serial", "last_serial")),
                tuple(Balance.objects.order_by("pk").values_list("pk", *Bucket.values)), Transfer.objects.count())


def _merged() -> bool:
    """No two blocks of one issuance in one account touch: a movement merged what it could."""
    blocks = sorted(SerialBlock.objects.values_list("account_id", "issuance_id", "first_serial", "last_serial"))
    return all(not (a[:2] == b[:2] and a[3] + 1 == b[2]) for a, b in zip(blocks, blocks[1:], strict=False))


@pytest.fixture
def participants(company_a, company_b, company_c, national_regulator, second_national_regulator, exchange_operator):
    organizations = [company_a, company_b, company_c]
    for organization in organizations:
        fund(organization, regulator=national_regulator, operator=exchange_operator, allowances=0)
    return organizations, (national_regulator, second_national_regulator), [officer_of(o) for o in organizations]


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(operation, min_size=1, max_size=15))
def test_serial_blocks_follow_every_movement_and_sum_to_the_balances(participants, exchange_operator, operations):
    organizations, regulators, officers = participants
    try:
        with transaction.atomic():
            world, model = World(organizations, regulators, officers, exchange_operator), Model()
            for op in OPENING:
                world.run(op, model)
            assert world.observed() == model.state()
            for step, op in enumerate(operations):
                before = world.snapshot()
                try:
                    with transaction.atomic():
                        label = world.run(op, model)
                except (DomainError, Refused) as refused:
                    event(f"{op[0]}: refused ({getattr(refused, 'code', 'not applicable')})")
                    assert world.snapshot() == before, f"step {step} {op}: a refusal changed something"
                else:
                    event(f"{op[0]}: {label}")
                assert world.observed() == model.state(), f"step {step} {op}: serials held differ from the model"
                assert _merged(), f"step {step} {op}: adjacent ranges of one issuance left unmerged"
                report = ledger_verify()
                assert report.ok, f"step {step} {op}: " + "; ".join(report.problems)
                for serial in list(model.holder)[step % 7 :: 97]:
                    trace = serial_trace(serial)
                    assert world.keys[trace.holder.account_id] == model.holder[serial]
                    assert trace.path[0].source_id is None and trace.path[0].issuance_id == model.issuance[serial]
                    assert trace.path[-1].destination_id == trace.holder.account_id
                    assert all(a.destination_id == b.source_id for a, b in zip(trace.path, trace.path[1:], strict=False))
            raise _Rollback
    except _Rollback:
        pass


class _Rollback(Exception):
    pass

