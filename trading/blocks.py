"""Block agreement trading (大宗协议; RULEBOOK "Block trades, auctions and surveillance").

A member posts an offer to buy or sell BLOCK_MIN_QUANTITY t or more at a price within
BLOCK_BAND_PERCENT of the previous close, public or directed to one counterparty (by USCC); posting
reserves what an order would (cash for value and fee, or allowances). Another member accepts the
whole offer: acceptance reserves the acceptor's side, records one trade of kind `block` and hands it
to the same delivery-versus-payment settlement as listed trades (allowances pending until the end of
day, T+1). Offers are posted and accepted only in BLOCK_SESSIONS; an open offer can be withdrawn, and
the end of day expires what is left. Block trades stay out of the listed open, close and reference
price; the daily bar reports their volume and turnover apart.

Lock order: the offer's row first (FOR UPDATE: two acceptances of one offer queue there, and the
second finds it accepted), then balances through the ledger. Nothing locks a balance and then an offer.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organization
from core import live
from core.audit import audit_record
from core.contention import retry_on_contention
from core.errors import IdempotencyConflict, InsufficientBalance, InvalidInput, NotFound
from registry.models import Account, Bucket, Transfer
from registry.services import Movement, ledger_post
from trading import errors
from trading.clock import is_block_time, trading_day
from trading.fees import buy_reservation, fee_for
from trading.models import BlockOffer, Instrument, Order, Side, Trade
from trading.participants import cash_asset
from trading.services import _accounts_of, _trading_organization, block_offer_release, parse_price
from trading.settlement import settlement_queue


def block_limits(instrument: Instrument) -> tuple[int, int]:
    """(lowest, highest) block price in fen: the reference price +- BLOCK_BAND_PERCENT, on the tick."""
    band = settings.BLOCK_BAND_PERCENT
    lower = -(-instrument.reference_price * (100 - band) // 100)
    upper = instrument.reference_price * (100 + band) // 100
    return -(-lower // instrument.tick) * instrument.tick, upper // instrument.tick * instrument.tick


def _validate(instrument: Instrument, side: str, price: int, quantity: Any) -> None:
    if side not in Side.values:
        raise errors.InvalidSide(_("The side must be buy or sell, not %(side)s.") % {"side": repr(side)}, field="side")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise errors.QuantityOutOfRange(_("The quantity must be a whole number of tonnes."), field="quantity")
    if quantity < settings.BLOCK_MIN_QUANTITY:
        raise errors.BelowBlockMinimum(
            _("A block trade is at least %(min)s t; smaller orders go to the order book.") % {"min": f"{settings.BLOCK_MIN_QUANTITY:,}"},
            field="quantity")
    if quantity > settings.BLOCK_MAX_QUANTITY:
        raise errors.QuantityOutOfRange(
            _("A block offer is at most %(max)s t.") % {"max": f"{settings.BLOCK_MAX_QUANTITY:,}"}, field="quantity")
    if price % instrument.tick:
        raise errors.InvalidTick(_("The price must be a multiple of %(tick)s.") % {"tick": f"{instrument.tick / 100:.2f}"}, field="price")
    lower, upper = block_limits(instrument)
    if not lower <= price <= upper:
        raise errors.PriceOutOfBand(
            _("Block prices today are %(lower)s to %(upper)s (%(band)s%% around the previous close).")
            % {"lower": f"{lower / 100:.2f}", "upper": f"{upper / 100:.2f}", "band": settings.BLOCK_BAND_PERCENT},
            field="price")
    _tradeable(instrument)


def _tradeable(instrument: Instrument) -> None:
    if instrument.status == Instrument.Status.HALTED:
        raise errors.InstrumentHalted(_("Trading in %(symbol)s is halted.") % {"symbol": instrument.symbol})
    if instrument.status == Instrument.Status.CLOSED:
        raise errors.MarketClosed(_("%(symbol)s is not trading now.") % {"symbol": instrument.symbol})
    if not is_block_time():
        sessions = ", ".join(f"{start:%H:%M}-{end:%H:%M}" for start, end in settings.BLOCK_SESSIONS)
        raise errors.BlockSessionClosed(
            _("Block trading is open %(sessions)s (market time) on trading days.") % {"sessions": sessions})


def _counterparty(uscc: str, poster: Organization) -> Organization | None:
    uscc = (uscc or "").strip().upper()
    if not uscc:
        return None
    counterparty = Organization.objects.filter(uscc=uscc, status=Organization.Status.ACTIVE).exclude(
        kind=Organization.Kind.SYSTEM).first()
    if counterparty is None or not Account.objects.filter(organization=counterparty, kind=Account.Kind.HOLDING).exists():
        raise InvalidInput(_("No trading member has the USCC %(uscc)s.") % {"uscc": uscc[:24]}, field="counterparty")
    if counterparty.pk == poster.pk:
        raise InvalidInput(_("An offer cannot be directed to your own organization."), field="counterparty")
    return counterparty


def _reserve(organization: Organization, instrument: Instrument, side: str, price: int, quantity: int,
             rate: Any, *, actor: Any, reference: str) -> int:
    """Reserves the cash (value and fee) of a buy or the allowances of a sell; returns the amount."""
    holding, cash = _accounts_of(organization)
    if side == Side.BUY:
        asset, account, amount = cash_asset(), cash, buy_reservation(price, quantity, rate)
        position_check(organization, instrument, quantity)
    else:
        asset, account, amount = instrument.asset, holding, quantity
    try:
        ledger_post([Movement(kind=Transfer.Kind.RESERVE, asset=asset, amount=amount, source=account,
                              source_bucket=Bucket.AVAILABLE, destination=account, destination_bucket=Bucket.RESERVED,
                              reference=reference)], actor=actor)
    except InsufficientBalance:
        if side == Side.BUY:
            raise errors.InsufficientFunds(
                _("The block needs %(amount)s CNY (value and fee) available.") % {"amount": f"{amount / 100:,.2f}"},
                field="quantity") from None
        raise errors.InsufficientAllowances(
            _("The block needs %(amount)s t of %(asset)s available.") % {"amount": f"{amount:,}", "asset": instrument.asset.code},
            field="quantity") from None
    return amount


def position_check(organization: Organization, instrument: Instrument, quantity: int) -> None:
    """RULEBOOK position limit for a block buy or a buying auction bid: tonnes held + tonnes on open
    buys (live listed buy orders, open block buy offers, open buying bids in auctions) + this one.
    (Order entry checks its own buys on its hot path: trading.services._check_position.)"""
    from registry.models import Balance
    from trading.models import AuctionBid

    holding = _accounts_of(organization)[0]
    row = Balance.objects.filter(account=holding, asset=instrument.asset_id).first()
    held = row.total if row else 0
    open_buys = Order.objects.filter(organization=organization, instrument=instrument, side=Side.BUY, status__in=Order.LIVE
                                     ).aggregate(q=Sum(F("quantity") - F("filled_quantity")))["q"] or 0
    open_buys += BlockOffer.objects.filter(organization=organization, instrument=instrument, side=Side.BUY,
                                           status=BlockOffer.Status.OPEN).aggregate(q=Sum("quantity"))["q"] or 0
    open_buys += AuctionBid.objects.filter(organization=organization, auction__instrument=instrument, auction__side=Side.SELL,
                                           status=AuctionBid.Status.OPEN).aggregate(q=Sum("quantity"))["q"] or 0
    limit = settings.TRADING_POSITION_LIMIT
    if held + open_buys + quantity > limit:
        raise errors.PositionLimit(
            _("Holding %(held)s t with %(open)s t on open buys, offers and bids, this one would exceed the %(limit)s t limit.")
            % {"held": f"{held:,}", "open": f"{open_buys:,}", "limit": f"{limit:,}"}, field="quantity")


def _instrument(symbol: Any) -> Instrument:
    instrument = Instrument.objects.select_related("asset").filter(symbol=str(symbol or "")).first()
    if instrument is None:
        raise errors.UnknownInstrument(_("No instrument %(symbol)s.") % {"symbol": repr(str(symbol)[:24])}, field="instrument")
    return instrument


@retry_on_contention
def block_offer_post(*, user: Any, instrument: Any, side: str, price: Any, quantity: Any, client_order_id: str,
                     counterparty: str = "") -> tuple[BlockOffer, bool]:
    """Posts a block offer (reserving its cash or allowances). Returns (offer, created): the same
    client_order_id with the same body returns the first offer; another body is an idempotency conflict."""
    organization = _trading_organization(user)
    client_order_id = (client_order_id or "").strip()
    if not client_order_id or len(client_order_id) > 64:
        raise InvalidInput(_("Give a client_order_id of 1 to 64 characters."), field="client_order_id")
    existing = BlockOffer.objects.filter(organization=organization, client_order_id=client_order_id).select_related("instrument", "counterparty").first()
    instrument = _instrument(instrument)
    price_fen = parse_price(price)
    if existing is not None:
        return _replay(existing, instrument, side, price_fen, quantity, counterparty), False
    _validate(instrument, side, price_fen, quantity)
    directed = _counterparty(counterparty, organization)
    rate = settings.TRADING_FEE_RATE
    try:
        with transaction.atomic():
            offer = BlockOffer.objects.create(
                instrument=instrument, organization=organization, posted_by=user, client_order_id=client_order_id,
                side=side, price=price_fen, quantity=quantity, counterparty=directed, fee_rate=rate, reserved=0,
                trading_day=trading_day(),
            )
            offer.reserved = _reserve(organization, instrument, side, price_fen, quantity, rate, actor=user,
                                      reference=f"block:{offer.pk}")
            offer.save(update_fields=["reserved", "updated_at"])
            audit_record(actor=user, action="block.post", obj=offer, after={
                "instrument": instrument.symbol, "side": side, "price": price_fen, "quantity": quantity,
                "counterparty": directed.uscc if directed else None, "client_order_id": client_order_id, "reserved": offer.reserved})
            live.changed(f"org:{organization.pk}")  # (its balances: the reservation)
    except IntegrityError:
        existing = BlockOffer.objects.filter(organization=organization, client_order_id=client_order_id).first()
        if existing is None:
            raise
        return _replay(existing, instrument, side, price_fen, quantity, counterparty), False
    return offer, True


def _replay(existing: BlockOffer, instrument: Instrument, side: str, price: int, quantity: Any, counterparty: str) -> BlockOffer:
    first = (existing.instrument_id, existing.side, existing.price, existing.quantity,
             existing.counterparty.uscc if existing.counterparty_id else "")
    if first != (instrument.pk, side, price, quantity, (counterparty or "").strip().upper()):
        raise IdempotencyConflict(
            _("client_order_id %(id)s was already used for a different offer.") % {"id": repr(existing.client_order_id)},
            field="client_order_id")
    return existing


def offers_visible_to(user: Any) -> QuerySet[BlockOffer]:
    """Open offers a member may accept or watch (public, or directed to it) and its own of any status."""
    from accounts.selectors import user_organization_ids

    mine = user_organization_ids(user)
    return BlockOffer.objects.filter(
        Q(organization_id__in=mine) | Q(accepted_by_id__in=mine)
        | Q(status=BlockOffer.Status.OPEN) & (Q(counterparty__isnull=True) | Q(counterparty_id__in=mine))
    ).select_related("instrument", "counterparty", "organization")


def block_offer_get_for(user: Any, offer_id: int) -> BlockOffer:
    offer = offers_visible_to(user).filter(pk=offer_id).first()
    if offer is None:
        raise NotFound(_("No such block offer."), field="id")
    return offer


@retry_on_contention
def block_offer_withdraw(*, user: Any, offer_id: int) -> BlockOffer:
    """Withdraws an open offer of the user's organization and releases its reservation."""
    organization = _trading_organization(user)
    with transaction.atomic():
        offer = BlockOffer.objects.select_for_update(of=("self",)).select_related("instrument__asset", "organization").filter(
            pk=offer_id, organization=organization).first()
        if offer is None:
            raise NotFound(_("No such block offer."), field="id")
        if offer.status != BlockOffer.Status.OPEN:
            raise errors.OfferNotOpen(_("The offer is %(status)s.") % {"status": offer.get_status_display().lower()}, field="id")
        block_offer_release(offer, actor=user)
        offer.status = BlockOffer.Status.WITHDRAWN
        offer.save(update_fields=["status", "reserved", "updated_at"])
        audit_record(actor=user, action="block.withdraw", obj=offer, before={"status": BlockOffer.Status.OPEN},
                     after={"status": offer.status})
        live.changed(f"org:{organization.pk}")
    return offer


@retry_on_contention
def block_offer_accept(*, user: Any, offer_id: int, client_order_id: str) -> tuple[Trade, bool]:
    """Accepts a whole open offer: reserves the acceptor's side and records the block trade, which the
    settlement then delivers against payment. Two acceptances of one offer: the first trades, the
    second is `offer_not_open` (or, with the same client_order_id from the same member, the same trade)."""
    organization = _trading_organization(user)
    client_order_id = (client_order_id or "").strip()
    if not client_order_id or len(client_order_id) > 64:
        raise InvalidInput(_("Give a client_order_id of 1 to 64 characters."), field="client_order_id")
    try:
        with transaction.atomic():
            offer = BlockOffer.objects.select_for_update(of=("self",)).select_related("instrument__asset", "organization").filter(
                pk=offer_id).first()
            if offer is None:
                raise NotFound(_("No such block offer."), field="id")
            if offer.status == BlockOffer.Status.ACCEPTED and offer.accepted_by_id == organization.pk \
                    and offer.accept_client_order_id == client_order_id:
                return offer.trade, False
            if offer.counterparty_id not in (None, organization.pk) and offer.organization_id != organization.pk:
                raise errors.NotCounterparty(field="id")
            if offer.status != BlockOffer.Status.OPEN or offer.trading_day != trading_day():
                raise errors.OfferNotOpen(_("The offer is %(status)s.") % {
                    "status": offer.get_status_display().lower() if offer.status != BlockOffer.Status.OPEN else _("expired")}, field="id")
            if offer.organization_id == organization.pk:
                raise errors.NotCounterparty(_("This is your own offer: another member must accept it."), field="id")
            instrument = Instrument.objects.select_related("asset").get(pk=offer.instrument_id)
            _tradeable(instrument)
            side = Side.SELL if offer.side == Side.BUY else Side.BUY
            rate = settings.TRADING_FEE_RATE
            _reserve(organization, instrument, side, offer.price, offer.quantity, rate, actor=user, reference=f"block:{offer.pk}")
            buyer, seller = (offer.organization, organization) if offer.side == Side.BUY else (organization, offer.organization)
            buyer_rate, seller_rate = (offer.fee_rate, rate) if offer.side == Side.BUY else (rate, offer.fee_rate)
            value = offer.price * offer.quantity
            trade = Trade.objects.create(
                instrument=instrument, kind=Trade.Kind.BLOCK, block_offer=offer, buyer=buyer, seller=seller,
                price=offer.price, quantity=offer.quantity, aggressor_side=side,
                buyer_fee=fee_for(value, buyer_rate), seller_fee=fee_for(value, seller_rate),
                trading_day=trading_day(), executed_at=timezone.now(),
            )
            # The offer's reservation is now the trade's, which settlement consumes.
            offer.status, offer.reserved = BlockOffer.Status.ACCEPTED, 0
            offer.accepted_by, offer.accept_client_order_id = organization, client_order_id
            offer.save(update_fields=["status", "reserved", "accepted_by", "accept_client_order_id", "updated_at"])
            audit_record(actor=user, action="block.accept", obj=offer, before={"status": BlockOffer.Status.OPEN},
                         after={"status": offer.status, "trade": trade.pk, "client_order_id": client_order_id})
            transaction.on_commit(lambda: settlement_queue([trade.pk]))
            live.changed(f"org:{buyer.pk}", f"org:{seller.pk}")
    except IntegrityError:
        # This member's client_order_id already accepted another offer.
        raise IdempotencyConflict(
            _("client_order_id %(id)s was already used for a different acceptance.") % {"id": repr(client_order_id)},
            field="client_order_id") from None
    return trade, True
