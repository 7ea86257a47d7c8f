"""The baseline the matcher is measured against: each order accepted AND matched inside its own
transaction that locks the instrument row and the crossing resting orders (on CEA22, so that it
never shares a book with the real matcher). Not part of the platform."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from accounts.models import Membership
from registry.models import Asset, Bucket, Transfer
from registry.services import Movement, ledger_post
from trading.clock import trading_day
from trading.fees import buy_reservation, fee_for
from trading.models import Instrument, MatchingPosition, Order, Trade
from trading.participants import participant_accounts

_organizations: dict[int, int] = {}


def naive_place(trader, side: str, price: int, quantity: int, client_order_id: str) -> int:
    organization_id = _organizations.get(trader.pk)
    if organization_id is None:
        organization_id = _organizations[trader.pk] = Membership.objects.get(user=trader).organization_id
    rate = settings.TRADING_FEE_RATE
    with transaction.atomic():
        instrument = Instrument.objects.select_for_update().select_related("asset").get(symbol="CEA22")
        cny = Asset.objects.get(code="CNY")
        holding, cash = participant_accounts({organization_id})[organization_id]
        amount = buy_reservation(price, quantity, rate) if side == "buy" else quantity
        account, asset = (cash, cny) if side == "buy" else (holding, instrument.asset)
        ledger_post([Movement(kind=Transfer.Kind.RESERVE, asset=asset, amount=amount, source=account,
                              source_bucket=Bucket.AVAILABLE, destination=account, destination_bucket=Bucket.RESERVED)])
        instrument.last_sequence += 1
        instrument.save(update_fields=["last_sequence"])
        MatchingPosition.objects.filter(instrument=instrument).update(matched_sequence=instrument.last_sequence)
        order = Order.objects.create(
            instrument=instrument, organization_id=organization_id, placed_by=trader, client_order_id=client_order_id,
            side=side, price=price, quantity=quantity, sequence=instrument.last_sequence, fee_rate=rate, reserved=amount,
            trading_day=trading_day(), status=Order.Status.OPEN,
        )
        crossing = Order.objects.select_for_update().filter(instrument=instrument, status__in=Order.RESTING)
        if side == "buy":
            crossing = crossing.filter(side="sell", price__lte=price).order_by("price", "sequence")
        else:
            crossing = crossing.filter(side="buy", price__gte=price).order_by("-price", "sequence")
        releases = []
        for maker in crossing[:50]:
            if order.remaining == 0:
                break
            if maker.organization_id == organization_id:
                releases.append((order, order.reserved))
                order.reserved, order.status = 0, Order.Status.CANCELLED
                break
            fill = min(order.remaining, maker.remaining)
            buy, sell = (order, maker) if side == "buy" else (maker, order)
            value = maker.price * fill
            Trade.objects.create(instrument=instrument, buy_order=buy, sell_order=sell, buyer_id=buy.organization_id,
                                 seller_id=sell.organization_id, price=maker.price, quantity=fill, aggressor_side=side,
                                 buyer_fee=fee_for(value, rate), seller_fee=fee_for(value, rate),
                                 sequence=order.sequence, trading_day=order.trading_day, executed_at=order.created_at)
            buy.filled_quantity += fill
            sell.filled_quantity += fill
            keep = buy_reservation(buy.price, buy.remaining, rate)
            refund = buy.reserved - value - fee_for(value, rate) - keep
            buy.reserved = keep
            if refund:
                releases.append((buy, refund))
            sell.reserved -= fill
            maker.status = Order.Status.FILLED if maker.remaining == 0 else Order.Status.PARTIALLY_FILLED
            maker.save(update_fields=["filled_quantity", "reserved", "status"])
        if order.status != Order.Status.CANCELLED:
            order.status = Order.Status.FILLED if order.remaining == 0 else (
                Order.Status.PARTIALLY_FILLED if order.filled_quantity else Order.Status.OPEN)
        order.save(update_fields=["filled_quantity", "reserved", "status"])
        if releases:
            accounts = participant_accounts({o.organization_id for o, _ in releases})
            ledger_post([
                Movement(kind=Transfer.Kind.RELEASE, asset=cny if o.side == "buy" else instrument.asset, amount=amount,
                         source=accounts[o.organization_id][1 if o.side == "buy" else 0], source_bucket=Bucket.RESERVED,
                         destination=accounts[o.organization_id][1 if o.side == "buy" else 0],
                         destination_bucket=Bucket.AVAILABLE)
                for o, amount in releases
            ])
    return order.pk
