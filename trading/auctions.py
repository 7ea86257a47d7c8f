"""One-way bidding (单向竞价; RULEBOOK "Block trades, auctions and surveillance").

An initiator announces an auction: instrument, side, quantity, reserve price, bidding window, minimum
bid and maximum share per bidder (AUCTION_MAX_SHARE_PERCENT, 30 % by default). The initiator is a
company selling or buying, or the national regulator selling paid allocation. The exchange operator
approves the announcement (maker-checker: never the person who announced it). In the window members
place sealed bids; each bid reserves what a block offer would (a buying bid: cash for its value and
fee at its own price; a selling bid: its allowances). A bid is seen only by its bidder; after the
close the results publish the aggregate (clearing price, quantity traded, bidders, cover ratio).

The close (`auction_close`, run by the Celery job `auctions_close_task` once the window has ended)
clears at one uniform price (`auction_clear`): bids beyond the reserve price take no part; bids are
filled best price first; at the margin, tied bids share what is left pro rata by quantity in whole
tonnes, the remainder one tonne each in time order; no bidder wins more than the maximum share. The
clearing price is the last (worst) price that won anything: the lowest winning price of a sell
auction, the highest of a buy auction. Every winner trades at it: one Trade of kind `auction` per
winning bid, settled at once, delivery versus payment, in the same posting as the close (allowances
into the buyer's pending bucket, T+1 like every trade; the buyer's reserved cash to the seller net
of its fee; both fees to SYS-FEES; what a reservation held beyond that is released). Losing bids and
the initiator's unsold rest are released in the same posting. Auction trades stay out of the listed
open, close and reference price (trading.selectors takes kind=listed only).

Paid allocation, the simplest conserved design: the regulator's announcement reserves the quantity
in the national issuance account (SYS-NATIONAL), issuing there first whatever its available
allowances of the vintage fall short of (one posting: ISSUANCE then RESERVE). The close delivers
from that reserved bucket; what is unsold, or the whole quantity of a rejected or lapsed auction, is
released and stays issued and unallocated in the national account, for a later auction or plan.
The buyers' payments go to the government revenue account (SYS-REVENUE), without a seller's fee.
Conservation holds by construction: every movement is a Transfer between buckets and accounts.

Lock order: the auction's row first (FOR NO KEY UPDATE: bids, withdrawals and the close of one auction
queue there; the close finds the window ended and takes every open bid), then the bids in id order,
then balances through the ledger. Nothing locks a balance and then an auction.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.access import access_of
from accounts.models import Organization
from core import live
from core.audit import audit_record
from core.contention import retry_on_contention
from core.errors import DomainError, IdempotencyConflict, InsufficientBalance, InvalidInput, NotFound, PermissionDenied
from registry.models import Account, Balance, Bucket, Transfer
from registry.services import Movement, ledger_post, system_account
from trading import errors
from trading.blocks import _instrument, position_check
from trading.clock import trading_day
from trading.fees import buy_reservation, fee_for
from trading.models import Auction, AuctionBid, Instrument, Side, Trade
from trading.participants import cash_asset, fees_account, participant_accounts_cached
from trading.services import _accounts_of, _trading_organization, parse_price

logger = logging.getLogger(__name__)

# --- clearing (pure: no database) ---


@dataclass(frozen=True)
class SealedBid:
    """What the clearing needs of a bid. `bids` are given in time order (their ids)."""

    id: int
    organization_id: int
    price: int
    quantity: int


def auction_clear(*, side: str, quantity: int, reserve_price: int, max_share: int,
                  bids: list[SealedBid]) -> tuple[int | None, dict[int, int]]:
    """Clears one auction at a uniform price. `side` is the initiator's: in a sell auction the bids
    buy (highest price first, none below the reserve); in a buy auction they sell (lowest first, none
    above it). Returns (clearing price or None when nothing trades, {bid id: tonnes won > 0})."""
    selling = side == Side.SELL
    valid = [bid for bid in bids if (bid.price >= reserve_price if selling else bid.price <= reserve_price) and bid.quantity > 0]
    levels: dict[int, list[SealedBid]] = defaultdict(list)
    for bid in valid:
        levels[bid.price].append(bid)
    remaining = quantity
    won_by_organization: dict[int, int] = defaultdict(int)
    won: dict[int, int] = {}
    clearing_price = None
    for price in sorted(levels, reverse=selling):
        if remaining == 0:
            break
        # Each bid's quantity as far as its bidder's maximum share still allows (earlier bids first).
        claimed: dict[int, int] = defaultdict(int)
        wanted: list[tuple[SealedBid, int]] = []
        for bid in levels[price]:
            room = max_share - won_by_organization[bid.organization_id] - claimed[bid.organization_id]
            effective = min(bid.quantity, max(room, 0))
            if effective:
                claimed[bid.organization_id] += effective
                wanted.append((bid, effective))
        demand = sum(effective for _, effective in wanted)
        if not demand:
            continue
        if demand <= remaining:
            shares = [effective for _, effective in wanted]
        else:
            # The margin: pro rata by quantity in whole tonnes, the rest one tonne each by time.
            shares = [effective * remaining // demand for _, effective in wanted]
            left = remaining - sum(shares)
            for index, (_, effective) in enumerate(wanted):
                if not left:
                    break
                if shares[index] < effective:
                    shares[index] += 1
                    left -= 1
        for (bid, _), share in zip(wanted, shares, strict=True):
            if share:
                won[bid.id] = won.get(bid.id, 0) + share
                won_by_organization[bid.organization_id] += share
                remaining -= share
                clearing_price = price
    return clearing_price, won


# --- announcing and approving ---


def _whole(value: Any, field: str, *, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(_("%(field)s must be a whole number from %(low)s to %(high)s.")
                           % {"field": field, "low": f"{low:,}", "high": f"{high:,}"}, field=field)
    return value


def _on_tick(instrument: Instrument, price: int) -> None:
    if price % instrument.tick:
        raise errors.InvalidTick(_("The price must be a multiple of %(tick)s.") % {"tick": f"{instrument.tick / 100:.2f}"}, field="price")


def _initiator(user: Any) -> tuple[Organization, bool]:
    """(organization, paid allocation): a national regulator announces paid allocation for its
    ministry; anyone else must be a trading member."""
    if getattr(user, "is_authenticated", False) and user.is_active and user.has_perm("trading.add_auction"):
        organization = access_of(user).organization
        if organization is None:
            raise PermissionDenied(_("You must belong to exactly one organization to announce an auction."))
        return organization, True
    return _trading_organization(user), False


def _initiator_accounts(auction: Auction) -> tuple[Account, Account | None]:
    """(allowances account, cash account) of the initiator; paid allocation: the national issuance
    account and the government revenue account."""
    if auction.paid_allocation:
        return system_account(Account.Kind.NATIONAL_ISSUANCE), system_account(Account.Kind.GOVERNMENT_REVENUE)
    return _accounts_of(auction.organization)


def _reserve_initiator(auction: Auction, *, actor: Any) -> tuple[int, int]:
    """Reserves the initiator's side; returns (amount reserved, tonnes issued first for paid allocation)."""
    instrument = auction.instrument
    issued = 0
    holding, cash = _initiator_accounts(auction)
    reference = f"auction:{auction.pk}"
    movements = []
    if auction.side == Side.SELL:
        asset, account, amount = instrument.asset, holding, auction.quantity
        if auction.paid_allocation:
            row = Balance.objects.filter(account=holding, asset=instrument.asset_id).first()
            shortfall = auction.quantity - (row.available if row else 0)
            if shortfall > 0:
                if not actor.has_perm("registry.issue_allowances"):
                    raise PermissionDenied(_("Only a regulator who may issue allowances announces paid allocation."))
                issued = shortfall
                movements.append(Movement(kind=Transfer.Kind.ISSUANCE, asset=asset, amount=shortfall, destination=holding,
                                          destination_bucket=Bucket.AVAILABLE, reference=reference,
                                          memo="paid allocation auction"))
    else:
        asset, account = cash_asset(), cash
        amount = buy_reservation(auction.reserve_price, auction.quantity, auction.fee_rate)
    movements.append(Movement(kind=Transfer.Kind.RESERVE, asset=asset, amount=amount, source=account,
                              source_bucket=Bucket.AVAILABLE, destination=account, destination_bucket=Bucket.RESERVED,
                              reference=reference))
    try:
        ledger_post(movements, actor=actor)
    except InsufficientBalance:
        if auction.side == Side.BUY:
            raise errors.InsufficientFunds(
                _("The auction needs %(amount)s CNY (value at the reserve price and fee) available.")
                % {"amount": f"{amount / 100:,.2f}"}, field="quantity") from None
        raise errors.InsufficientAllowances(
            _("The auction needs %(amount)s t of %(asset)s available.") % {"amount": f"{amount:,}", "asset": asset.code},
            field="quantity") from None
    return amount, issued


def _release_initiator(auction: Auction, amount: int) -> list[Movement]:
    if amount <= 0:
        return []
    holding, cash = _initiator_accounts(auction)
    asset, account = (auction.instrument.asset, holding) if auction.side == Side.SELL else (cash_asset(), cash)
    return [Movement(kind=Transfer.Kind.RELEASE, asset=asset, amount=amount, source=account, source_bucket=Bucket.RESERVED,
                     destination=account, destination_bucket=Bucket.AVAILABLE, reference=f"auction:{auction.pk}")]


@retry_on_contention
def auction_announce(*, user: Any, instrument: Any, side: str, quantity: Any, reserve_price: Any, starts_at: dt.datetime,
                     ends_at: dt.datetime, client_auction_id: str, min_bid_quantity: Any = 1,
                     max_share_percent: Any = None) -> tuple[Auction, bool]:
    """Announces an auction, reserving the initiator's allowances (a sell) or cash at the reserve
    price (a buy); it waits for the exchange operator's approval. Returns (auction, created): the same
    client_auction_id with the same body returns the first announcement."""
    organization, paid_allocation = _initiator(user)
    client_auction_id = (client_auction_id or "").strip()
    if not client_auction_id or len(client_auction_id) > 64:
        raise InvalidInput(_("Give a client_auction_id of 1 to 64 characters."), field="client_auction_id")
    instrument = _instrument(instrument)
    if side not in Side.values:
        raise errors.InvalidSide(_("The side must be buy or sell, not %(side)s.") % {"side": repr(side)}, field="side")
    if paid_allocation and side != Side.SELL:
        raise errors.InvalidSide(_("Paid allocation is sold: the side must be sell."), field="side")
    quantity = _whole(quantity, "quantity", low=1, high=settings.AUCTION_MAX_QUANTITY)
    price = parse_price(reserve_price)
    _on_tick(instrument, price)
    min_bid_quantity = _whole(min_bid_quantity, "min_bid_quantity", low=1, high=quantity)
    share = settings.AUCTION_MAX_SHARE_PERCENT if max_share_percent is None else max_share_percent
    share = _whole(share, "max_share_percent", low=1, high=100)
    if quantity * share // 100 < min_bid_quantity:
        raise InvalidInput(_("The maximum share (%(share)s t) is below the minimum bid: nobody could bid.")
                           % {"share": f"{quantity * share // 100:,}"}, field="max_share_percent")
    if ends_at <= starts_at:
        raise InvalidInput(_("Bidding must close after it opens."), field="ends_at")
    if ends_at <= timezone.now():
        raise InvalidInput(_("Bidding must close in the future."), field="ends_at")
    body = (instrument.pk, side, quantity, price, min_bid_quantity, share, starts_at, ends_at)
    existing = Auction.objects.filter(organization=organization, client_auction_id=client_auction_id).first()
    if existing is not None:
        return _replay(existing, body), False
    try:
        with transaction.atomic():
            auction = Auction.objects.create(
                instrument=instrument, side=side, organization=organization, paid_allocation=paid_allocation, created_by=user,
                client_auction_id=client_auction_id, quantity=quantity, reserve_price=price, min_bid_quantity=min_bid_quantity,
                max_share_percent=share, starts_at=starts_at, ends_at=ends_at, fee_rate=settings.TRADING_FEE_RATE,
            )
            auction.reserved, issued = _reserve_initiator(auction, actor=user)
            auction.save(update_fields=["reserved", "updated_at"])
            audit_record(actor=user, action="auction.announce", obj=auction, after={
                "instrument": instrument.symbol, "side": side, "quantity": quantity, "reserve_price": price,
                "min_bid_quantity": min_bid_quantity, "max_share_percent": share, "starts_at": starts_at.isoformat(),
                "ends_at": ends_at.isoformat(), "paid_allocation": paid_allocation, "reserved": auction.reserved, "issued": issued,
                "client_auction_id": client_auction_id})
            live.changed(f"org:{organization.pk}", "auctions")
    except IntegrityError:
        existing = Auction.objects.filter(organization=organization, client_auction_id=client_auction_id).first()
        if existing is None:
            raise
        return _replay(existing, body), False
    return auction, True


def _replay(existing: Auction, body: tuple[Any, ...]) -> Auction:
    first = (existing.instrument_id, existing.side, existing.quantity, existing.reserve_price, existing.min_bid_quantity,
             existing.max_share_percent, existing.starts_at, existing.ends_at)
    if first != body:
        raise IdempotencyConflict(
            _("client_auction_id %(id)s was already used for a different auction.") % {"id": repr(existing.client_auction_id)},
            field="client_auction_id")
    return existing


def _locked(auction_id: int) -> Auction:
    auction = Auction.objects.select_for_update(no_key=True, of=("self",)).select_related(
        "instrument__asset", "organization").filter(pk=auction_id).first()
    if auction is None:
        raise NotFound(_("No such auction."), field="id")
    return auction


def _require_approver(user: Any) -> None:
    if not (getattr(user, "is_authenticated", False) and user.is_active and user.has_perm("trading.approve_auction")):
        raise PermissionDenied(_("Only the exchange operator approves auctions."))


def _pending(auction: Auction) -> None:
    if auction.status != Auction.Status.PENDING:
        raise errors.AuctionState(_("The auction is %(status)s, not awaiting approval.")
                                  % {"status": auction.get_status_display().lower()}, field="id")


@retry_on_contention
def auction_approve(*, user: Any, auction_id: int) -> Auction:
    """The checker approves an announcement: bidding opens at its start."""
    _require_approver(user)
    with transaction.atomic():
        auction = _locked(auction_id)
        _pending(auction)
        if auction.created_by_id == user.pk:
            raise errors.MakerChecker(field="id")
        if auction.ends_at <= timezone.now():
            raise errors.AuctionState(_("The bidding window has already ended."), field="id")
        auction.status, auction.approved_by = Auction.Status.APPROVED, user
        auction.save(update_fields=["status", "approved_by", "updated_at"])
        audit_record(actor=user, action="auction.approve", obj=auction, before={"status": Auction.Status.PENDING},
                     after={"status": auction.status})
        live.changed(f"org:{auction.organization_id}", "auctions")
    return auction


@retry_on_contention
def auction_reject(*, user: Any, auction_id: int, reason: str) -> Auction:
    """The checker rejects an announcement, with a reason; the initiator's reservation is released."""
    _require_approver(user)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give the reason for this action."), field="reason")
    with transaction.atomic():
        auction = _locked(auction_id)
        _pending(auction)
        if auction.created_by_id == user.pk:
            raise errors.MakerChecker(field="id")
        ledger_post(_release_initiator(auction, auction.reserved), actor=user)
        auction.status, auction.approved_by, auction.decision_reason, auction.reserved = (
            Auction.Status.REJECTED, user, reason[:500], 0)
        auction.save(update_fields=["status", "approved_by", "decision_reason", "reserved", "updated_at"])
        audit_record(actor=user, action="auction.reject", obj=auction, before={"status": Auction.Status.PENDING},
                     after={"status": auction.status, "reason": reason[:500]})
        live.changed(f"org:{auction.organization_id}", "auctions")
    return auction


# --- bidding ---


def _open_for_bids(auction: Auction) -> None:
    now = timezone.now()
    if auction.status != Auction.Status.APPROVED or not auction.starts_at <= now < auction.ends_at:
        raise errors.AuctionNotOpen(
            _("Bidding is open from %(start)s to %(end)s once the auction is approved.")
            % {"start": timezone.localtime(auction.starts_at).strftime("%Y-%m-%d %H:%M"),
               "end": timezone.localtime(auction.ends_at).strftime("%Y-%m-%d %H:%M")}, field="id")


def _bid_accounts(bid_side: str, organization: Organization, instrument: Instrument) -> tuple[Any, Account]:
    holding, cash = _accounts_of(organization)
    return (cash_asset(), cash) if bid_side == Side.BUY else (instrument.asset, holding)


@retry_on_contention
def auction_bid_place(*, user: Any, auction_id: int, price: Any, quantity: Any, client_bid_id: str) -> tuple[AuctionBid, bool]:
    """Places a sealed bid, reserving cash at its price (a sell auction) or its allowances (a buy
    auction). Returns (bid, created); the same client_bid_id with the same body returns the first bid."""
    organization = _trading_organization(user)
    client_bid_id = (client_bid_id or "").strip()
    if not client_bid_id or len(client_bid_id) > 64:
        raise InvalidInput(_("Give a client_bid_id of 1 to 64 characters."), field="client_bid_id")
    price_fen = parse_price(price)
    with transaction.atomic():
        auction = _locked(auction_id)
        if auction.status not in (Auction.Status.APPROVED, Auction.Status.CLOSED) and auction.organization_id != organization.pk:
            raise NotFound(_("No such auction."), field="id")
        existing = AuctionBid.objects.filter(auction=auction, organization=organization, client_bid_id=client_bid_id).first()
        if existing is not None:
            if (existing.price, existing.quantity) != (price_fen, quantity):
                raise IdempotencyConflict(_("client_bid_id %(id)s was already used for a different bid.") % {"id": repr(client_bid_id)},
                                          field="client_bid_id")
            return existing, False
        if auction.organization_id == organization.pk:
            raise errors.OwnAuction(field="id")
        _open_for_bids(auction)
        quantity = _whole(quantity, "quantity", low=1, high=settings.AUCTION_MAX_QUANTITY)
        _on_tick(auction.instrument, price_fen)
        if (price_fen < auction.reserve_price) if auction.side == Side.SELL else (price_fen > auction.reserve_price):
            raise errors.PriceBeyondReserve(
                (_("Bids must be at or above the reserve price of %(price)s.") if auction.side == Side.SELL
                 else _("Offers must be at or below the reserve price of %(price)s."))
                % {"price": f"{auction.reserve_price / 100:.2f}"}, field="price")
        if quantity < auction.min_bid_quantity:
            raise errors.BelowMinimumBid(_("A bid is at least %(min)s t.") % {"min": f"{auction.min_bid_quantity:,}"}, field="quantity")
        if quantity > auction.max_share:
            raise errors.AboveShareCap(_("One bidder may win at most %(max)s t (%(share)s%% of the auction).")
                                       % {"max": f"{auction.max_share:,}", "share": auction.max_share_percent}, field="quantity")
        bid_side = Side.BUY if auction.side == Side.SELL else Side.SELL
        rate = settings.TRADING_FEE_RATE
        asset, account = _bid_accounts(bid_side, organization, auction.instrument)
        if bid_side == Side.BUY:
            position_check(organization, auction.instrument, quantity)
        amount = buy_reservation(price_fen, quantity, rate) if bid_side == Side.BUY else quantity
        bid = AuctionBid.objects.create(auction=auction, organization=organization, placed_by=user, client_bid_id=client_bid_id,
                                        price=price_fen, quantity=quantity, fee_rate=rate, reserved=amount)
        try:
            ledger_post([Movement(kind=Transfer.Kind.RESERVE, asset=asset, amount=amount, source=account,
                                  source_bucket=Bucket.AVAILABLE, destination=account, destination_bucket=Bucket.RESERVED,
                                  reference=f"auction:{auction.pk}")], actor=user)
        except InsufficientBalance:
            if bid_side == Side.BUY:
                raise errors.InsufficientFunds(_("The bid needs %(amount)s CNY (value and fee) available.")
                                               % {"amount": f"{amount / 100:,.2f}"}, field="quantity") from None
            raise errors.InsufficientAllowances(_("The bid needs %(amount)s t of %(asset)s available.")
                                                % {"amount": f"{amount:,}", "asset": asset.code}, field="quantity") from None
        audit_record(actor=user, action="auction.bid", obj=bid, after={
            "auction": auction.pk, "price": price_fen, "quantity": quantity, "reserved": amount, "client_bid_id": client_bid_id})
        live.changed(f"org:{organization.pk}")
    return bid, True


@retry_on_contention
def auction_bid_withdraw(*, user: Any, auction_id: int, bid_id: int) -> AuctionBid:
    """Withdraws one's open bid before the close, releasing its reservation."""
    organization = _trading_organization(user)
    with transaction.atomic():
        auction = _locked(auction_id)
        bid = AuctionBid.objects.select_for_update(no_key=True).filter(pk=bid_id, auction=auction, organization=organization).first()
        if bid is None:
            raise NotFound(_("No such bid."), field="bid_id")
        if bid.status != AuctionBid.Status.OPEN:
            raise errors.AuctionState(_("The bid is %(status)s.") % {"status": bid.get_status_display().lower()}, field="bid_id")
        _open_for_bids(auction)
        bid_side = Side.BUY if auction.side == Side.SELL else Side.SELL
        asset, account = _bid_accounts(bid_side, organization, auction.instrument)
        ledger_post([Movement(kind=Transfer.Kind.RELEASE, asset=asset, amount=bid.reserved, source=account,
                              source_bucket=Bucket.RESERVED, destination=account, destination_bucket=Bucket.AVAILABLE,
                              reference=f"auction:{auction.pk}")], actor=user)
        bid.status, bid.reserved = AuctionBid.Status.WITHDRAWN, 0
        bid.save(update_fields=["status", "reserved", "updated_at"])
        audit_record(actor=user, action="auction.bid_withdraw", obj=bid, before={"status": AuctionBid.Status.OPEN},
                     after={"status": bid.status})
        live.changed(f"org:{organization.pk}")
    return bid


# --- the close ---


def auction_close(*, auction_id: int, actor: Any = None) -> Auction:
    """Clears an approved auction whose window has ended and settles it (see the module docstring);
    lapses a still-pending one, releasing the initiator. Safe to run twice: anything else is left."""
    with transaction.atomic():
        auction = _locked(auction_id)
        if auction.ends_at > timezone.now():
            return auction
        if auction.status == Auction.Status.PENDING:
            ledger_post(_release_initiator(auction, auction.reserved), actor=actor)
            auction.status, auction.reserved = Auction.Status.LAPSED, 0
            auction.save(update_fields=["status", "reserved", "updated_at"])
            audit_record(actor=actor, action="auction.lapse", obj=auction, before={"status": Auction.Status.PENDING},
                         after={"status": auction.status})
            return auction
        if auction.status != Auction.Status.APPROVED:
            return auction
        bids = list(AuctionBid.objects.select_for_update(no_key=True).filter(auction=auction, status=AuctionBid.Status.OPEN)
                    .order_by("pk"))
        clearing_price, won = auction_clear(
            side=auction.side, quantity=auction.quantity, reserve_price=auction.reserve_price, max_share=auction.max_share,
            bids=[SealedBid(bid.pk, bid.organization_id, bid.price, bid.quantity) for bid in bids])
        now, day = timezone.now(), trading_day()
        selling = auction.side == Side.SELL
        trades = []
        for bid in bids:
            bid.won_quantity = won.get(bid.pk, 0)
            bid.status = AuctionBid.Status.WON if bid.won_quantity else AuctionBid.Status.LOST
            if bid.won_quantity:
                assert clearing_price is not None
                value = clearing_price * bid.won_quantity
                # The seller of paid allocation is the state: no seller's fee.
                initiator_fee = 0 if auction.paid_allocation else fee_for(value, auction.fee_rate)
                bidder_fee = fee_for(value, bid.fee_rate)
                trades.append(Trade(
                    instrument_id=auction.instrument_id, kind=Trade.Kind.AUCTION, auction_bid=bid,
                    buyer_id=bid.organization_id if selling else auction.organization_id,
                    seller_id=auction.organization_id if selling else bid.organization_id,
                    price=clearing_price, quantity=bid.won_quantity, aggressor_side=Side.BUY if selling else Side.SELL,
                    buyer_fee=bidder_fee if selling else initiator_fee, seller_fee=initiator_fee if selling else bidder_fee,
                    trading_day=day, executed_at=now, settled_at=now))
        Trade.objects.bulk_create(trades, batch_size=1000)
        movements = _settlement(auction, bids, trades)
        ledger_post(movements, actor=actor)
        for bid in bids:
            bid.reserved = 0
        AuctionBid.objects.bulk_update(bids, ["status", "won_quantity", "reserved", "updated_at"], batch_size=1000)
        sold = sum(trade.quantity for trade in trades)
        auction.status, auction.clearing_price, auction.quantity_filled = Auction.Status.CLOSED, clearing_price, sold
        auction.bidder_count = len({bid.organization_id for bid in bids})
        auction.bid_quantity = sum(bid.quantity for bid in bids)
        auction.closed_at, auction.reserved = now, 0
        auction.save(update_fields=["status", "clearing_price", "quantity_filled", "bidder_count", "bid_quantity", "closed_at",
                                    "reserved", "updated_at"])
        audit_record(actor=actor, action="auction.close", obj=auction, before={"status": Auction.Status.APPROVED}, after={
            "status": auction.status, "clearing_price": clearing_price, "quantity_filled": sold, "bidders": auction.bidder_count,
            "bid_quantity": auction.bid_quantity, "trades": [trades[0].pk, trades[-1].pk] if trades else []})
        live.changed("auctions", f"org:{auction.organization_id}", *sorted({f"org:{bid.organization_id}" for bid in bids}))
    return auction


def _settlement(auction: Auction, bids: list[AuctionBid], trades: list[Trade]) -> list[Movement]:
    """The close's one posting: delivery versus payment per trade, then every release."""
    selling = auction.side == Side.SELL
    asset, cny, fees = auction.instrument.asset, cash_asset(), fees_account()
    accounts = participant_accounts_cached({bid.organization_id for bid in bids})
    initiator_holding, initiator_cash = _initiator_accounts(auction)
    reference = f"auction:{auction.pk}"
    movements: list[Movement] = []

    def release(account: Account, what: Any, amount: int) -> None:
        if amount > 0:
            movements.append(Movement(kind=Transfer.Kind.RELEASE, asset=what, amount=amount, source=account,
                                      source_bucket=Bucket.RESERVED, destination=account, destination_bucket=Bucket.AVAILABLE,
                                      reference=reference))

    trade_of = {trade.auction_bid_id: trade for trade in trades}
    initiator_spent = 0
    for bid in bids:
        holding, cash = accounts[bid.organization_id]
        trade = trade_of.get(bid.pk)
        reserved = bid.reserved
        if trade is None:
            release(cash if selling else holding, cny if selling else asset, reserved)
            continue
        seller_holding, buyer_holding = (initiator_holding, holding) if selling else (holding, initiator_holding)
        buyer_cash, seller_cash = (cash, initiator_cash) if selling else (initiator_cash, cash)
        trade_reference = f"trade:{trade.pk}"
        movements.append(Movement(kind=Transfer.Kind.TRADE_SETTLEMENT, asset=asset, amount=trade.quantity, source=seller_holding,
                                  source_bucket=Bucket.RESERVED, destination=buyer_holding, destination_bucket=Bucket.PENDING,
                                  reference=trade_reference))
        if trade.value - trade.seller_fee:
            movements.append(Movement(kind=Transfer.Kind.TRADE_SETTLEMENT, asset=cny, amount=trade.value - trade.seller_fee,
                                      source=buyer_cash, source_bucket=Bucket.RESERVED, destination=seller_cash,
                                      destination_bucket=Bucket.AVAILABLE, reference=trade_reference))
        for fee, memo in ((trade.buyer_fee, "buyer's fee"), (trade.seller_fee, "seller's fee, withheld from the proceeds")):
            if fee:
                movements.append(Movement(kind=Transfer.Kind.FEE, asset=cny, amount=fee, source=buyer_cash,
                                          source_bucket=Bucket.RESERVED, destination=fees, destination_bucket=Bucket.AVAILABLE,
                                          reference=trade_reference, memo=memo))
        if selling:
            release(cash, cny, reserved - trade.value - trade.buyer_fee)  # it reserved at its own price
            initiator_spent += trade.quantity
        else:
            release(holding, asset, reserved - trade.quantity)
            initiator_spent += trade.value + trade.buyer_fee
    movements += _release_initiator(auction, auction.reserved - initiator_spent)
    return movements


def auctions_close_due(*, actor: Any = None) -> list[int]:
    """Closes (or lapses) every approved or pending auction whose window has ended; returns the ids of
    those it closed. One that the ledger refuses (an account closed meanwhile) is logged and left,
    whole, for an operator: it does not stop the others."""
    due = list(Auction.objects.filter(status__in=[Auction.Status.APPROVED, Auction.Status.PENDING], ends_at__lte=timezone.now())
               .order_by("ends_at", "pk").values_list("pk", flat=True))
    closed = []
    for auction_id in due:
        try:
            auction_close(auction_id=auction_id, actor=actor)
        except DomainError as error:
            logger.error("auction %s not closed: %s (%s)", auction_id, error.message, error.code)
            continue
        closed.append(auction_id)
    return closed


# --- reads ---


def _sees_every_auction(user: Any) -> bool:
    return user.has_perm("trading.approve_auction") or user.has_perm("trading.add_auction") or user.has_perm("trading.view_auction")


def auctions_visible_to(user: Any) -> QuerySet[Auction]:
    """Exchange and regulator staff see every auction; members see approved and closed ones, and their own."""
    from accounts.selectors import user_organization_ids

    auctions = Auction.objects.select_related("instrument", "organization")
    if _sees_every_auction(user):
        return auctions
    return auctions.filter(Q(status__in=[Auction.Status.APPROVED, Auction.Status.CLOSED])
                           | Q(organization_id__in=user_organization_ids(user)))


def auction_get_for(user: Any, auction_id: int) -> Auction:
    auction = auctions_visible_to(user).filter(pk=auction_id).first()
    if auction is None:
        raise NotFound(_("No such auction."), field="id")
    return auction


def bids_of(user: Any, auction: Auction) -> QuerySet[AuctionBid]:
    """One's own bids only: bids are sealed."""
    from accounts.selectors import user_organization_ids

    return AuctionBid.objects.filter(auction=auction, organization_id__in=user_organization_ids(user)).order_by("pk")


def auction_results(auction: Auction) -> dict[str, Any]:
    """The published aggregate (after the close only; before it every figure is None)."""
    closed = auction.status == Auction.Status.CLOSED
    return {
        "id": auction.pk, "status": auction.status, "published": closed,
        "clearing_price": auction.clearing_price if closed else None,
        "quantity_offered": auction.quantity,
        "quantity_traded": auction.quantity_filled if closed else None,
        "bidders": auction.bidder_count if closed else None,
        "quantity_bid": auction.bid_quantity if closed else None,
        "cover_ratio": f"{auction.bid_quantity / auction.quantity:.2f}" if closed else None,
        "closed_at": auction.closed_at,
    }
