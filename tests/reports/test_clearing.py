"""Clearing reports (issue 18, item 4): a member's daily clearing statement and the exchange's daily
market report, each recomputed here from the rows it must come from (transfers, trades) and compared
with what the ledger and the end of day stored; pages, CSV and PDF, each download audited."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone

from core.models import AuditEvent
from registry.models import Account, Balance, Transfer
from tests.trading.conftest import fund, place, run_on_commit
from trading import blocks, clearing, services
from trading.clock import trading_day
from trading.models import DailyBar, Trade

pytestmark = pytest.mark.django_db


@pytest.fixture
def day_of_trading(company_a, company_b, trader_a, trader_b, national_regulator, exchange_operator, monkeypatch):
    """Funded yesterday (so today opens with balances); today a listed trade, a block trade and a
    resting order, then the end of day."""
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() - dt.timedelta(days=1))
    fund(company_a, regulator=national_regulator, operator=exchange_operator, allowances=400_000)
    fund(company_b, regulator=national_regulator, operator=exchange_operator, allowances=50_000)
    monkeypatch.setattr(timezone, "now", real_now)
    place(trader_a, "sell", "54.00", 300)
    place(trader_b, "buy", "54.10", 200)  # 200 at 54.00
    place(trader_b, "buy", "53.00", 50)  # rests, expires
    offer, _ = run_on_commit(blocks.block_offer_post, user=trader_a, instrument="CEA21", side="sell", price="56.00",
                             quantity=100_000, client_order_id="blk")
    run_on_commit(blocks.block_offer_accept, user=trader_b, offer_id=offer.pk, client_order_id="take")
    day = trading_day()
    run_on_commit(services.end_of_day_expire, day=day)
    run_on_commit(services.end_of_day_close, day=day)
    return day


def _buckets_from_rows(account, before):
    """The account's buckets recomputed transfer by transfer (not by the module's aggregate)."""
    out: dict[tuple[int, str], int] = {}
    for t in Transfer.objects.filter(created_at__lt=before):
        if t.destination_id == account.pk:
            out[(t.asset_id, t.destination_bucket)] = out.get((t.asset_id, t.destination_bucket), 0) + t.amount
        if t.source_id == account.pk:
            out[(t.asset_id, t.source_bucket)] = out.get((t.asset_id, t.source_bucket), 0) - t.amount
    return {key: value for key, value in out.items() if value}


def test_the_statement_is_the_ledger_and_the_trades_of_the_day(day_of_trading, company_a, company_b):
    day = day_of_trading
    statement = clearing.clearing_statement(company_b, day)
    start, end = clearing.day_bounds(day)
    for account_day in statement.accounts:
        account = account_day.account
        # Closing = the balance rows now (nothing moved after the day); opening = the rows of yesterday.
        for row in Balance.objects.filter(account=account):
            closing = account_day.closing.get(row.asset_id, {})
            assert [closing.get(b, 0) for b in clearing.BUCKETS] == [row.available, row.reserved, row.pending, row.frozen]
        for key, value in _buckets_from_rows(account, start).items():
            assert account_day.opening[key[0]][key[1]] == value
        # Opening + the day's transfers = closing, bucket by bucket.
        moved: dict[tuple[int, str], int] = {}
        for row in account_day.movement_rows():
            t = row["transfer"]
            if t.destination_id == account.pk:
                moved[(t.asset_id, t.destination_bucket)] = moved.get((t.asset_id, t.destination_bucket), 0) + t.amount
            if t.source_id == account.pk:
                moved[(t.asset_id, t.source_bucket)] = moved.get((t.asset_id, t.source_bucket), 0) - t.amount
        for asset_id in set(account_day.opening) | set(account_day.closing):
            for bucket in clearing.BUCKETS:
                assert (account_day.opening.get(asset_id, {}).get(bucket, 0) + moved.get((asset_id, bucket), 0)
                        == account_day.closing.get(asset_id, {}).get(bucket, 0))
    holding = next(d for d in statement.accounts if d.account.kind == Account.Kind.HOLDING)
    assert any(opening for buckets in holding.opening.values() for opening in buckets.values())  # funded yesterday

    modes = {mode.kind: mode for mode in statement.modes}
    listed = Trade.objects.filter(buyer=company_b, kind="listed", trading_day=day)
    block = Trade.objects.filter(buyer=company_b, kind="block", trading_day=day)
    assert (modes["listed"].trades, modes["listed"].bought, modes["listed"].paid, modes["listed"].fees) == (
        listed.count(), sum(t.quantity for t in listed), sum(t.value for t in listed), sum(t.buyer_fee for t in listed))
    assert (modes["block"].trades, modes["block"].bought, modes["block"].paid, modes["block"].fees) == (
        block.count(), 100_000, 5600 * 100_000, sum(t.buyer_fee for t in block))
    assert statement.fees == sum(t.buyer_fee for t in Trade.objects.filter(buyer=company_b))
    # Yesterday's closing is today's opening.
    yesterday = clearing.clearing_statement(company_b, day - dt.timedelta(days=1))
    assert [d.closing for d in yesterday.accounts] == [d.opening for d in statement.accounts]


def test_the_market_report_is_what_the_end_of_day_stored(day_of_trading, company_a, company_b):
    from trading.models import Instrument

    cea21 = Instrument.objects.get(symbol="CEA21")
    report = clearing.market_report(day_of_trading)
    row = next(r for r in report.instruments if r.instrument.symbol == "CEA21")
    bar = DailyBar.objects.get(instrument=cea21, day=day_of_trading)
    assert (row.open, row.high, row.low, row.close) == (bar.open, bar.high, bar.low, bar.close) == (5400, 5400, 5400, 5400)
    assert (row.listed_volume, row.listed_turnover, row.listed_trades) == (bar.volume, bar.turnover, bar.trade_count) == (200, 1_080_000, 1)
    assert (row.block_volume, row.block_turnover, row.block_trades) == (bar.block_volume, bar.block_turnover, 1)
    assert report.active_members == 2
    assert report.fees == sum(t.buyer_fee + t.seller_fee for t in Trade.objects.all())
    quiet = next(r for r in report.instruments if r.instrument.symbol == "CEA22")
    assert (quiet.open, quiet.vwap, quiet.listed_volume, quiet.close) == (None, None, 0, quiet.instrument.reference_price)


def test_a_member_reads_and_downloads_its_own_statement_and_each_download_is_audited(day_of_trading, client_for, trader_b, company_b):
    client = client_for(trader_b)
    page = client.get(f"/reports/clearing/?day={day_of_trading}")
    assert page.status_code == 200
    text = page.content.decode()
    assert company_b.name in text and "100,000" in text and "5,600,000.00" in text
    exports_before = AuditEvent.objects.filter(action="report.export").count()
    rows = list(csv.reader(io.StringIO(b"".join(client.get(f"/reports/clearing/?day={day_of_trading}&format=csv").streaming_content).decode("utf-8-sig"))))
    assert rows[0] == clearing.STATEMENT_HEADER
    trades = [row for row in rows[1:] if row[0] == "trade"]
    assert sorted((row[6], row[9]) for row in trades) == [("block", "100000"), ("listed", "200")]
    pdf = client.get(f"/reports/clearing/?day={day_of_trading}&format=pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    from pypdf import PdfReader

    pdf_text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    event = AuditEvent.objects.filter(action="report.export").latest("pk")
    assert f"NCR-CLR-{event.pk:08d}" in pdf_text and company_b.uscc in pdf_text
    assert AuditEvent.objects.filter(action="report.export").count() == exports_before + 2
    assert client.get("/reports/clearing/?day=2026-13-01").status_code == 400


def test_the_statement_is_only_a_members_own_and_the_market_report_the_operators(
    day_of_trading, client_for, trader_a, company_a, company_b, exchange_operator, auditor
):
    page = client_for(trader_a).get(f"/reports/clearing/?day={day_of_trading}").content.decode()
    assert company_a.name in page and company_b.name not in page
    assert client_for(auditor).get("/reports/clearing/").status_code == 403
    assert client_for(trader_a).get("/reports/market/").status_code == 403
    report = client_for(exchange_operator).get(f"/reports/market/?day={day_of_trading}&format=csv")
    rows = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode("utf-8-sig"))))
    cea21 = next(row for row in rows if row[0] == "CEA21")
    assert cea21[5:8] == ["54.00", "200", "10800.00"] and cea21[9] == "100000"
