"""The carry-over cap (carryover.services): a company carries the window's vintages beyond it only up to
10,000 t + 1.5 x its net sales over the window; the approval by a second regulator marks the rest as
not carried over, with ledger transfers into the holding's `not_carried` bucket."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Organization
from allocation.models import CompliancePeriod
from carryover.errors import ComputationStale, SameRegulator, WindowNotInState, WindowStillOpen
from carryover.models import CarryOverLine, CarryOverWindow
from carryover.selectors import carry_over_cap, statements_for
from carryover.services import carryover_approve, carryover_compute, carryover_reject, carryover_submit
from core.errors import DomainError, InsufficientBalance, PermissionDenied
from core.models import AuditEvent
from registry import services as registry
from registry.models import Account, Asset, Balance, Bucket, Transfer
from registry.selectors import ledger_verify
from tests.carryover.conftest import give
from tests.factories import OrganizationFactory, make_uscc, user_with_role
from tests.trading.conftest import fund, place


def holding(organization):
    return Account.objects.get(organization=organization, kind=Account.Kind.HOLDING)


def bal(organization, code):
    return Balance.objects.get(account=holding(organization), asset__code=code)


def line_of(window, organization):
    return CarryOverLine.objects.get(window=window, organization=organization)


def approved(window, maker, checker):
    carryover_compute(window=window, actor=maker)
    carryover_submit(window=window, actor=maker, reason="Window 2019-2024 closed")
    return carryover_approve(window=window, actor=checker, reason="Checked")


# --- the cap's boundary ---


def test_a_company_holding_exactly_its_cap_keeps_everything(window, company_a, national_regulator, second_national_regulator):
    give(company_a, "CEA21", 10_000, national_regulator)

    approved(window, national_regulator, second_national_regulator)

    line = line_of(window, company_a)
    assert (line.net_sales, line.cap, line.holding, line.excess, line.not_carried) == (0, 10_000, 10_000, 0, 0)
    assert (bal(company_a, "CEA21").available, bal(company_a, "CEA21").not_carried) == (10_000, 0)
    assert not Transfer.objects.filter(kind=Transfer.Kind.CARRY_OVER).exists()


def test_one_tonne_above_the_cap_is_marked_not_carried(window, company_a, national_regulator, second_national_regulator):
    give(company_a, "CEA21", 10_001, national_regulator)

    approved(window, national_regulator, second_national_regulator)

    line = line_of(window, company_a)
    assert (line.cap, line.holding, line.excess, line.holding_at_approval, line.not_carried, line.unmarked) == (
        10_000, 10_001, 1, 10_001, 1, 0)
    held = bal(company_a, "CEA21")
    assert (held.available, held.not_carried, held.total) == (10_000, 1, 10_001)  # still held, no longer available
    (transfer,) = Transfer.objects.filter(kind=Transfer.Kind.CARRY_OVER)
    assert (transfer.amount, transfer.source_bucket, transfer.destination_bucket, transfer.source_id, transfer.destination_id) == (
        1, Bucket.AVAILABLE, Bucket.NOT_CARRIED, holding(company_a).pk, holding(company_a).pk)
    assert transfer.reference == f"carryover:{window.pk}" and transfer.actor == second_national_regulator


def test_the_cap_grows_by_one_and_a_half_tonnes_per_tonne_of_net_sales_rounded_down():
    assert carry_over_cap(base_tonnes=10_000, sales_multiplier=Decimal("1.5"), net_sales=0) == 10_000
    assert carry_over_cap(base_tonnes=10_000, sales_multiplier=Decimal("1.5"), net_sales=1_001) == 11_501  # 1,501.5 down
    assert carry_over_cap(base_tonnes=0, sales_multiplier=Decimal("2"), net_sales=7) == 14


def test_the_parameters_are_the_windows_own(window, company_a, national_regulator, second_national_regulator):
    CarryOverWindow.objects.filter(pk=window.pk).update(base_tonnes=500)
    window.refresh_from_db()
    give(company_a, "CEA21", 800, national_regulator)

    approved(window, national_regulator, second_national_regulator)

    assert (line_of(window, company_a).cap, line_of(window, company_a).not_carried) == (500, 300)


# --- net sales ---


def test_net_sales_are_exchange_sales_less_purchases_of_the_windows_vintages(
        window, company_a, company_b, trader_a, trader_b, national_regulator, second_national_regulator, exchange_operator):
    fund(company_a, regulator=national_regulator, operator=exchange_operator, allowances=30_000)
    fund(company_b, regulator=national_regulator, operator=exchange_operator, allowances=5_000)
    place(trader_a, "sell", "54.22", 3_000)
    place(trader_b, "buy", "54.22", 3_000)
    place(trader_b, "sell", "54.22", 1_000)
    place(trader_a, "buy", "54.22", 1_000)

    carryover_compute(window=window, actor=national_regulator)

    a, b = line_of(window, company_a), line_of(window, company_b)
    assert (a.sold, a.bought, a.net_sales, a.cap) == (3_000, 1_000, 2_000, 13_000)
    assert (b.sold, b.bought, b.net_sales, b.cap) == (1_000, 3_000, 0, 10_000)  # bought more than it sold: floored at 0
    assert a.holding == 28_000 and a.excess == 15_000  # what it bought is pending (T+1) and counts
    assert b.holding == 7_000 and b.excess == 0


def test_trades_outside_the_windows_days_or_of_later_vintages_do_not_count(
        window, company_a, company_b, trader_a, trader_b, national_regulator, exchange_operator):
    fund(company_a, regulator=national_regulator, operator=exchange_operator, allowances=30_000)
    fund(company_b, regulator=national_regulator, operator=exchange_operator, allowances=0)
    place(trader_a, "sell", "54.22", 3_000)
    place(trader_b, "buy", "54.22", 3_000)
    CarryOverWindow.objects.filter(pk=window.pk).update(trades_until=timezone.localdate() - dt.timedelta(days=1))
    window.refresh_from_db()

    carryover_compute(window=window, actor=national_regulator)

    assert line_of(window, company_a).net_sales == 0
    CarryOverWindow.objects.filter(pk=window.pk).update(trades_until=timezone.localdate(), last_year=2020)
    window.refresh_from_db()
    carryover_compute(window=window, actor=national_regulator)  # CEA21 is after a 2019-2020 window
    assert (line_of(window, company_a).net_sales, line_of(window, company_a).holding) == (0, 0)


# --- which allowances are marked ---


def test_the_oldest_vintages_are_marked_first_and_later_vintages_are_not_touched(
        window, company_a, national_regulator, second_national_regulator):
    give(company_a, "CEA19-20", 4_000, national_regulator)
    give(company_a, "CEA22", 9_000, national_regulator)
    give(company_a, "CEA25", 50_000, national_regulator)  # after the window: carried freely

    approved(window, national_regulator, second_national_regulator)

    assert line_of(window, company_a).not_carried == 3_000
    assert (bal(company_a, "CEA19-20").available, bal(company_a, "CEA19-20").not_carried) == (1_000, 3_000)
    assert (bal(company_a, "CEA22").available, bal(company_a, "CEA22").not_carried) == (9_000, 0)
    assert (bal(company_a, "CEA25").available, bal(company_a, "CEA25").not_carried) == (50_000, 0)


def test_what_open_orders_reserve_counts_in_the_holding_but_only_available_is_marked(
        window, company_a, trader_a, national_regulator, second_national_regulator, exchange_operator):
    fund(company_a, regulator=national_regulator, operator=exchange_operator, allowances=12_000)
    place(trader_a, "sell", "54.22", 5_000)  # rests in the book: 5,000 reserved

    approved(window, national_regulator, second_national_regulator)

    line = line_of(window, company_a)
    assert (line.holding_at_approval, line.not_carried, line.unmarked) == (12_000, 2_000, 0)
    held = bal(company_a, "CEA21")
    assert (held.available, held.reserved, held.not_carried) == (5_000, 5_000, 2_000)


def test_the_approval_reads_the_holdings_again(window, company_a, national_regulator, second_national_regulator):
    give(company_a, "CEA21", 10_000, national_regulator)
    carryover_compute(window=window, actor=national_regulator)
    carryover_submit(window=window, actor=national_regulator)
    give(company_a, "CEA23", 2_500, national_regulator)  # received after the computation

    carryover_approve(window=window, actor=second_national_regulator)

    line = line_of(window, company_a)
    assert (line.holding, line.excess, line.holding_at_approval, line.not_carried) == (10_000, 0, 12_500, 2_500)


def test_allowances_not_carried_can_be_neither_surrendered_sold_nor_transferred(
        window, company_a, company_b, trader_a, national_regulator, second_national_regulator, exchange_operator):
    fund(company_a, regulator=national_regulator, operator=exchange_operator, allowances=10_500)
    approved(window, national_regulator, second_national_regulator)
    assert bal(company_a, "CEA21").available == 10_000
    cea21 = Asset.objects.get(code="CEA21")

    with pytest.raises(InsufficientBalance):
        registry.transfer_create(source=holding(company_a), destination=holding(company_b), asset=cea21, amount=10_001,
                                 actor=national_regulator)
    with pytest.raises(InsufficientBalance):
        registry.allowances_retire(account=holding(company_a), asset=cea21, amount=10_001, actor=national_regulator)
    with pytest.raises(DomainError) as sale:
        place(trader_a, "sell", "54.22", 10_001)
    assert sale.value.code == "insufficient_allowances"
    with pytest.raises(DomainError) as refused:
        registry.ledger_post([registry.Movement(
            kind=Transfer.Kind.RELEASE, asset=cea21, amount=1, source=holding(company_a), source_bucket=Bucket.NOT_CARRIED,
            destination=holding(company_a), destination_bucket=Bucket.AVAILABLE)])
    assert refused.value.field == "source_bucket"
    assert bal(company_a, "CEA21").not_carried == 500


def test_only_the_carry_over_kind_may_fill_the_not_carried_bucket(company_a, national_regulator):
    give(company_a, "CEA21", 10, national_regulator)
    with pytest.raises(DomainError) as refused:
        registry.ledger_post([registry.Movement(
            kind=Transfer.Kind.FREEZE, asset=Asset.objects.get(code="CEA21"), amount=1, source=holding(company_a),
            source_bucket=Bucket.AVAILABLE, destination=holding(company_a), destination_bucket=Bucket.NOT_CARRIED)])
    assert refused.value.field == "kind"


def test_closing_an_account_cancels_what_it_holds_not_carried_and_nothing_else_moves_it_out(
        window, company_a, company_b, national_regulator, second_national_regulator):
    """A company leaving the scheme: its allowances not carried over could never leave its holding, so
    the closing cancels them into the cancellation account, in the closing's transaction."""
    give(company_a, "CEA21", 10_500, national_regulator)
    approved(window, national_regulator, second_national_regulator)
    cea21 = Asset.objects.get(code="CEA21")
    cancellation = registry.system_account(Account.Kind.CANCELLATION)
    # While it holds anything else, the account does not close, and nothing is cancelled.
    with pytest.raises(DomainError) as refused:
        registry.account_close(account=holding(company_a), reason="left the scheme", actor=national_regulator)
    assert refused.value.code == "account_not_empty" and bal(company_a, "CEA21").not_carried == 500
    assert not Transfer.objects.filter(kind=Transfer.Kind.CLOSING_CANCELLATION).exists()

    registry.transfer_create(source=holding(company_a), destination=holding(company_b), asset=cea21, amount=10_000,
                             actor=national_regulator)
    registry.account_close(account=holding(company_a), reason="left the scheme", actor=national_regulator)

    held = bal(company_a, "CEA21")
    assert (held.total, held.not_carried) == (0, 0)
    assert Account.objects.get(pk=holding(company_a).pk).status == Account.Status.CLOSED
    (transfer,) = Transfer.objects.filter(kind=Transfer.Kind.CLOSING_CANCELLATION)
    assert (transfer.amount, transfer.source_bucket, transfer.destination_id, transfer.destination_bucket, transfer.reference) == (
        500, Bucket.NOT_CARRIED, cancellation.pk, Bucket.AVAILABLE, f"account_close:{holding(company_a).pk}")
    assert Balance.objects.get(account=cancellation, asset=cea21).available == 500
    event = AuditEvent.objects.filter(action="account.close").latest("id")
    assert event.after["not_carried_cancelled"] == {"CEA21": 500}
    assert ledger_verify().ok


def test_the_closing_cancellation_moves_only_not_carried_allowances_into_the_cancellation_account(
        window, company_a, company_b, national_regulator, second_national_regulator):
    give(company_a, "CEA21", 10_500, national_regulator)
    approved(window, national_regulator, second_national_regulator)
    cea21 = Asset.objects.get(code="CEA21")
    for source_bucket, destination, field in ((Bucket.AVAILABLE, registry.system_account(Account.Kind.CANCELLATION), "source_bucket"),
                                              (Bucket.NOT_CARRIED, holding(company_b), "destination")):
        with pytest.raises(DomainError) as refused:
            registry.ledger_post([registry.Movement(
                kind=Transfer.Kind.CLOSING_CANCELLATION, asset=cea21, amount=1, source=holding(company_a),
                source_bucket=source_bucket, destination=destination, destination_bucket=Bucket.AVAILABLE)])
        assert refused.value.field == field
    assert (bal(company_a, "CEA21").available, bal(company_a, "CEA21").not_carried) == (10_000, 500)


def test_institutions_get_no_statement_and_every_key_emitting_unit_gets_one(window, company_a, company_b, national_regulator):
    institution = OrganizationFactory(name="A Fund", kind=Organization.Kind.INSTITUTION, sector="finance", province="31",
                                      uscc=make_uscc("31"))
    carryover_compute(window=window, actor=national_regulator)
    organizations = set(window.lines.values_list("organization_id", flat=True))
    assert {company_a.pk, company_b.pk} <= organizations and institution.pk not in organizations


# --- the window must have closed ---


def test_a_window_with_an_open_period_cannot_be_computed(window, closed_periods, national_regulator):
    CompliancePeriod.objects.filter(code="2023").update(status=CompliancePeriod.Status.OPEN)
    with pytest.raises(WindowStillOpen) as refused:
        carryover_compute(window=window, actor=national_regulator)
    assert refused.value.code == "window_open" and "2023" in refused.value.message
    assert not window.lines.exists()


# --- maker-checker ---


def test_the_maker_cannot_approve_the_computation(window, company_a, national_regulator, second_national_regulator):
    give(company_a, "CEA21", 20_000, national_regulator)
    carryover_compute(window=window, actor=national_regulator)
    carryover_submit(window=window, actor=national_regulator)

    with pytest.raises(SameRegulator) as refused:
        carryover_approve(window=window, actor=national_regulator)

    assert refused.value.code == "carry_over_maker_checker"
    window.refresh_from_db()
    assert window.status == CarryOverWindow.Status.SUBMITTED
    assert bal(company_a, "CEA21").not_carried == 0


def test_whoever_computed_cannot_approve_what_another_submitted(window, national_regulator, second_national_regulator):
    carryover_compute(window=window, actor=national_regulator)
    carryover_submit(window=window, actor=second_national_regulator)
    with pytest.raises(SameRegulator):
        carryover_approve(window=window, actor=national_regulator)
    with pytest.raises(SameRegulator):
        carryover_approve(window=window, actor=second_national_regulator)


def test_a_company_user_or_provincial_regulator_cannot_compute_or_approve(window, trader_a, shandong_regulator):
    for user in (trader_a, shandong_regulator):
        with pytest.raises(PermissionDenied):
            carryover_compute(window=window, actor=user)
        with pytest.raises(PermissionDenied):
            carryover_approve(window=window, actor=user)


def test_an_approved_window_is_marked_once(window, company_a, national_regulator, second_national_regulator, ministry):
    give(company_a, "CEA21", 10_100, national_regulator)
    approved(window, national_regulator, second_national_regulator)
    third = user_with_role("national_regulator", ministry)

    with pytest.raises(WindowNotInState):
        carryover_approve(window=window, actor=third)
    with pytest.raises(WindowNotInState):
        carryover_compute(window=window, actor=national_regulator)
    assert Transfer.objects.filter(kind=Transfer.Kind.CARRY_OVER).count() == 1


def test_a_submission_needs_a_current_computation(window, national_regulator):
    with pytest.raises(WindowNotInState):
        carryover_submit(window=window, actor=national_regulator)
    carryover_compute(window=window, actor=national_regulator)
    CarryOverWindow.objects.filter(pk=window.pk).update(sales_multiplier=Decimal("2"))
    window.refresh_from_db()
    with pytest.raises(ComputationStale) as refused:
        carryover_submit(window=window, actor=national_regulator)
    assert refused.value.code == "computation_stale"


def test_a_rejection_returns_the_window_to_draft_with_its_reason(window, national_regulator, second_national_regulator):
    carryover_compute(window=window, actor=national_regulator)
    carryover_submit(window=window, actor=national_regulator)
    with pytest.raises(DomainError):
        carryover_reject(window=window, actor=second_national_regulator, reason=" ")

    carryover_reject(window=window, actor=second_national_regulator, reason="Block trades are missing")

    window.refresh_from_db()
    assert (window.status, window.decision_reason) == (CarryOverWindow.Status.DRAFT, "Block trades are missing")
    assert not Transfer.objects.filter(kind=Transfer.Kind.CARRY_OVER).exists()


def test_every_step_is_audited(window, company_a, national_regulator, second_national_regulator):
    give(company_a, "CEA21", 10_001, national_regulator)
    approved(window, national_regulator, second_national_regulator)
    events = list(AuditEvent.objects.filter(object_type="carryover.carryoverwindow", object_id=str(window.pk))
                  .order_by("id").values_list("action", flat=True))
    assert events == ["carryover.compute", "carryover.submit", "carryover.approve"]
    approval = AuditEvent.objects.get(action="carryover.approve")
    assert (approval.after["not_carried"], approval.after["companies_marked"]) == (1, 1)


# --- statements ---


def test_a_company_user_sees_only_its_own_approved_statements(
        window, company_a, company_b, trader_a, national_regulator, second_national_regulator):
    give(company_a, "CEA19-20", 6_000, national_regulator)
    give(company_a, "CEA21", 6_000, national_regulator)
    give(company_b, "CEA21", 50_000, national_regulator)
    carryover_compute(window=window, actor=national_regulator)
    assert statements_for(trader_a) == []  # not yet approved

    carryover_submit(window=window, actor=national_regulator)
    carryover_approve(window=window, actor=second_national_regulator)

    (statement,) = statements_for(trader_a)
    assert statement.line.organization == company_a
    assert statement.marked == [("CEA19-20", 2_000)]


# --- what cannot be marked, and conservation ---


def test_frozen_allowances_count_but_stay_unmarked_and_a_frozen_account_is_still_marked(
        window, company_a, company_b, national_regulator, second_national_regulator):
    give(company_a, "CEA21", 12_000, national_regulator)
    registry.holdings_freeze(account=holding(company_a), asset=Asset.objects.get(code="CEA21"), amount=11_000,
                             reason="Court order 17", actor=national_regulator)
    give(company_b, "CEA21", 10_700, national_regulator)
    registry.account_freeze(account=holding(company_b), reason="Court order 18", actor=national_regulator)

    approved(window, national_regulator, second_national_regulator)

    a, b = line_of(window, company_a), line_of(window, company_b)
    assert (a.holding_at_approval, a.not_carried, a.unmarked) == (12_000, 1_000, 1_000)  # 1,000 available of 2,000 above
    assert (bal(company_a, "CEA21").frozen, bal(company_a, "CEA21").not_carried) == (11_000, 1_000)
    assert (b.not_carried, b.unmarked, bal(company_b, "CEA21").not_carried) == (700, 0, 700)


def test_the_marking_creates_and_destroys_nothing(window, company_a, company_b, national_regulator, second_national_regulator):
    give(company_a, "CEA19-20", 30_000, national_regulator)
    give(company_b, "CEA23", 45_000, national_regulator)
    before = registry_totals()

    approved(window, national_regulator, second_national_regulator)

    assert registry_totals() == before
    report = ledger_verify()
    assert report.ok, report.problems
    assert Balance.objects.filter(not_carried__gt=0).count() == 2


def registry_totals():
    """Per asset: what is held in every bucket, and what has left circulation."""
    rows = {}
    for balance in Balance.objects.select_related("asset", "account"):
        held, gone = rows.get(balance.asset.code, (0, 0))
        if balance.account.kind in Account.OUT_OF_CIRCULATION_KINDS:
            gone += balance.total
        else:
            held += balance.total
        rows[balance.asset.code] = (held, gone)
    return rows


# --- the database's own guards ---


def test_the_database_refuses_a_negative_not_carried_bucket_and_a_negative_statement(window, company_a):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Balance.objects.filter(account=holding(company_a), asset__code="CEA21").update(not_carried=-1)
    with pytest.raises(IntegrityError), transaction.atomic():
        CarryOverLine.objects.create(window=window, organization=company_a, sold=0, bought=0, net_sales=0, cap=10_000,
                                     holding=5, excess=-1)
    with pytest.raises(IntegrityError), transaction.atomic():
        CarryOverWindow.objects.create(code="bad", first_year=2024, last_year=2019, trades_from=window.trades_from,
                                       trades_until=window.trades_until)
