"""Clearing reports (RULEBOOK "Settlement" and "Block trades, auctions and surveillance"): each member's
daily clearing statement and the exchange's daily market report. Both are computed from the ledger's
transfers and the trades alone, never from stored balances or bars, so that either can be reproduced
for any past day (tests recompute them independently).

A day is the market's calendar day (00:00 to 24:00 market time): the trades of that trading day, and
the transfers made in it (the end of day's T+1 releases fall on the day they are made)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, Sum
from django.utils import timezone

from accounts.models import Organization
from registry.models import Account, Asset, Bucket, Transfer
from trading.models import Instrument, Order, Trade
from trading.selectors import trade_totals

BUCKETS = (Bucket.AVAILABLE, Bucket.RESERVED, Bucket.PENDING, Bucket.FROZEN)


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a market day, as aware datetimes."""
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return start, timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


def bucket_balances(account: Account, *, before: dt.datetime) -> dict[int, dict[str, int]]:
    """Per asset id, the account's buckets from every transfer made before `before`."""
    balances: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(BUCKETS, 0))
    moved = Transfer.objects.filter(created_at__lt=before)
    for asset_id, bucket, amount in (moved.filter(destination=account).values("asset_id", "destination_bucket")
                                     .annotate(total=Sum("amount")).values_list("asset_id", "destination_bucket", "total")):
        balances[asset_id][bucket] += amount
    for asset_id, bucket, amount in (moved.filter(source=account).values("asset_id", "source_bucket")
                                     .annotate(total=Sum("amount")).values_list("asset_id", "source_bucket", "total")):
        balances[asset_id][bucket] -= amount
    return dict(balances)


@dataclass
class TradeLine:
    trade: Trade
    side: str  # the member's side
    value: int
    fee: int


@dataclass
class ModeTotals:
    kind: str
    label: str
    trades: int = 0
    bought: int = 0
    sold: int = 0
    paid: int = 0  # value of purchases, fen
    received: int = 0  # value of sales, fen
    fees: int = 0


@dataclass
class AccountDay:
    account: Account
    opening: dict[int, dict[str, int]]
    closing: dict[int, dict[str, int]]
    movements: list[Transfer]
    assets: list[Asset] = field(default_factory=list)

    def balance_rows(self) -> list[dict[str, Any]]:
        """One row per asset and bucket: opening, closing and the change (buckets empty all day left out)."""
        rows = []
        for asset in self.assets:
            for bucket in BUCKETS:
                opening = self.opening.get(asset.pk, {}).get(bucket, 0)
                closing = self.closing.get(asset.pk, {}).get(bucket, 0)
                if opening == closing == 0:
                    continue
                rows.append({"asset": asset, "bucket": Bucket(bucket).label, "bucket_code": bucket, "opening": opening, "closing": closing,
                             "change": closing - opening})
        return rows

    def movement_rows(self) -> list[dict[str, Any]]:
        """Each transfer of the day, with the buckets it moved between and its amount signed for this
        account (+ in, - out; a move between two buckets of the account is shown as it is)."""
        rows = []
        for transfer in self.movements:
            internal = transfer.source_id == transfer.destination_id
            incoming = transfer.destination_id == self.account.pk
            rows.append({"transfer": transfer, "internal": internal,
                         "signed": transfer.amount if internal or incoming else -transfer.amount})
        return rows


@dataclass
class ClearingStatement:
    organization: Organization
    day: dt.date
    trades: list[TradeLine]
    modes: list[ModeTotals]
    accounts: list[AccountDay]

    @property
    def fees(self) -> int:
        return sum(mode.fees for mode in self.modes)


def clearing_statement(organization: Organization, day: dt.date) -> ClearingStatement:
    """One member's day: its trades by mode with fees, and for each of its accounts the opening and
    closing balance by bucket and every transfer between them."""
    trades = Trade.objects.filter(Q(buyer=organization) | Q(seller=organization), trading_day=day).select_related(
        "instrument").order_by("executed_at", "pk")
    modes = {kind: ModeTotals(kind=kind, label=str(label)) for kind, label in Trade.Kind.choices}
    lines = []
    for trade in trades:
        buying = trade.buyer_id == organization.pk
        fee = trade.buyer_fee if buying else trade.seller_fee
        lines.append(TradeLine(trade=trade, side="buy" if buying else "sell", value=trade.value, fee=fee))
        mode = modes[trade.kind]
        mode.trades += 1
        mode.fees += fee
        if buying:
            mode.bought, mode.paid = mode.bought + trade.quantity, mode.paid + trade.value
        else:
            mode.sold, mode.received = mode.sold + trade.quantity, mode.received + trade.value
    start, end = day_bounds(day)
    assets = {asset.pk: asset for asset in Asset.objects.all()}
    accounts = []
    for account in Account.objects.filter(organization=organization).order_by("kind", "pk"):
        opening, closing = bucket_balances(account, before=start), bucket_balances(account, before=end)
        movements = list(Transfer.objects.filter(Q(source=account) | Q(destination=account), created_at__gte=start,
                                                 created_at__lt=end).select_related("asset").order_by("pk"))
        held = sorted(set(opening) | set(closing), key=lambda pk: assets[pk].code)
        accounts.append(AccountDay(account=account, opening=opening, closing=closing, movements=movements,
                                   assets=[assets[pk] for pk in held]))
    return ClearingStatement(organization=organization, day=day, trades=lines, modes=list(modes.values()), accounts=accounts)


@dataclass
class InstrumentDay:
    instrument: Instrument
    open: int | None
    high: int | None
    low: int | None
    close: int
    vwap: int | None
    listed_volume: int
    listed_turnover: int
    listed_trades: int
    block_volume: int
    block_turnover: int
    block_trades: int
    auction_volume: int
    auction_turnover: int
    auction_trades: int


@dataclass
class MarketReport:
    day: dt.date
    instruments: list[InstrumentDay]
    active_members: int
    fees: int

    @property
    def listed_volume(self) -> int:
        return sum(i.listed_volume for i in self.instruments)

    @property
    def block_volume(self) -> int:
        return sum(i.block_volume for i in self.instruments)


def market_report(day: dt.date) -> MarketReport:
    """The exchange's day per instrument, from the trades: the listed market's open, high, low, VWAP
    and close (the VWAP rounded half up to the tick, else the day's reference price), listed, block and
    auction volume and turnover apart; members active (an order placed, or a trade) and the fees charged."""
    rows = []
    for instrument in Instrument.objects.select_related("asset").order_by("symbol"):
        trades = Trade.objects.filter(instrument=instrument, trading_day=day)
        listed = list(trades.filter(kind=Trade.Kind.LISTED).order_by("executed_at", "pk").values_list("price", "quantity"))
        block, auction = (trade_totals(trades.filter(kind=kind)) for kind in (Trade.Kind.BLOCK, Trade.Kind.AUCTION))
        volume = sum(q for _, q in listed)
        turnover = sum(p * q for p, q in listed)
        vwap = (2 * turnover + volume) // (2 * volume) // instrument.tick * instrument.tick if volume else None
        reference = _reference_of(instrument, day)
        rows.append(InstrumentDay(
            instrument=instrument, open=listed[0][0] if listed else None, high=max((p for p, _ in listed), default=None),
            low=min((p for p, _ in listed), default=None), close=vwap if vwap is not None else reference, vwap=vwap,
            listed_volume=volume, listed_turnover=turnover, listed_trades=len(listed),
            block_volume=block[0], block_turnover=block[1], block_trades=block[2],
            auction_volume=auction[0], auction_turnover=auction[1], auction_trades=auction[2],
        ))
    day_trades = Trade.objects.filter(trading_day=day)
    members = set(day_trades.values_list("buyer_id", flat=True)) | set(day_trades.values_list("seller_id", flat=True))
    members |= set(Order.objects.filter(trading_day=day).values_list("organization_id", flat=True))
    fees = day_trades.aggregate(b=Sum("buyer_fee"), s=Sum("seller_fee"))
    return MarketReport(day=day, instruments=rows, active_members=len(members), fees=(fees["b"] or 0) + (fees["s"] or 0))


def _reference_of(instrument: Instrument, day: dt.date) -> int:
    """The day's reference price: the previous trading day's stored close, else the instrument's."""
    from trading.models import DailyBar

    bar = DailyBar.objects.filter(instrument=instrument, day=day).first()
    if bar is not None:
        return bar.reference_price
    previous = DailyBar.objects.filter(instrument=instrument, day__lt=day).order_by("-day").first()
    return previous.close if previous is not None else instrument.reference_price


STATEMENT_HEADER = ["section", "account", "asset", "bucket", "trade_id", "transfer_id", "kind", "side", "price",
                    "quantity", "amount", "fee", "opening", "closing", "reference", "time"]


def statement_rows(statement: ClearingStatement) -> list[list[Any]]:
    """The statement as plain CSV rows, one per trade, balance (asset and bucket) and transfer; each
    column means one thing (empty where it does not apply). Amounts: CNY with two decimals for cash,
    tonnes for allowances."""
    rows: list[list[Any]] = []
    for line in statement.trades:
        trade = line.trade
        rows.append(["trade", "", trade.instrument.symbol, "", trade.pk, "", trade.kind, line.side, f"{trade.price / 100:.2f}",
                     trade.quantity, f"{line.value / 100:.2f}", f"{line.fee / 100:.2f}", "", "", "",
                     timezone.localtime(trade.executed_at).isoformat()])
    for day in statement.accounts:
        for row in day.balance_rows():
            asset = row["asset"]
            rows.append(["balance", day.account.number, asset.code, row["bucket_code"], "", "", "", "", "", "", "", "",
                         _amount(asset, row["opening"]), _amount(asset, row["closing"]), "", ""])
        for transfer in day.movements:
            incoming = transfer.destination_id == day.account.pk
            bucket = f"{transfer.source_bucket}>{transfer.destination_bucket}" if transfer.source_id == transfer.destination_id else (
                transfer.destination_bucket if incoming else transfer.source_bucket)
            signed = transfer.amount if transfer.source_id == transfer.destination_id or incoming else -transfer.amount
            rows.append(["transfer", day.account.number, transfer.asset.code, bucket, "", transfer.pk, transfer.kind, "", "", "",
                         _amount(transfer.asset, signed), "", "", "", transfer.reference, timezone.localtime(transfer.created_at).isoformat()])
    return rows


def _amount(asset: Asset, value: int) -> str | int:
    return f"{value / 100:.2f}" if asset.kind == Asset.Kind.CASH else value
