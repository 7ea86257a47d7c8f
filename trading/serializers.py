"""API shapes of the exchange. Prices leave as strings with two decimals; quantities as integers."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.money import format_minor_units
from core.numbers import QuantityField
from core.serializers import InputSerializer, ShallowFieldsSerializer
from trading.models import Auction, AuctionBid, BlockOffer, Instrument, Order, Side, Trade


@extend_schema_field({"type": "string", "example": "48.00", "nullable": True})
class PriceField(serializers.Field):
    def __init__(self, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: int | None) -> str | None:
        return None if value is None else format_minor_units(value, 2)


class InstrumentOut(serializers.ModelSerializer):
    vintage = serializers.CharField(source="asset.vintage")
    tick = PriceField()
    reference_price = PriceField()
    lower_limit = PriceField()
    upper_limit = PriceField()
    limits = serializers.SerializerMethodField()

    class Meta:
        model = Instrument
        fields = ["symbol", "vintage", "tick", "limits", "reference_price", "lower_limit", "upper_limit", "status"]

    @extend_schema_field({"type": "object", "properties": {"min_quantity": {"type": "integer"}, "max_quantity": {"type": "integer"}, "band_percent": {"type": "integer"}}})
    def get_limits(self, instrument: Instrument) -> dict[str, int]:
        return {"min_quantity": instrument.min_quantity, "max_quantity": instrument.max_quantity, "band_percent": instrument.band_percent}


class LevelOut(ShallowFieldsSerializer):
    price = PriceField()
    quantity = serializers.IntegerField()
    orders = serializers.IntegerField()


class BookOut(ShallowFieldsSerializer):
    symbol = serializers.CharField()
    bids = LevelOut(many=True)
    asks = LevelOut(many=True)
    last_price = PriceField()
    reference_price = PriceField()
    lower_limit = PriceField()
    upper_limit = PriceField()


class TapeOut(serializers.ModelSerializer):
    price = PriceField()

    class Meta:
        model = Trade
        fields = ["id", "price", "quantity", "aggressor_side", "executed_at"]


class CandleOut(serializers.Serializer):
    time = serializers.CharField()
    open = PriceField()
    high = PriceField()
    low = PriceField()
    close = PriceField()
    volume = serializers.IntegerField()
    turnover = PriceField(required=False)


class OrderIn(InputSerializer):
    instrument = serializers.CharField(min_length=1, max_length=16)
    side = serializers.ChoiceField(choices=Side.choices)
    price = serializers.CharField(min_length=1, max_length=20, help_text='CNY per tonne with at most two decimals, e.g. "48.00"')
    quantity = QuantityField(help_text="Whole tonnes, 1 to 99,999: a JSON integer (49.5, 1000.0 and 4.9e1 are refused)")
    client_order_id = serializers.CharField(
        max_length=64, default="",
        help_text="Your unique id: repeating it returns the same order. Required, here or as the Idempotency-Key header.",
    )


class OrderOut(ShallowFieldsSerializer):
    # Declared field by field rather than as a ModelSerializer, which builds its fields from the
    # model again for every instance: on every order's answer that cost a quarter of a millisecond.
    id = serializers.IntegerField(read_only=True)
    client_order_id = serializers.CharField(read_only=True)
    instrument = serializers.CharField(source="instrument.symbol", read_only=True)
    side = serializers.ChoiceField(choices=Side.choices, read_only=True)
    price = PriceField()
    quantity = serializers.IntegerField(read_only=True)
    filled_quantity = serializers.IntegerField(read_only=True)
    status = serializers.ChoiceField(choices=Order.Status.choices, read_only=True)
    cancel_requested = serializers.BooleanField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class FillOut(serializers.ModelSerializer):
    """One's own side of a trade."""

    order_id = serializers.SerializerMethodField()
    instrument = serializers.CharField(source="instrument.symbol")
    side = serializers.SerializerMethodField()
    price = PriceField()
    fee = serializers.SerializerMethodField()
    settled = serializers.SerializerMethodField()

    class Meta:
        model = Trade
        fields = ["id", "kind", "order_id", "block_offer_id", "instrument", "side", "price", "quantity", "fee", "executed_at", "settled"]

    def _buying(self, trade: Trade) -> bool:
        return trade.buyer_id in self.context["organization_ids"]

    @extend_schema_field({"type": "integer", "nullable": True, "description": "Your order (listed trades); null for a block trade"})
    def get_order_id(self, trade: Trade) -> int | None:
        return trade.buy_order_id if self._buying(trade) else trade.sell_order_id

    @extend_schema_field(serializers.ChoiceField(choices=Side.choices))
    def get_side(self, trade: Trade) -> str:
        return Side.BUY if self._buying(trade) else Side.SELL

    @extend_schema_field({"type": "string", "example": "2.40"})
    def get_fee(self, trade: Trade) -> str:
        return format_minor_units(trade.buyer_fee if self._buying(trade) else trade.seller_fee, 2)

    def get_settled(self, trade: Trade) -> bool:
        return trade.settled_at is not None


class BlockOfferIn(InputSerializer):
    instrument = serializers.CharField(min_length=1, max_length=16)
    side = serializers.ChoiceField(choices=Side.choices)
    price = serializers.CharField(min_length=1, max_length=20, help_text='CNY per tonne with at most two decimals, e.g. "52.00"')
    quantity = QuantityField(help_text="Whole tonnes, at least BLOCK_MIN_QUANTITY (100,000 by default): a JSON integer")
    counterparty = serializers.CharField(max_length=32, required=False, default="", allow_blank=True,
                                         help_text="A member's USCC: the offer is directed to it alone. Empty: public.")
    client_order_id = serializers.CharField(
        max_length=64, default="",
        help_text="Your unique id: repeating it returns the same offer. Required, here or as the Idempotency-Key header.",
    )


class BlockAcceptIn(InputSerializer):
    client_order_id = serializers.CharField(
        max_length=64, default="",
        help_text="Your unique id for this acceptance: repeating it returns the same trade. Required, here or as the Idempotency-Key header.",
    )


class BlockOfferOut(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    instrument = serializers.CharField(source="instrument.symbol", read_only=True)
    side = serializers.ChoiceField(choices=Side.choices, read_only=True)
    price = PriceField()
    quantity = serializers.IntegerField(read_only=True)
    value = PriceField(help_text="price x quantity, CNY")
    status = serializers.ChoiceField(choices=BlockOffer.Status.choices, read_only=True)
    directed = serializers.SerializerMethodField()
    mine = serializers.SerializerMethodField()
    client_order_id = serializers.SerializerMethodField()
    trade_id = serializers.SerializerMethodField()
    trading_day = serializers.DateField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)

    def _mine(self, offer: BlockOffer) -> bool:
        return offer.organization_id in self.context["organization_ids"]

    def get_mine(self, offer: BlockOffer) -> bool:
        return self._mine(offer)

    @extend_schema_field({"type": "boolean", "description": "Directed to one member (to you, unless it is your own offer)"})
    def get_directed(self, offer: BlockOffer) -> bool:
        return offer.counterparty_id is not None

    @extend_schema_field({"type": "string", "nullable": True, "description": "Yours only on your own offers"})
    def get_client_order_id(self, offer: BlockOffer) -> str | None:
        return offer.client_order_id if self._mine(offer) else None

    @extend_schema_field({"type": "integer", "nullable": True})
    def get_trade_id(self, offer: BlockOffer) -> int | None:
        if offer.status != BlockOffer.Status.ACCEPTED:
            return None
        return offer.trade.pk


class BlockTradeOut(serializers.Serializer):
    trade_id = serializers.IntegerField(source="pk")
    offer_id = serializers.IntegerField(source="block_offer_id")
    instrument = serializers.CharField(source="instrument.symbol")
    price = PriceField()
    quantity = serializers.IntegerField()
    executed_at = serializers.DateTimeField()


# --- one-way bidding (auctions) ---


class AuctionIn(InputSerializer):
    instrument = serializers.CharField(min_length=1, max_length=16)
    side = serializers.ChoiceField(choices=Side.choices, help_text="The initiator's side: sell (members bid to buy) or buy")
    quantity = QuantityField(help_text="Whole tonnes offered (or wanted): a JSON integer")
    reserve_price = serializers.CharField(
        min_length=1, max_length=20,
        help_text='CNY per tonne, e.g. "48.00": the lowest price sold at (a sell) or the highest paid (a buy)')
    min_bid_quantity = QuantityField(required=False, default=1, help_text="The smallest bid, in tonnes (default 1)")
    max_share_percent = QuantityField(required=False, default=None, allow_null=True,
                                      help_text="The most one bidder may win, in % of the quantity (default AUCTION_MAX_SHARE_PERCENT, 30)")
    starts_at = serializers.DateTimeField(help_text="Bidding opens (ISO 8601)")
    ends_at = serializers.DateTimeField(help_text="Bidding closes; the close job clears the auction then")
    client_auction_id = serializers.CharField(
        max_length=64, default="",
        help_text="Your unique id: repeating it returns the same auction. Required, here or as the Idempotency-Key header.")


class AuctionOut(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    instrument = serializers.CharField(source="instrument.symbol", read_only=True)
    side = serializers.ChoiceField(choices=Side.choices, read_only=True, help_text="The initiator's side")
    initiator = serializers.CharField(source="organization.name", read_only=True)
    paid_allocation = serializers.BooleanField(read_only=True)
    quantity = serializers.IntegerField(read_only=True)
    reserve_price = PriceField()
    min_bid_quantity = serializers.IntegerField(read_only=True)
    max_share_percent = serializers.IntegerField(read_only=True)
    max_share = serializers.IntegerField(read_only=True, help_text="The most one bidder may win, in tonnes")
    starts_at = serializers.DateTimeField(read_only=True)
    ends_at = serializers.DateTimeField(read_only=True)
    status = serializers.ChoiceField(choices=Auction.Status.choices, read_only=True)
    decision_reason = serializers.CharField(read_only=True)
    clearing_price = serializers.SerializerMethodField()
    quantity_traded = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(read_only=True)

    @extend_schema_field({"type": "string", "example": "48.00", "nullable": True, "description": "Published at the close"})
    def get_clearing_price(self, auction: Auction) -> str | None:
        closed = auction.status == Auction.Status.CLOSED and auction.clearing_price is not None
        return format_minor_units(auction.clearing_price, 2) if closed else None

    @extend_schema_field({"type": "integer", "nullable": True, "description": "Published at the close"})
    def get_quantity_traded(self, auction: Auction) -> int | None:
        return auction.quantity_filled if auction.status == Auction.Status.CLOSED else None


class AuctionRejectIn(InputSerializer):
    # Not blank: at least one character that is not a space (the schema says so with the pattern).
    reason = serializers.RegexField(r"\S", max_length=500, help_text="Why the announcement is rejected (the initiator reads it)")


class AuctionBidIn(InputSerializer):
    price = serializers.CharField(min_length=1, max_length=20, help_text='CNY per tonne with at most two decimals, e.g. "52.00"')
    quantity = QuantityField(help_text="Whole tonnes, at least the auction's minimum bid and at most its maximum share")
    client_bid_id = serializers.CharField(
        max_length=64, default="",
        help_text="Your unique id for this bid: repeating it returns the same bid. Required, here or as the Idempotency-Key header.")


class AuctionBidOut(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    auction_id = serializers.IntegerField(read_only=True)
    price = PriceField()
    quantity = serializers.IntegerField(read_only=True)
    won_quantity = serializers.IntegerField(read_only=True, help_text="Tonnes won at the close")
    status = serializers.ChoiceField(choices=AuctionBid.Status.choices, read_only=True)
    client_bid_id = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class AuctionResultsOut(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Auction.Status.choices)
    published = serializers.BooleanField(help_text="The results are published at the close; until then the figures are null")
    clearing_price = PriceField()
    quantity_offered = serializers.IntegerField()
    quantity_traded = serializers.IntegerField(allow_null=True)
    bidders = serializers.IntegerField(allow_null=True)
    quantity_bid = serializers.IntegerField(allow_null=True)
    cover_ratio = serializers.CharField(allow_null=True, help_text='Quantity bid / quantity offered, e.g. "1.85"')
    closed_at = serializers.DateTimeField(allow_null=True)
    my_bids = AuctionBidOut(many=True, help_text="Your own bids and what each won")
