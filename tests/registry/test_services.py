"""The registry services: every success path books the right buckets and writes one audit event;
every refusal raises its DomainError and writes nothing (no transfer, no audit event, no balance)."""

from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Q

from core.errors import (
    AccountClosed,
    AccountFrozen,
    AccountNotEmpty,
    AlreadyExists,
    AssetNotAllowed,
    DomainError,
    IdempotencyConflict,
    InsufficientBalance,
    InvalidInput,
    NonPositiveAmount,
    PermissionDenied,
)
from registry.models import Account, Asset, Balance, Bucket, Transfer
from registry.selectors import ledger_verify
from registry.services import (
    Movement,
    account_close,
    account_freeze,
    account_unfreeze,
    accounts_open,
    allowances_cancel,
    allowances_issue,
    allowances_retire,
    asset_create,
    balance_release,
    balance_reserve,
    balances_lock,
    cash_deposit,
    cash_withdraw,
    holdings_freeze,
    holdings_unfreeze,
    ledger_post,
    pending_release,
    transfer_create,
)
from tests.factories import OrganizationFactory
from tests.registry.helpers import (
    allowances_give,
    buckets,
    cash_give,
    last_transfer_id,
    ledger_snapshot,
    one_audit_event,
    refused,
    transfers_since,
    zero,
)

BAD_AMOUNTS = [0, -1, -500, 1.5, 10.0, "10", Decimal("10"), None, True, False]


@pytest.fixture
def funded_a(holding_a, cea, national_regulator):
    """Company A holds 100 CEA21, all available."""
    allowances_give(account=holding_a, asset=cea, amount=100, regulator=national_regulator)
    return holding_a


# --- allowances_issue ---


# (CCER enter only through the offset registry, with serial numbers: tests/offsets.)
@pytest.mark.parametrize("code", ["CEA21", "CEA19-20"])
def test_it_issues_allowances_into_the_national_issuance_account(db, national_regulator, national_account, code):
    asset = Asset.objects.get(code=code)
    with one_audit_event("registry.issue", actor=national_regulator) as audit:
        transfer = allowances_issue(asset=asset, amount=500, actor=national_regulator, reference="plan:7", memo="2021 cap")

    assert buckets(national_account, asset) == zero(available=500)
    transfer.refresh_from_db()
    assert (transfer.kind, transfer.asset_id, transfer.amount) == (Transfer.Kind.ISSUANCE, asset.pk, 500)
    assert (transfer.source_id, transfer.source_bucket) == (None, "")
    assert (transfer.destination_id, transfer.destination_bucket) == (national_account.pk, Bucket.AVAILABLE)
    assert (transfer.actor_id, transfer.reference, transfer.memo) == (national_regulator.pk, "plan:7", "2021 cap")
    assert audit.event.object_type == "registry.transfer" and audit.event.object_id == str(transfer.pk)
    assert audit.event.after["amount"] == 500 and audit.event.after["asset"] == code
    assert ledger_verify().assets[code].entered == 500


def test_it_adds_each_issuance_to_the_national_balance(db, national_regulator, national_account, cea):
    allowances_issue(asset=cea, amount=500, actor=national_regulator)
    allowances_issue(asset=cea, amount=250, actor=national_regulator)
    assert buckets(national_account, cea) == zero(available=750)


def test_it_refuses_issuance_by_a_trader(db, trader_a, cea):
    with refused(PermissionDenied, code="permission_denied"):
        allowances_issue(asset=cea, amount=500, actor=trader_a)


def test_it_refuses_issuance_without_a_user(db, cea):
    with refused(PermissionDenied):
        allowances_issue(asset=cea, amount=500, actor=None)


def test_it_refuses_issuance_by_a_deactivated_regulator(db, national_regulator, cea):
    national_regulator.is_active = False
    national_regulator.save(update_fields=["is_active"])
    with refused(PermissionDenied):
        allowances_issue(asset=cea, amount=500, actor=national_regulator)


def test_it_refuses_issuance_by_the_exchange_operator(db, exchange_operator, cea):
    with refused(PermissionDenied):
        allowances_issue(asset=cea, amount=500, actor=exchange_operator)


def test_it_refuses_to_issue_cash(db, national_regulator, cny):
    with refused(AssetNotAllowed, code="asset_not_allowed", field="asset"):
        allowances_issue(asset=cny, amount=500, actor=national_regulator)


@pytest.mark.parametrize("amount", BAD_AMOUNTS, ids=repr)
def test_it_refuses_to_issue_an_amount_that_is_not_a_positive_whole_number(db, national_regulator, cea, amount):
    with refused(NonPositiveAmount, code="non_positive_amount", field="amount"):
        allowances_issue(asset=cea, amount=amount, actor=national_regulator)


def test_it_refuses_an_amount_beyond_the_ledger_range_with_a_domain_error(db, national_regulator, cea):
    with refused(DomainError, field="amount"):
        allowances_issue(asset=cea, amount=2**63, actor=national_regulator)


# --- transfer_create ---


def test_it_moves_available_units_between_holding_accounts(db, funded_a, holding_b, cea, trader_a):
    with one_audit_event("registry.transfer", actor=trader_a) as audit:
        transfer = transfer_create(source=funded_a, destination=holding_b, asset=cea, amount=40, actor=trader_a, reference="deal:1")

    assert buckets(funded_a, cea) == zero(available=60)
    assert buckets(holding_b, cea) == zero(available=40)
    transfer.refresh_from_db()
    assert (transfer.kind, transfer.amount, transfer.reference, transfer.actor_id) == (Transfer.Kind.TRANSFER, 40, "deal:1", trader_a.pk)
    assert (transfer.source_id, transfer.source_bucket) == (funded_a.pk, Bucket.AVAILABLE)
    assert (transfer.destination_id, transfer.destination_bucket) == (holding_b.pk, Bucket.AVAILABLE)
    assert audit.event.after["source"] == funded_a.number and audit.event.after["destination"] == holding_b.number


def test_it_allocates_from_the_national_account_under_the_allocation_action(db, national_regulator, national_account, holding_a, cea):
    allowances_issue(asset=cea, amount=300, actor=national_regulator)
    with one_audit_event("registry.allocation", actor=national_regulator):
        transfer = transfer_create(
            source=national_account, destination=holding_a, asset=cea, amount=120, actor=national_regulator,
            kind=Transfer.Kind.ALLOCATION,
        )
    assert transfer.kind == Transfer.Kind.ALLOCATION
    assert buckets(national_account, cea) == zero(available=180)
    assert buckets(holding_a, cea) == zero(available=120)


def test_it_moves_the_whole_available_balance(db, funded_a, holding_b, cea, trader_a):
    transfer_create(source=funded_a, destination=holding_b, asset=cea, amount=100, actor=trader_a)
    assert buckets(funded_a, cea) == zero()
    assert buckets(holding_b, cea) == zero(available=100)


def test_it_records_a_transfer_by_the_system_without_an_actor(db, funded_a, holding_b, cea):
    with one_audit_event("registry.transfer", actor=None):
        transfer = transfer_create(source=funded_a, destination=holding_b, asset=cea, amount=1, actor=None)
    assert transfer.actor_id is None


def test_it_refuses_transfer_beyond_the_available_balance(db, funded_a, holding_b, cea, trader_a):
    with refused(InsufficientBalance, code="insufficient_balance", field="amount") as caught:
        transfer_create(source=funded_a, destination=holding_b, asset=cea, amount=101, actor=trader_a)
    assert funded_a.number in caught.value.message


def test_it_refuses_transfer_of_reserved_units(db, funded_a, holding_b, cea, trader_a):
    balance_reserve(account=funded_a, asset=cea, amount=80, actor=trader_a)
    with refused(InsufficientBalance):
        transfer_create(source=funded_a, destination=holding_b, asset=cea, amount=21, actor=trader_a)


def test_it_refuses_transfer_of_an_asset_the_account_never_received(db, funded_a, holding_b, ccer, trader_a):
    with refused(InsufficientBalance):
        transfer_create(source=funded_a, destination=holding_b, asset=ccer, amount=1, actor=trader_a)


def test_it_refuses_transfer_to_the_same_account(db, funded_a, cea, trader_a):
    with refused(InvalidInput, code="invalid", field="destination"):
        transfer_create(source=funded_a, destination=Account.objects.get(pk=funded_a.pk), asset=cea, amount=1, actor=trader_a)


def test_it_refuses_cash_into_a_holding_account(db, cash_a, holding_b, cny, exchange_operator, trader_a):
    cash_give(account=cash_a, amount=10_000, operator=exchange_operator)
    with refused(AssetNotAllowed, code="asset_not_allowed", field="asset"):
        transfer_create(source=cash_a, destination=holding_b, asset=cny, amount=100, actor=trader_a)


def test_it_refuses_allowances_into_a_cash_account(db, funded_a, cash_b, cea, trader_a):
    with refused(AssetNotAllowed, field="asset"):
        transfer_create(source=funded_a, destination=cash_b, asset=cea, amount=1, actor=trader_a)


def test_it_refuses_transfer_into_a_closed_account(db, funded_a, holding_b, cea, trader_a, national_regulator):
    account_close(account=holding_b, reason="merged into its parent", actor=national_regulator)
    with refused(AccountClosed, code="account_closed", field="account"):
        transfer_create(source=funded_a, destination=holding_b, asset=cea, amount=1, actor=trader_a)


def test_it_refuses_transfer_out_of_a_closed_account(db, holding_a, holding_b, cea, trader_a, national_regulator):
    account_close(account=holding_a, reason="deregistered", actor=national_regulator)
    with refused(AccountClosed):
        transfer_create(source=holding_a, destination=holding_b, asset=cea, amount=1, actor=trader_a)


@pytest.mark.parametrize("amount", BAD_AMOUNTS, ids=repr)
def test_it_refuses_to_transfer_an_amount_that_is_not_a_positive_whole_number(db, funded_a, holding_b, cea, trader_a, amount):
    with refused(NonPositiveAmount, field="amount"):
        transfer_create(source=funded_a, destination=holding_b, asset=cea, amount=amount, actor=trader_a)


# --- balance_reserve / balance_release ---


def test_it_reserves_available_units(db, funded_a, cea, trader_a):
    with one_audit_event("registry.reserve", actor=trader_a):
        transfer = balance_reserve(account=funded_a, asset=cea, amount=30, actor=trader_a, reference="order:5")
    assert buckets(funded_a, cea) == zero(available=70, reserved=30)
    assert (transfer.kind, transfer.reference) == (Transfer.Kind.RESERVE, "order:5")
    assert (transfer.source_id, transfer.source_bucket) == (funded_a.pk, Bucket.AVAILABLE)
    assert (transfer.destination_id, transfer.destination_bucket) == (funded_a.pk, Bucket.RESERVED)


def test_it_releases_reserved_units(db, funded_a, cea, trader_a):
    balance_reserve(account=funded_a, asset=cea, amount=30, actor=trader_a)
    with one_audit_event("registry.release", actor=trader_a):
        transfer = balance_release(account=funded_a, asset=cea, amount=10, actor=trader_a, reference="order:5")
    assert buckets(funded_a, cea) == zero(available=80, reserved=20)
    assert (transfer.source_bucket, transfer.destination_bucket) == (Bucket.RESERVED, Bucket.AVAILABLE)


def test_it_reserves_and_releases_cash(db, cash_a, cny, exchange_operator, trader_a):
    cash_give(account=cash_a, amount=500_000, operator=exchange_operator)
    balance_reserve(account=cash_a, asset=cny, amount=123_45, actor=trader_a)
    assert buckets(cash_a, cny) == zero(available=487_655, reserved=123_45)
    balance_release(account=cash_a, asset=cny, amount=123_45, actor=trader_a)
    assert buckets(cash_a, cny) == zero(available=500_000)


def test_it_refuses_to_reserve_more_than_is_available(db, funded_a, cea, trader_a):
    with refused(InsufficientBalance, field="amount"):
        balance_reserve(account=funded_a, asset=cea, amount=101, actor=trader_a)


def test_it_refuses_to_release_more_than_is_reserved(db, funded_a, cea, trader_a):
    balance_reserve(account=funded_a, asset=cea, amount=30, actor=trader_a)
    with refused(InsufficientBalance, field="amount"):
        balance_release(account=funded_a, asset=cea, amount=31, actor=trader_a)


@pytest.mark.parametrize("amount", [0, -3, 2.0, True], ids=repr)
def test_it_refuses_to_reserve_or_release_a_bad_amount(db, funded_a, cea, trader_a, amount):
    with refused(NonPositiveAmount, field="amount"):
        balance_reserve(account=funded_a, asset=cea, amount=amount, actor=trader_a)
    with refused(NonPositiveAmount, field="amount"):
        balance_release(account=funded_a, asset=cea, amount=amount, actor=trader_a)


# --- pending_release ---


@pytest.fixture
def pending_a(holding_a, holding_b, cea, national_regulator, trader_b):
    """Company A bought 40 CEA21 from company B today: settlement moved them from B's reserved bucket to
    A's pending bucket (RULEBOOK: Settlement)."""
    allowances_give(account=holding_b, asset=cea, amount=100, regulator=national_regulator)
    balance_reserve(account=holding_b, asset=cea, amount=40, actor=trader_b)
    ledger_post(
        [
            Movement(
                kind=Transfer.Kind.TRADE_SETTLEMENT, asset=cea, amount=40, source=holding_b, source_bucket=Bucket.RESERVED,
                destination=holding_a, destination_bucket=Bucket.PENDING, reference="trade:1",
            )
        ],
        actor=None,
    )
    assert buckets(holding_a, cea) == zero(pending=40)
    return holding_a


def test_it_releases_pending_units_to_available(db, pending_a, cea):
    with one_audit_event("registry.pending_release", actor=None):
        transfer = pending_release(account=pending_a, asset=cea, amount=25, reference="eod:2021-07-16")
    assert buckets(pending_a, cea) == zero(available=25, pending=15)
    assert (transfer.kind, transfer.source_bucket, transfer.destination_bucket) == (
        Transfer.Kind.PENDING_RELEASE, Bucket.PENDING, Bucket.AVAILABLE,
    )


def test_it_refuses_to_release_more_than_is_pending(db, pending_a, cea):
    with refused(InsufficientBalance, field="amount"):
        pending_release(account=pending_a, asset=cea, amount=41)


def test_it_refuses_to_sell_pending_units(db, pending_a, holding_c, cea, trader_a):
    with refused(InsufficientBalance):
        transfer_create(source=pending_a, destination=holding_c, asset=cea, amount=1, actor=trader_a)


# --- holdings_freeze / holdings_unfreeze ---


def test_it_freezes_part_of_a_holding(db, funded_a, cea, national_regulator):
    with one_audit_event("registry.freeze", actor=national_regulator) as audit:
        transfer = holdings_freeze(account=funded_a, asset=cea, amount=40, reason="  court order 2021-17  ", actor=national_regulator)
    assert buckets(funded_a, cea) == zero(available=60, frozen=40)
    assert (transfer.kind, transfer.memo) == (Transfer.Kind.FREEZE, "court order 2021-17")
    assert (transfer.source_bucket, transfer.destination_bucket) == (Bucket.AVAILABLE, Bucket.FROZEN)
    assert audit.event.object_id == str(transfer.pk)


def test_frozen_units_cannot_be_transferred(db, funded_a, holding_b, cea, national_regulator, trader_a):
    holdings_freeze(account=funded_a, asset=cea, amount=40, reason="court order", actor=national_regulator)
    with refused(InsufficientBalance):
        transfer_create(source=funded_a, destination=holding_b, asset=cea, amount=61, actor=trader_a)
    transfer_create(source=funded_a, destination=holding_b, asset=cea, amount=60, actor=trader_a)
    assert buckets(funded_a, cea) == zero(frozen=40)


def test_it_unfreezes_part_of_a_frozen_holding(db, funded_a, cea, national_regulator):
    holdings_freeze(account=funded_a, asset=cea, amount=40, reason="court order", actor=national_regulator)
    with one_audit_event("registry.unfreeze", actor=national_regulator):
        transfer = holdings_unfreeze(account=funded_a, asset=cea, amount=15, reason="order partly lifted", actor=national_regulator)
    assert buckets(funded_a, cea) == zero(available=75, frozen=25)
    assert (transfer.kind, transfer.memo) == (Transfer.Kind.UNFREEZE, "order partly lifted")


def test_it_refuses_to_freeze_more_than_is_available(db, funded_a, cea, national_regulator):
    with refused(InsufficientBalance, field="amount"):
        holdings_freeze(account=funded_a, asset=cea, amount=101, reason="court order", actor=national_regulator)


def test_it_refuses_to_unfreeze_more_than_is_frozen(db, funded_a, cea, national_regulator):
    holdings_freeze(account=funded_a, asset=cea, amount=40, reason="court order", actor=national_regulator)
    with refused(InsufficientBalance, field="amount"):
        holdings_unfreeze(account=funded_a, asset=cea, amount=41, reason="lifted", actor=national_regulator)


@pytest.mark.parametrize("service", [holdings_freeze, holdings_unfreeze])
@pytest.mark.parametrize("reason", ["", "   ", None])
def test_it_refuses_to_freeze_or_unfreeze_holdings_without_a_reason(db, funded_a, cea, national_regulator, service, reason):
    with refused(InvalidInput, field="reason"):
        service(account=funded_a, asset=cea, amount=1, reason=reason, actor=national_regulator)


@pytest.mark.parametrize("service", [holdings_freeze, holdings_unfreeze])
@pytest.mark.parametrize("who", ["trader_a", "exchange_operator", "auditor"])
def test_it_refuses_to_freeze_or_unfreeze_holdings_without_the_permission(request, funded_a, cea, service, who):
    actor = request.getfixturevalue(who)
    with refused(PermissionDenied, code="permission_denied"):
        service(account=funded_a, asset=cea, amount=1, reason="court order", actor=actor)


def test_a_provincial_regulator_freezes_holdings_in_its_province(db, funded_a, cea, shandong_regulator):
    assert funded_a.organization.province == "37"
    with one_audit_event("registry.freeze", actor=shandong_regulator):
        holdings_freeze(account=funded_a, asset=cea, amount=10, reason="provincial inquiry", actor=shandong_regulator)
    with one_audit_event("registry.unfreeze", actor=shandong_regulator):
        holdings_unfreeze(account=funded_a, asset=cea, amount=4, reason="inquiry narrowed", actor=shandong_regulator)
    assert buckets(funded_a, cea) == zero(available=94, frozen=6)


@pytest.mark.parametrize("service", [holdings_freeze, holdings_unfreeze])
def test_a_provincial_regulator_may_not_touch_holdings_in_another_province(
    db, holding_b, cea, national_regulator, shandong_regulator, service
):
    allowances_give(account=holding_b, asset=cea, amount=100, regulator=national_regulator)
    holdings_freeze(account=holding_b, asset=cea, amount=50, reason="court order", actor=national_regulator)
    assert holding_b.organization.province == "32"
    with refused(PermissionDenied, code="permission_denied"):
        service(account=holding_b, asset=cea, amount=1, reason="provincial inquiry", actor=shandong_regulator)


@pytest.mark.parametrize("kind", [Account.Kind.NATIONAL_ISSUANCE, Account.Kind.RETIREMENT])
def test_a_provincial_regulator_may_not_touch_system_accounts(db, national_regulator, shandong_regulator, cea, kind):
    allowances_issue(asset=cea, amount=100, actor=national_regulator)
    account = Account.objects.get(kind=kind)
    with refused(PermissionDenied):
        holdings_freeze(account=account, asset=cea, amount=1, reason="inquiry", actor=shandong_regulator)


def test_a_provincial_regulator_may_not_touch_its_own_provincial_account(db, shandong_regulator, cea):
    with refused(PermissionDenied):
        holdings_freeze(
            account=Account.objects.get(kind=Account.Kind.PROVINCIAL, province="37"), asset=cea, amount=1,
            reason="inquiry", actor=shandong_regulator,
        )


def test_the_national_regulator_freezes_units_in_a_system_account(db, national_regulator, national_account, cea):
    allowances_issue(asset=cea, amount=100, actor=national_regulator)
    holdings_freeze(account=national_account, asset=cea, amount=30, reason="issuance under review", actor=national_regulator)
    assert buckets(national_account, cea) == zero(available=70, frozen=30)


# --- account_freeze / account_unfreeze ---


def test_it_freezes_an_account(db, funded_a, national_regulator):
    with one_audit_event("account.freeze", actor=national_regulator) as audit:
        returned = account_freeze(account=funded_a, reason=" court order 2021-17 ", actor=national_regulator)
    stored = Account.objects.get(pk=funded_a.pk)
    assert (stored.status, stored.status_reason) == (Account.Status.FROZEN, "court order 2021-17")
    assert returned is funded_a and funded_a.status == Account.Status.FROZEN
    assert audit.event.object_type == "registry.account" and audit.event.object_id == str(funded_a.pk)
    assert audit.event.before == {"status": "open", "status_reason": ""}
    assert audit.event.after == {"status": "frozen", "status_reason": "court order 2021-17"}


def test_it_unfreezes_an_account(db, funded_a, holding_b, cea, national_regulator, trader_a):
    account_freeze(account=funded_a, reason="court order", actor=national_regulator)
    with one_audit_event("account.unfreeze", actor=national_regulator) as audit:
        account_unfreeze(account=funded_a, reason="order lifted", actor=national_regulator)
    stored = Account.objects.get(pk=funded_a.pk)
    assert (stored.status, stored.status_reason) == (Account.Status.OPEN, "order lifted")
    assert audit.event.before["status"] == "frozen" and audit.event.after["status"] == "open"
    transfer_create(source=funded_a, destination=holding_b, asset=cea, amount=10, actor=trader_a)
    assert buckets(funded_a, cea) == zero(available=90)


@pytest.fixture
def frozen_a(funded_a, cea, trader_a, national_regulator):
    """Company A holds 100 CEA21, 30 of them reserved by an open order, and its account is frozen."""
    balance_reserve(account=funded_a, asset=cea, amount=30, actor=trader_a)
    account_freeze(account=funded_a, reason="court order 2021-17", actor=national_regulator)
    return funded_a


def test_a_frozen_account_refuses_outgoing_transfers(db, frozen_a, holding_b, cea, trader_a):
    with refused(AccountFrozen, code="account_frozen", field="account") as caught:
        transfer_create(source=frozen_a, destination=holding_b, asset=cea, amount=1, actor=trader_a)
    assert "court order 2021-17" in caught.value.message


def test_a_frozen_account_refuses_reservations(db, frozen_a, cea, trader_a):
    with refused(AccountFrozen, code="account_frozen"):
        balance_reserve(account=frozen_a, asset=cea, amount=1, actor=trader_a)


def test_a_frozen_account_refuses_surrender_and_cancellation(db, frozen_a, cea, trader_a):
    with refused(AccountFrozen, code="account_frozen"):
        allowances_retire(account=frozen_a, asset=cea, amount=1, actor=trader_a)
    with refused(AccountFrozen, code="account_frozen"):
        allowances_cancel(account=frozen_a, asset=cea, amount=1, actor=trader_a)


def test_a_frozen_cash_account_refuses_withdrawals_but_takes_deposits(db, cash_a, cny, exchange_operator, national_regulator):
    cash_give(account=cash_a, amount=10_000, operator=exchange_operator)
    account_freeze(account=cash_a, reason="court order", actor=national_regulator)
    with refused(AccountFrozen, code="account_frozen"):
        cash_withdraw(account=cash_a, amount=1, bank_reference="W-1", actor=exchange_operator)
    cash_deposit(account=cash_a, amount=5_000, bank_reference="D-1", actor=exchange_operator)
    assert buckets(cash_a, cny) == zero(available=15_000)


def test_a_frozen_account_still_receives_transfers(db, frozen_a, holding_b, cea, national_regulator, trader_b):
    allowances_give(account=holding_b, asset=cea, amount=50, regulator=national_regulator)
    transfer_create(source=holding_b, destination=frozen_a, asset=cea, amount=20, actor=trader_b)
    assert buckets(frozen_a, cea) == zero(available=90, reserved=30)


def test_a_frozen_account_still_releases_its_reserved_units(db, frozen_a, cea, trader_a):
    balance_release(account=frozen_a, asset=cea, amount=30, actor=trader_a)
    assert buckets(frozen_a, cea) == zero(available=100)


def test_holdings_of_a_frozen_account_can_still_be_frozen(db, frozen_a, cea, national_regulator):
    holdings_freeze(account=frozen_a, asset=cea, amount=70, reason="seizure", actor=national_regulator)
    assert buckets(frozen_a, cea) == zero(reserved=30, frozen=70)


def test_it_refuses_to_freeze_an_account_twice(db, frozen_a, national_regulator):
    with refused(InvalidInput, field="account"):
        account_freeze(account=frozen_a, reason="second order", actor=national_regulator)


def test_it_refuses_to_unfreeze_an_open_account(db, funded_a, national_regulator):
    with refused(InvalidInput, field="account"):
        account_unfreeze(account=funded_a, reason="nothing to lift", actor=national_regulator)


def test_it_refuses_to_freeze_a_closed_account(db, holding_a, national_regulator):
    account_close(account=holding_a, reason="deregistered", actor=national_regulator)
    with refused(InvalidInput, field="account"):
        account_freeze(account=holding_a, reason="court order", actor=national_regulator)


@pytest.mark.parametrize("reason", ["", "  ", None])
def test_it_refuses_to_freeze_or_unfreeze_an_account_without_a_reason(db, funded_a, national_regulator, reason):
    with refused(InvalidInput, field="reason"):
        account_freeze(account=funded_a, reason=reason, actor=national_regulator)
    account_freeze(account=funded_a, reason="court order", actor=national_regulator)
    with refused(InvalidInput, field="reason"):
        account_unfreeze(account=funded_a, reason=reason, actor=national_regulator)


@pytest.mark.parametrize("who", ["trader_a", "exchange_operator", "auditor"])
def test_it_refuses_to_freeze_an_account_without_the_permission(request, funded_a, who):
    with refused(PermissionDenied):
        account_freeze(account=funded_a, reason="court order", actor=request.getfixturevalue(who))


def test_it_refuses_to_unfreeze_an_account_without_the_permission(db, frozen_a, trader_a):
    with refused(PermissionDenied):
        account_unfreeze(account=frozen_a, reason="please", actor=trader_a)


def test_a_provincial_regulator_freezes_an_account_in_its_province_only(db, holding_a, holding_b, shandong_regulator):
    with one_audit_event("account.freeze", actor=shandong_regulator):
        account_freeze(account=holding_a, reason="provincial inquiry", actor=shandong_regulator)
    with refused(PermissionDenied):
        account_freeze(account=holding_b, reason="provincial inquiry", actor=shandong_regulator)
    with refused(PermissionDenied):
        account_freeze(account=Account.objects.get(kind=Account.Kind.CANCELLATION), reason="inquiry", actor=shandong_regulator)


def test_it_refuses_transfer_from_an_account_frozen_after_it_was_loaded(db, funded_a, holding_b, cea, trader_a, national_regulator):
    """The status is read with the locked balance, not from the caller's (possibly stale) instance."""
    loaded_by_the_request = Account.objects.get(pk=funded_a.pk)
    account_freeze(account=funded_a, reason="court order", actor=national_regulator)
    with refused(AccountFrozen):
        transfer_create(source=loaded_by_the_request, destination=holding_b, asset=cea, amount=100, actor=trader_a)


def test_it_refuses_to_move_units_out_of_a_frozen_account_under_the_freeze_kind(db, frozen_a, holding_b, cea, trader_a):
    with refused(DomainError):
        transfer_create(source=frozen_a, destination=holding_b, asset=cea, amount=70, actor=trader_a, kind=Transfer.Kind.FREEZE)


# --- account_close ---


def test_it_closes_an_empty_account(db, holding_a, national_regulator):
    with one_audit_event("account.close", actor=national_regulator) as audit:
        account_close(account=holding_a, reason="deregistered", actor=national_regulator)
    stored = Account.objects.get(pk=holding_a.pk)
    assert (stored.status, stored.status_reason) == (Account.Status.CLOSED, "deregistered")
    assert audit.event.before["status"] == "open" and audit.event.after["status"] == "closed"


def test_it_closes_an_account_once_everything_has_left_it(db, funded_a, holding_b, cea, trader_a, national_regulator):
    transfer_create(source=funded_a, destination=holding_b, asset=cea, amount=100, actor=trader_a)
    account_close(account=funded_a, reason="merged", actor=national_regulator)
    assert Account.objects.get(pk=funded_a.pk).status == Account.Status.CLOSED


def _hold_available(account, cea, trader, regulator):
    """Leaves the 100 units available."""


def _hold_reserved(account, cea, trader, regulator):
    balance_reserve(account=account, asset=cea, amount=1, actor=trader)
    allowances_retire(account=account, asset=cea, amount=99, actor=trader)


def _hold_frozen(account, cea, trader, regulator):
    holdings_freeze(account=account, asset=cea, amount=1, reason="court order", actor=regulator)
    allowances_retire(account=account, asset=cea, amount=99, actor=trader)


def _hold_pending(account, cea, trader, regulator):
    allowances_retire(account=account, asset=cea, amount=100, actor=trader)
    other = OrganizationFactory(province="37").registry_accounts.get(kind=Account.Kind.HOLDING)
    allowances_give(account=other, asset=cea, amount=1, regulator=regulator)
    ledger_post(
        [Movement(kind=Transfer.Kind.TRADE_SETTLEMENT, asset=cea, amount=1, source=other, source_bucket=Bucket.AVAILABLE,
                  destination=account, destination_bucket=Bucket.PENDING)]
    )


@pytest.mark.parametrize(
    ("bucket", "arrange"),
    [("available", _hold_available), ("reserved", _hold_reserved), ("frozen", _hold_frozen), ("pending", _hold_pending)],
)
def test_it_refuses_to_close_an_account_that_holds_anything(db, funded_a, cea, trader_a, national_regulator, bucket, arrange):
    arrange(funded_a, cea, trader_a, national_regulator)
    assert buckets(funded_a, cea)[bucket] > 0 and sum(buckets(funded_a, cea).values()) == (100 if bucket == "available" else 1)
    with refused(AccountNotEmpty, code="account_not_empty", field="account"):
        account_close(account=funded_a, reason="deregistered", actor=national_regulator)


def test_it_refuses_to_close_a_cash_account_holding_one_fen(db, cash_a, exchange_operator, national_regulator):
    cash_give(account=cash_a, amount=1, operator=exchange_operator)
    with refused(AccountNotEmpty):
        account_close(account=cash_a, reason="deregistered", actor=national_regulator)


def test_it_refuses_to_close_an_account_without_permission_scope_or_reason(db, holding_a, holding_b, trader_a, shandong_regulator, national_regulator):
    with refused(PermissionDenied):
        account_close(account=holding_a, reason="deregistered", actor=trader_a)
    with refused(PermissionDenied):
        account_close(account=holding_b, reason="deregistered", actor=shandong_regulator)
    with refused(InvalidInput, field="reason"):
        account_close(account=holding_a, reason=" ", actor=national_regulator)


def test_a_closed_account_takes_no_deposit(db, cash_a, exchange_operator, national_regulator):
    account_close(account=cash_a, reason="deregistered", actor=national_regulator)
    with refused(AccountClosed, code="account_closed"):
        cash_deposit(account=cash_a, amount=100, bank_reference="D-1", actor=exchange_operator)


def test_closing_an_account_adds_no_balance_rows_for_assets_it_cannot_hold(db, holding_a, cash_a, cny, cea, national_regulator):
    account_close(account=holding_a, reason="deregistered", actor=national_regulator)
    account_close(account=cash_a, reason="deregistered", actor=national_regulator)
    assert not Balance.objects.filter(account=holding_a, asset=cny).exists()
    assert not Balance.objects.filter(account=cash_a, asset=cea).exists()


def test_it_refuses_transfer_into_an_account_closed_after_it_was_loaded(db, funded_a, holding_b, cea, trader_a, national_regulator):
    loaded_by_the_request = Account.objects.get(pk=holding_b.pk)
    account_close(account=holding_b, reason="merged", actor=national_regulator)
    with refused(AccountClosed):
        transfer_create(source=funded_a, destination=loaded_by_the_request, asset=cea, amount=10, actor=trader_a)


def test_it_refuses_to_freeze_an_account_closed_after_it_was_loaded(db, holding_a, national_regulator):
    loaded_by_the_request = Account.objects.get(pk=holding_a.pk)
    account_close(account=holding_a, reason="deregistered", actor=national_regulator)
    with refused(InvalidInput, field="account"):
        account_freeze(account=loaded_by_the_request, reason="court order", actor=national_regulator)


# --- cash_deposit / cash_withdraw ---


def test_it_deposits_cash_into_a_trading_funds_account(db, cash_a, cny, exchange_operator):
    with one_audit_event("cash.deposit", actor=exchange_operator) as audit:
        transfer = cash_deposit(account=cash_a, amount=1_000_00, bank_reference="  ICBC-2021-0001 ", actor=exchange_operator)
    assert buckets(cash_a, cny) == zero(available=1_000_00)
    transfer.refresh_from_db()
    assert (transfer.kind, transfer.asset_id, transfer.amount) == (Transfer.Kind.DEPOSIT, cny.pk, 1_000_00)
    assert (transfer.source_id, transfer.destination_id, transfer.external_reference) == (None, cash_a.pk, "ICBC-2021-0001")
    assert audit.event.after["destination"] == cash_a.number
    assert ledger_verify().assets["CNY"].entered == 1_000_00


def test_a_repeated_deposit_returns_the_first_booking(db, cash_a, cny, exchange_operator):
    first = cash_deposit(account=cash_a, amount=500_00, bank_reference="ICBC-1", actor=exchange_operator)
    before = ledger_snapshot()
    again = cash_deposit(account=Account.objects.get(pk=cash_a.pk), amount=500_00, bank_reference=" ICBC-1", actor=exchange_operator)
    assert again.pk == first.pk
    assert ledger_snapshot() == before  # no second transfer, no second audit event
    assert buckets(cash_a, cny) == zero(available=500_00)


def test_it_refuses_a_bank_reference_reused_with_another_amount(db, cash_a, exchange_operator):
    cash_deposit(account=cash_a, amount=500_00, bank_reference="ICBC-1", actor=exchange_operator)
    with refused(IdempotencyConflict, code="idempotency_conflict", field="bank_reference"):
        cash_deposit(account=cash_a, amount=500_01, bank_reference="ICBC-1", actor=exchange_operator)


def test_it_refuses_a_bank_reference_reused_for_another_account(db, cash_a, cash_b, exchange_operator):
    cash_deposit(account=cash_a, amount=500_00, bank_reference="ICBC-1", actor=exchange_operator)
    with refused(IdempotencyConflict, field="bank_reference"):
        cash_deposit(account=cash_b, amount=500_00, bank_reference="ICBC-1", actor=exchange_operator)


@pytest.mark.parametrize("service", [cash_deposit, cash_withdraw])
@pytest.mark.parametrize("who", ["trader_a", "national_regulator", "auditor"])
def test_it_refuses_cash_movements_without_the_permission(request, cash_a, exchange_operator, service, who):
    cash_give(account=cash_a, amount=10_000, operator=exchange_operator)
    with refused(PermissionDenied, code="permission_denied"):
        service(account=cash_a, amount=100, bank_reference="B-1", actor=request.getfixturevalue(who))


@pytest.mark.parametrize("service", [cash_deposit, cash_withdraw])
@pytest.mark.parametrize("kind", [Account.Kind.HOLDING, Account.Kind.EXCHANGE_FEES, Account.Kind.NATIONAL_ISSUANCE])
def test_it_moves_cash_only_through_a_trading_funds_account(db, company_a, exchange_operator, service, kind):
    account = Account.objects.filter(kind=kind).get(Q(organization=company_a) | Q(organization__isnull=True))
    with refused(AssetNotAllowed, code="asset_not_allowed", field="account"):
        service(account=account, amount=100, bank_reference="B-1", actor=exchange_operator)


@pytest.mark.parametrize("service", [cash_deposit, cash_withdraw])
@pytest.mark.parametrize("bank_reference", ["", "   ", None])
def test_it_refuses_cash_movements_without_a_bank_reference(db, cash_a, exchange_operator, service, bank_reference):
    cash_give(account=cash_a, amount=10_000, operator=exchange_operator)
    with refused(InvalidInput, field="bank_reference"):
        service(account=cash_a, amount=100, bank_reference=bank_reference, actor=exchange_operator)


@pytest.mark.parametrize("service", [cash_deposit, cash_withdraw])
@pytest.mark.parametrize("amount", BAD_AMOUNTS, ids=repr)
def test_it_refuses_a_cash_amount_that_is_not_a_positive_number_of_fen(db, cash_a, exchange_operator, service, amount):
    cash_give(account=cash_a, amount=10_000, operator=exchange_operator)
    with refused(NonPositiveAmount, field="amount"):
        service(account=cash_a, amount=amount, bank_reference="B-1", actor=exchange_operator)


def test_it_refuses_a_bank_reference_longer_than_the_ledger_keeps_with_a_domain_error(db, cash_a, exchange_operator):
    with refused(DomainError, field="bank_reference"):
        cash_deposit(account=cash_a, amount=100, bank_reference="ICBC-" + "9" * 60, actor=exchange_operator)


def test_it_withdraws_available_cash(db, cash_a, cny, exchange_operator):
    cash_give(account=cash_a, amount=1_000_00, operator=exchange_operator)
    with one_audit_event("cash.withdraw", actor=exchange_operator):
        transfer = cash_withdraw(account=cash_a, amount=300_00, bank_reference="ICBC-OUT-1", actor=exchange_operator)
    assert buckets(cash_a, cny) == zero(available=700_00)
    assert (transfer.kind, transfer.source_id, transfer.source_bucket) == (Transfer.Kind.WITHDRAWAL, cash_a.pk, Bucket.AVAILABLE)
    assert (transfer.destination_id, transfer.destination_bucket, transfer.external_reference) == (None, "", "ICBC-OUT-1")
    totals = ledger_verify().assets["CNY"]
    assert (totals.entered, totals.left, totals.held) == (1_000_00, 300_00, 700_00)


def test_a_repeated_withdrawal_returns_the_first_booking(db, cash_a, cny, exchange_operator):
    cash_give(account=cash_a, amount=1_000_00, operator=exchange_operator)
    first = cash_withdraw(account=cash_a, amount=300_00, bank_reference="ICBC-OUT-1", actor=exchange_operator)
    before = ledger_snapshot()
    assert cash_withdraw(account=cash_a, amount=300_00, bank_reference="ICBC-OUT-1", actor=exchange_operator).pk == first.pk
    assert ledger_snapshot() == before
    assert buckets(cash_a, cny) == zero(available=700_00)


def test_it_refuses_a_withdrawal_reference_reused_with_another_amount(db, cash_a, exchange_operator):
    cash_give(account=cash_a, amount=1_000_00, operator=exchange_operator)
    cash_withdraw(account=cash_a, amount=300_00, bank_reference="ICBC-OUT-1", actor=exchange_operator)
    with refused(IdempotencyConflict, field="bank_reference"):
        cash_withdraw(account=cash_a, amount=200_00, bank_reference="ICBC-OUT-1", actor=exchange_operator)


def test_it_refuses_to_withdraw_more_than_is_available(db, cash_a, exchange_operator, trader_a):
    cash_give(account=cash_a, amount=1_000_00, operator=exchange_operator)
    balance_reserve(account=cash_a, asset=Asset.objects.get(code="CNY"), amount=1, actor=trader_a)
    with refused(InsufficientBalance, field="amount"):
        cash_withdraw(account=cash_a, amount=1_000_00, bank_reference="ICBC-OUT-1", actor=exchange_operator)


def test_a_refused_withdrawal_leaves_its_bank_reference_free(db, cash_a, cny, exchange_operator):
    with refused(InsufficientBalance):
        cash_withdraw(account=cash_a, amount=100, bank_reference="ICBC-OUT-1", actor=exchange_operator)
    cash_give(account=cash_a, amount=100, operator=exchange_operator)
    cash_withdraw(account=cash_a, amount=100, bank_reference="ICBC-OUT-1", actor=exchange_operator)
    assert buckets(cash_a, cny) == zero()


# --- allowances_retire / allowances_cancel ---


def test_it_retires_allowances_into_the_retirement_account(db, funded_a, retirement_account, cea, trader_a):
    with one_audit_event("registry.surrender", actor=trader_a):
        transfer = allowances_retire(account=funded_a, asset=cea, amount=30, actor=trader_a, reference="obligation:2021")
    assert buckets(funded_a, cea) == zero(available=70)
    assert buckets(retirement_account, cea) == zero(available=30)
    assert (transfer.kind, transfer.destination_id, transfer.reference) == (Transfer.Kind.SURRENDER, retirement_account.pk, "obligation:2021")
    totals = ledger_verify().assets["CEA21"]
    assert (totals.entered, totals.out_of_circulation, totals.holdings) == (100, 30, 70)


def test_it_cancels_allowances_into_the_cancellation_account(db, funded_a, cancellation_account, cea, trader_a):
    with one_audit_event("registry.cancellation", actor=trader_a):
        transfer = allowances_cancel(account=funded_a, asset=cea, amount=25, actor=trader_a, memo="carbon-neutral event")
    assert buckets(funded_a, cea) == zero(available=75)
    assert buckets(cancellation_account, cea) == zero(available=25)
    assert (transfer.kind, transfer.destination_id, transfer.memo) == (Transfer.Kind.CANCELLATION, cancellation_account.pk, "carbon-neutral event")
    assert ledger_verify().assets["CEA21"].out_of_circulation == 25


@pytest.mark.parametrize("service", [allowances_retire, allowances_cancel])
def test_it_refuses_to_retire_or_cancel_cash(db, cash_a, cny, exchange_operator, trader_a, service):
    cash_give(account=cash_a, amount=10_000, operator=exchange_operator)
    with refused(AssetNotAllowed, field="asset"):
        service(account=cash_a, asset=cny, amount=100, actor=trader_a)


@pytest.mark.parametrize("service", [allowances_retire, allowances_cancel])
def test_it_refuses_to_retire_or_cancel_more_than_is_available(db, funded_a, cea, trader_a, service):
    balance_reserve(account=funded_a, asset=cea, amount=1, actor=trader_a)
    with refused(InsufficientBalance, field="amount"):
        service(account=funded_a, asset=cea, amount=100, actor=trader_a)


@pytest.mark.parametrize("service", [allowances_retire, allowances_cancel])
@pytest.mark.parametrize("amount", [0, -1, 1.0, False], ids=repr)
def test_it_refuses_to_retire_or_cancel_a_bad_amount(db, funded_a, cea, trader_a, service, amount):
    with refused(NonPositiveAmount, field="amount"):
        service(account=funded_a, asset=cea, amount=amount, actor=trader_a)


# --- ledger_post ---


def _issuance(asset, amount, national_account):
    return Movement(kind=Transfer.Kind.ISSUANCE, asset=asset, amount=amount, destination=national_account, destination_bucket=Bucket.AVAILABLE)


def _transfer(asset, amount, source, destination):
    return Movement(
        kind=Transfer.Kind.TRANSFER, asset=asset, amount=amount, source=source, source_bucket=Bucket.AVAILABLE,
        destination=destination, destination_bucket=Bucket.AVAILABLE,
    )


def test_ledger_post_applies_several_movements_in_order(db, national_account, holding_a, holding_b, cea, national_regulator):
    last = last_transfer_id()
    posted = ledger_post(
        [_issuance(cea, 100, national_account), _transfer(cea, 60, national_account, holding_a), _transfer(cea, 25, holding_a, holding_b)],
        actor=national_regulator,
    )
    assert [transfer.pk for transfer in posted] == [transfer.pk for transfer in transfers_since(last)]
    assert [(transfer.kind, transfer.amount) for transfer in transfers_since(last)] == [("issuance", 100), ("transfer", 60), ("transfer", 25)]
    assert all(transfer.actor_id == national_regulator.pk for transfer in transfers_since(last))
    assert buckets(national_account, cea) == zero(available=40)
    assert buckets(holding_a, cea) == zero(available=35)
    assert buckets(holding_b, cea) == zero(available=25)


def test_ledger_post_of_nothing_writes_nothing(db):
    before = ledger_snapshot()
    assert ledger_post([]) == []
    assert ledger_snapshot() == before


def test_ledger_post_writes_nothing_when_the_second_movement_overdraws(db, national_account, holding_a, holding_b, cea):
    with refused(InsufficientBalance):
        ledger_post([_issuance(cea, 100, national_account), _transfer(cea, 1, holding_a, holding_b)])
    assert buckets(national_account, cea) == zero()


def test_ledger_post_writes_nothing_when_two_movements_together_overdraw_one_balance(db, funded_a, holding_b, holding_c, cea):
    with refused(InsufficientBalance):
        ledger_post([_transfer(cea, 60, funded_a, holding_b), _transfer(cea, 60, funded_a, holding_c)])
    assert buckets(funded_a, cea) == zero(available=100)


def test_ledger_post_writes_nothing_when_the_second_movement_is_invalid(db, national_account, funded_a, cash_b, cea):
    with refused(AssetNotAllowed):
        ledger_post([_issuance(cea, 100, national_account), _transfer(cea, 1, funded_a, cash_b)])


def test_ledger_post_refuses_an_unknown_bucket(db, funded_a, cea):
    movement = Movement(
        kind=Transfer.Kind.RESERVE, asset=cea, amount=1, source=funded_a, source_bucket=Bucket.AVAILABLE,
        destination=funded_a, destination_bucket="escrow",
    )
    with refused(InvalidInput):
        ledger_post([movement])


def test_ledger_post_creates_value_only_by_issuance_or_deposit(db, holding_a, cea):
    with refused(InvalidInput):
        ledger_post([Movement(kind=Transfer.Kind.ALLOCATION, asset=cea, amount=1, destination=holding_a, destination_bucket=Bucket.AVAILABLE)])


def test_ledger_post_destroys_value_only_by_withdrawal(db, funded_a, cea):
    with refused(InvalidInput):
        ledger_post([Movement(kind=Transfer.Kind.SURRENDER, asset=cea, amount=1, source=funded_a, source_bucket=Bucket.AVAILABLE)])


def test_ledger_post_uses_the_balances_its_caller_already_locked(db, funded_a, holding_b, cea):
    with transaction.atomic():
        locked = balances_lock([(funded_a.pk, cea.pk), (holding_b.pk, cea.pk)])
        assert locked[(funded_a.pk, cea.pk)].available == 100
        ledger_post([_transfer(cea, 30, funded_a, holding_b)], locked=locked, savepoint=False)
        assert locked[(funded_a.pk, cea.pk)].available == 70  # the caller's rows follow
    assert buckets(funded_a, cea) == zero(available=70)
    assert buckets(holding_b, cea) == zero(available=30)


def test_ledger_post_locks_for_itself_when_the_callers_locks_do_not_cover_a_movement(db, funded_a, holding_b, holding_c, cea):
    with transaction.atomic():
        locked = balances_lock([(funded_a.pk, cea.pk), (holding_b.pk, cea.pk)])
        ledger_post([_transfer(cea, 30, funded_a, holding_c)], locked=locked)
    assert buckets(holding_c, cea) == zero(available=30)


class _Rollback(Exception):
    pass


def test_a_refused_post_leaves_the_callers_locked_balances_as_they_were(db, funded_a, holding_b, holding_c, cea):
    try:
        with transaction.atomic():
            keys = [(funded_a.pk, cea.pk), (holding_b.pk, cea.pk), (holding_c.pk, cea.pk)]
            locked = balances_lock(keys)
            with pytest.raises(InsufficientBalance):
                ledger_post([_transfer(cea, 60, funded_a, holding_b), _transfer(cea, 1, holding_c, holding_b)], locked=locked)
            ledger_post([_transfer(cea, 10, funded_a, holding_c)], locked=locked)
            report = ledger_verify()
            assert report.ok, report.problems
            assert buckets(funded_a, cea) == zero(available=90)
            raise _Rollback  # keep the after-test proof clean whatever happened above
    except _Rollback:
        pass


# --- accounts_open / asset_create ---


def test_accounts_open_gives_each_account_a_zero_balance_per_asset_it_can_hold(db, company_c):
    holding, cash = accounts_open(organization=company_c, actor=None)  # the factory already opened them: idempotent
    assert (holding.kind, holding.number) == (Account.Kind.HOLDING, f"HA-{company_c.uscc}")
    assert (cash.kind, cash.number) == (Account.Kind.CASH, f"CA-{company_c.uscc}")
    assert set(holding.balances.values_list("asset__code", flat=True)) == set(Asset.objects.exclude(code="CNY").values_list("code", flat=True))
    assert list(cash.balances.values_list("asset__code", "available")) == [("CNY", 0)]
    assert Account.objects.filter(organization=company_c).count() == 2


def test_accounts_open_refuses_a_system_organization(db):
    from accounts.models import Organization

    system = OrganizationFactory(kind=Organization.Kind.SYSTEM, with_accounts=False)
    with refused(InvalidInput, field="organization"):
        accounts_open(organization=system, actor=None)


def test_asset_create_adds_a_vintage_with_a_balance_row_in_every_account_that_can_hold_it(db, national_regulator, holding_a, cash_a):
    with one_audit_event("asset.create", actor=national_regulator):
        asset = asset_create(code=" cea26 ", name="China Emission Allowance 2026", kind=Asset.Kind.ALLOWANCE, vintage="2026", actor=national_regulator)
    assert (asset.code, asset.decimals) == ("CEA26", 0)
    assert Balance.objects.filter(account=holding_a, asset=asset).exists()
    assert not Balance.objects.filter(account=cash_a, asset=asset).exists()
    allowances_issue(asset=asset, amount=10, actor=national_regulator)


def test_asset_create_refuses_a_duplicate_code_an_unknown_kind_and_a_trader(db, national_regulator, trader_a):
    with refused(AlreadyExists, field="code"):
        asset_create(code="cea21", name="again", kind=Asset.Kind.ALLOWANCE, actor=national_regulator)
    with refused(InvalidInput, field="kind"):
        asset_create(code="XYZ", name="xyz", kind="bond", actor=national_regulator)
    with refused(InvalidInput, field="code"):
        asset_create(code="  ", name="blank", kind=Asset.Kind.OFFSET, actor=national_regulator)
    with refused(PermissionDenied):
        asset_create(code="CEA27", name="2027", kind=Asset.Kind.ALLOWANCE, actor=trader_a)
