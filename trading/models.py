"""The exchange: instruments (one per CEA vintage), orders, the sequenced event stream the matcher
consumes, trades, daily bars and the holiday calendar. Prices are integer fen, quantities tonnes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from core.money import format_grouped
from registry.models import Asset


class Instrument(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("market status", "Open")
        HALTED = "halted", pgettext_lazy("market status", "Halted")
        CLOSED = "closed", pgettext_lazy("market status", "Closed")

    symbol = models.CharField(_("symbol"), max_length=16, unique=True)
    asset = models.OneToOneField(Asset, verbose_name=_("asset"), on_delete=models.PROTECT, related_name="instrument")
    tick = models.PositiveIntegerField(_("tick"), default=1, help_text=_("Price step in fen (1 = 0.01 CNY)"))
    min_quantity = models.PositiveIntegerField(_("min quantity"), default=1)
    max_quantity = models.PositiveIntegerField(_("max quantity"), default=99_999)
    band_percent = models.PositiveSmallIntegerField(_("band percent"), default=10, help_text=_("Orders within plus or minus this percentage of the reference price"))
    reference_price = models.BigIntegerField(_("reference price"), help_text=_("The previous close, in fen"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    status_reason = models.CharField(_("status reason"), max_length=500, blank=True)
    last_sequence = models.BigIntegerField(_("last sequence"), default=0, help_text=_("The last sequence number handed out"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("instrument")
        verbose_name_plural = _("instruments")
        ordering = ["symbol"]
        permissions = [
            ("operate_market", "Can open, halt and close instruments and run the market day"),
            ("halt_market", "Can halt trading in an instrument"),
            ("trade", "Can place and cancel orders for its own organization"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(reference_price__gt=0), name="instrument_reference_price_positive"),
        ]

    def __str__(self) -> str:
        return self.symbol

    @property
    def lower_limit(self) -> int:
        """Lowest allowed price: reference x (1 - band), rounded up to the tick."""
        raw = -(-self.reference_price * (100 - self.band_percent) // 100)
        return -(-raw // self.tick) * self.tick

    @property
    def upper_limit(self) -> int:
        """Highest allowed price: reference x (1 + band), rounded down to the tick."""
        raw = self.reference_price * (100 + self.band_percent) // 100
        return raw // self.tick * self.tick


class MatchingPosition(models.Model):
    """How far the matcher has applied an instrument's sequence: the fence of every batch commit.
    A row of its own rather than a column of the instrument: order entry holds the instrument row's
    lock from sequencing to commit, and the matcher's commit must not queue behind order entry."""

    instrument = models.OneToOneField(Instrument, verbose_name=_("instrument"), primary_key=True, on_delete=models.PROTECT, related_name="matching_position")
    matched_sequence = models.BigIntegerField(_("matched sequence"), default=0, help_text=_("The last sequence number the matcher committed"))
    batch_token = models.BigIntegerField(
        _("batch token"), default=0, help_text=_("Random, new with every committed batch: names the book snapshot it published (trading.market_data)")
    )

    class Meta:
        verbose_name = _("matching position")
        verbose_name_plural = _("matching positions")

    def __str__(self) -> str:
        return gettext("%(instrument)s matched to %(sequence)s") % {"instrument": self.instrument_id, "sequence": self.matched_sequence}


class Side(models.TextChoices):
    BUY = "buy", _("Buy")
    SELL = "sell", _("Sell")


class Order(models.Model):
    class Status(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")  # reserved and sequenced, not yet matched
        OPEN = "open", pgettext_lazy("order status", "Open")
        PARTIALLY_FILLED = "partially_filled", _("Partially filled")
        FILLED = "filled", _("Filled")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired")

    LIVE = (Status.ACCEPTED, Status.OPEN, Status.PARTIALLY_FILLED)
    RESTING = (Status.OPEN, Status.PARTIALLY_FILLED)

    # No index of their own: the indexes below lead with them.
    instrument = models.ForeignKey(Instrument, verbose_name=_("instrument"), on_delete=models.PROTECT, related_name="orders", db_index=False)
    organization = models.ForeignKey(Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="orders", db_index=False)
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("placed by"), on_delete=models.PROTECT, related_name="+")
    client_order_id = models.CharField(_("client order id"), max_length=64)
    side = models.CharField(_("side"), max_length=4, choices=Side.choices)
    price = models.BigIntegerField(_("price"), help_text=_("Limit price in fen"))
    quantity = models.PositiveIntegerField(_("quantity"))
    filled_quantity = models.PositiveIntegerField(_("filled quantity"), default=0)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACCEPTED)
    sequence = models.BigIntegerField(_("sequence"), null=True, blank=True, help_text=_("Its place in the instrument's event sequence"))
    fee_rate = models.DecimalField(_("fee rate"), max_digits=8, decimal_places=6, help_text=_("Fee rate in force when accepted"))
    reserved = models.BigIntegerField(_("reserved"), help_text=_("Still reserved for the unfilled rest: fen for a buy, tonnes for a sell"))
    cancel_requested = models.BooleanField(_("cancel requested"), default=False)
    matched_at = models.DateTimeField(_("matched at"), null=True, blank=True, help_text=_("When the matcher first applied it"))
    trading_day = models.DateField(_("trading day"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "client_order_id"], name="order_client_id_once"),
            models.UniqueConstraint(fields=["instrument", "sequence"], name="order_sequence_once"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_quantity_positive"),
            models.CheckConstraint(condition=Q(price__gt=0), name="order_price_positive"),
            models.CheckConstraint(condition=Q(filled_quantity__lte=F("quantity")), name="order_not_overfilled"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="order_reserved_not_negative"),
        ]
        # Every index costs each order's insert and each of the matcher's updates, so only these:
        # the instrument's and the organization's live orders, and a buyer's open buys (the position
        # check on every buy reads only this small index).
        indexes = [
            models.Index(fields=["instrument", "status"]),
            models.Index(fields=["organization", "instrument", "status"]),
            models.Index(
                fields=["organization", "instrument"], include=["quantity", "filled_quantity"],
                condition=Q(side="buy", status__in=["accepted", "open", "partially_filled"]), name="order_open_buys",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_side_display()} {self.quantity:,} {self.instrument_id} @ {format_grouped(self.price, 2)}"

    @property
    def remaining(self) -> int:
        return self.quantity - self.filled_quantity

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE


class MarketEvent(models.Model):
    """The instrument's sequenced stream: new orders, cancels and end-of-day expiry, in the order the
    matcher must apply them. Sequence numbers are handed out at the end of the accepting transaction
    under the instrument's row lock, so they commit in order and without gaps."""

    class Kind(models.TextChoices):
        ORDER = "order", _("New order")
        CANCEL = "cancel", _("Cancel")
        EXPIRE = "expire", _("End-of-day expiry")

    instrument = models.ForeignKey(Instrument, verbose_name=_("instrument"), on_delete=models.PROTECT, related_name="events")
    sequence = models.BigIntegerField(_("sequence"))
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    order = models.ForeignKey(Order, verbose_name=_("order"), null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    trading_day = models.DateField(_("trading day"), null=True, blank=True, help_text=_("For expiry: orders of this day and earlier"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("market event")
        verbose_name_plural = _("market events")
        ordering = ["instrument_id", "sequence"]
        constraints = [models.UniqueConstraint(fields=["instrument", "sequence"], name="market_event_sequence_once")]

    def __str__(self) -> str:
        return f"{self.instrument_id}#{self.sequence} {self.get_kind_display()}"


class BlockOffer(models.Model):
    """A block agreement offer (大宗协议, RULEBOOK "Block trades"): BLOCK_MIN_QUANTITY t or more at a
    price within BLOCK_BAND_PERCENT of the previous close, public to every member or directed to one
    counterparty, accepted whole by one counterparty in the block session. It reserves what an order
    would (cash for a buy, allowances for a sell) until accepted, withdrawn or expired at the day's end."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("block offer status", "Open")
        ACCEPTED = "accepted", pgettext_lazy("block offer status", "Accepted")
        WITHDRAWN = "withdrawn", pgettext_lazy("block offer status", "Withdrawn")
        EXPIRED = "expired", pgettext_lazy("block offer status", "Expired")

    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="block_offers", verbose_name=_("instrument"))
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="block_offers",
                                     verbose_name=_("offered by"))
    posted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("posted by"))
    client_order_id = models.CharField(_("client order id"), max_length=64)
    side = models.CharField(_("side"), max_length=4, choices=Side.choices)
    price = models.BigIntegerField(_("price (fen)"))
    quantity = models.PositiveIntegerField(_("quantity (t)"))
    counterparty = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("directed to"), help_text=_("Empty: public to every member"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    fee_rate = models.DecimalField(_("fee rate"), max_digits=8, decimal_places=6)
    reserved = models.BigIntegerField(_("reserved"), help_text=_("Fen for a buy, tonnes for a sell, until accepted, withdrawn or expired"))
    trading_day = models.DateField(_("trading day"))
    accepted_by = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("accepted by"))
    accept_client_order_id = models.CharField(_("acceptor's client order id"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("posted at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("block offer")
        verbose_name_plural = _("block offers")
        constraints = [
            models.UniqueConstraint(fields=["organization", "client_order_id"], name="block_offer_client_id_once"),
            models.CheckConstraint(condition=Q(quantity__gt=0) & Q(price__gt=0), name="block_offer_positive"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="block_offer_reserved_not_negative"),
            models.CheckConstraint(condition=~Q(counterparty=F("organization")), name="block_offer_not_to_itself"),
            models.UniqueConstraint(fields=["accepted_by", "accept_client_order_id"], condition=~Q(accept_client_order_id=""),
                                    name="block_accept_client_id_once"),
        ]
        indexes = [models.Index(fields=["instrument", "status"])]

    def __str__(self) -> str:
        return gettext("block offer #%(id)s %(side)s %(quantity)s t @ %(price)s") % {
            "id": self.pk, "side": self.get_side_display(), "quantity": f"{self.quantity:,}", "price": format_grouped(self.price, 2)}

    @property
    def value(self) -> int:
        return self.price * self.quantity


class Auction(models.Model):
    """A one-way bidding auction (单向竞价, RULEBOOK "Block trades, auctions and surveillance"): an
    initiator sells (or buys) `quantity` t; members bid sealed in the window; trading.auctions clears
    it at one uniform price. The initiator is a company (its allowances or cash reserved at the
    announcement) or the national regulator selling paid allocation from the national account."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("auction status", "Awaiting approval")
        APPROVED = "approved", pgettext_lazy("auction status", "Approved")
        REJECTED = "rejected", pgettext_lazy("auction status", "Rejected")
        LAPSED = "lapsed", pgettext_lazy("auction status", "Lapsed")
        CLOSED = "closed", pgettext_lazy("auction status", "Closed")

    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="auctions", verbose_name=_("instrument"))
    side = models.CharField(_("initiator's side"), max_length=4, choices=Side.choices,
                            help_text=_("Sell: the initiator sells and bidders buy; buy: the initiator buys"))
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="auctions", verbose_name=_("initiator"))
    paid_allocation = models.BooleanField(_("paid allocation"), default=False,
                                          help_text=_("The national regulator sells from the national account"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("announced by"))
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("approved by"))
    client_auction_id = models.CharField(_("client auction id"), max_length=64)
    quantity = models.PositiveIntegerField(_("quantity (t)"))
    reserve_price = models.BigIntegerField(_("reserve price (fen)"))
    min_bid_quantity = models.PositiveIntegerField(_("minimum bid (t)"), default=1)
    max_share_percent = models.PositiveSmallIntegerField(_("maximum share per bidder (percent)"))
    starts_at = models.DateTimeField(_("bidding opens"))
    ends_at = models.DateTimeField(_("bidding closes"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    decision_reason = models.CharField(_("reason"), max_length=500, blank=True)
    fee_rate = models.DecimalField(_("fee rate"), max_digits=8, decimal_places=6)
    reserved = models.BigIntegerField(_("reserved"), default=0,
                                      help_text=_("The initiator's reservation: tonnes for a sell, fen for a buy"))
    clearing_price = models.BigIntegerField(_("clearing price (fen)"), null=True, blank=True)
    quantity_filled = models.PositiveIntegerField(_("quantity traded (t)"), default=0)
    bidder_count = models.PositiveIntegerField(_("bidders"), default=0)
    bid_quantity = models.BigIntegerField(_("quantity bid (t)"), default=0)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("announced at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("auction")
        verbose_name_plural = _("auctions")
        permissions = [("approve_auction", "Can approve or reject auction announcements")]
        constraints = [
            models.UniqueConstraint(fields=["organization", "client_auction_id"], name="auction_client_id_once"),
            models.CheckConstraint(condition=Q(quantity__gt=0) & Q(reserve_price__gt=0) & Q(min_bid_quantity__gt=0),
                                   name="auction_positive"),
            models.CheckConstraint(condition=Q(max_share_percent__gte=1) & Q(max_share_percent__lte=100), name="auction_share_percent"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="auction_window_ordered"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="auction_reserved_not_negative"),
            models.CheckConstraint(condition=Q(quantity_filled__lte=F("quantity")), name="auction_not_oversold"),
            models.CheckConstraint(condition=Q(paid_allocation=False) | Q(side="sell"), name="auction_paid_allocation_sells"),
        ]
        indexes = [models.Index(fields=["status", "ends_at"])]

    def __str__(self) -> str:
        return f"auction #{self.pk} {self.side} {self.quantity} t {self.instrument_id}"

    @property
    def max_share(self) -> int:
        """The most one bidder may win, in whole tonnes."""
        return self.quantity * self.max_share_percent // 100


class AuctionBid(models.Model):
    """A sealed bid: seen only by its bidder until the close, then only in the results' aggregate."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("auction bid status", "Open")
        WITHDRAWN = "withdrawn", pgettext_lazy("auction bid status", "Withdrawn")
        WON = "won", pgettext_lazy("auction bid status", "Won")
        LOST = "lost", pgettext_lazy("auction bid status", "Not filled")

    auction = models.ForeignKey(Auction, on_delete=models.PROTECT, related_name="bids", verbose_name=_("auction"))
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="auction_bids", verbose_name=_("bidder"))
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("placed by"))
    client_bid_id = models.CharField(_("client bid id"), max_length=64)
    price = models.BigIntegerField(_("price (fen)"))
    quantity = models.PositiveIntegerField(_("quantity (t)"))
    won_quantity = models.PositiveIntegerField(_("quantity won (t)"), default=0)
    fee_rate = models.DecimalField(_("fee rate"), max_digits=8, decimal_places=6)
    reserved = models.BigIntegerField(_("reserved"), help_text=_("Fen for a buying bid, tonnes for a selling bid"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(_("placed at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("auction bid")
        verbose_name_plural = _("auction bids")
        constraints = [
            models.UniqueConstraint(fields=["auction", "organization", "client_bid_id"], name="auction_bid_client_id_once"),
            models.CheckConstraint(condition=Q(quantity__gt=0) & Q(price__gt=0), name="auction_bid_positive"),
            models.CheckConstraint(condition=Q(won_quantity__lte=F("quantity")), name="auction_bid_not_overfilled"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="auction_bid_reserved_not_negative"),
        ]
        indexes = [models.Index(fields=["auction", "status"]), models.Index(fields=["organization", "auction"])]

    def __str__(self) -> str:
        return gettext("bid #%(id)s %(quantity)s t @ %(price)s") % {
            "id": self.pk, "quantity": f"{self.quantity:,}", "price": format_grouped(self.price, 2)}


class Trade(models.Model):
    class Kind(models.TextChoices):
        LISTED = "listed", _("Listed (continuous auction)")
        BLOCK = "block", _("Block agreement")
        AUCTION = "auction", _("One-way bidding")

    instrument = models.ForeignKey(Instrument, verbose_name=_("instrument"), on_delete=models.PROTECT, related_name="trades")
    kind = models.CharField(_("trading mode"), max_length=8, choices=Kind.choices, default=Kind.LISTED)
    # A listed trade's two orders; a block trade's offer (it has no orders).
    buy_order = models.ForeignKey(Order, verbose_name=_("buy order"), null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="buy_trades")
    sell_order = models.ForeignKey(Order, verbose_name=_("sell order"), null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="sell_trades")
    block_offer = models.OneToOneField(BlockOffer, null=True, blank=True, on_delete=models.PROTECT, related_name="trade",
                                       verbose_name=_("block offer"))
    # An auction trade's winning bid (the other side is the auction's initiator).
    auction_bid = models.OneToOneField(AuctionBid, null=True, blank=True, on_delete=models.PROTECT, related_name="trade",
                                       verbose_name=_("auction bid"))
    buyer = models.ForeignKey(Organization, verbose_name=_("buyer"), on_delete=models.PROTECT, related_name="+")
    seller = models.ForeignKey(Organization, verbose_name=_("seller"), on_delete=models.PROTECT, related_name="+")
    price = models.BigIntegerField(_("price"))
    quantity = models.PositiveIntegerField(_("quantity"))
    aggressor_side = models.CharField(_("aggressor side"), max_length=4, choices=Side.choices)
    buyer_fee = models.BigIntegerField(_("buyer fee"), default=0)
    seller_fee = models.BigIntegerField(_("seller fee"), default=0)
    sequence = models.BigIntegerField(_("sequence"), null=True, blank=True,
                                      help_text=_("The sequence of the event that caused it (listed trades)"))
    trading_day = models.DateField(_("trading day"), db_index=True)
    executed_at = models.DateTimeField(_("executed at"), db_index=True)
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("trade")
        verbose_name_plural = _("trades")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0) & Q(price__gt=0), name="trade_positive"),
            models.CheckConstraint(condition=~Q(buyer=F("seller")), name="trade_no_self_trade"),
            models.CheckConstraint(
                condition=Q(kind="listed", buy_order__isnull=False, sell_order__isnull=False, sequence__isnull=False,
                            block_offer__isnull=True, auction_bid__isnull=True)
                | Q(kind="block", buy_order__isnull=True, sell_order__isnull=True, block_offer__isnull=False,
                    auction_bid__isnull=True)
                | Q(kind="auction", buy_order__isnull=True, sell_order__isnull=True, block_offer__isnull=True,
                    auction_bid__isnull=False),
                name="trade_listed_block_or_auction",
            ),
        ]
        # An instrument's trades in their order (executed_at, then id): its latest trade is one step
        # of this index backwards (trading.selectors.market_overview), whatever the table holds.
        indexes = [models.Index(fields=["instrument", "executed_at", "id"], name="trade_instrument_in_order")]

    def __str__(self) -> str:
        return gettext("trade #%(id)s %(quantity)s t @ %(price)s") % {
            "id": self.pk, "quantity": f"{self.quantity:,}", "price": format_grouped(self.price, 2)}

    @property
    def value(self) -> int:
        return self.price * self.quantity


class DailyBar(models.Model):
    instrument = models.ForeignKey(Instrument, verbose_name=_("instrument"), on_delete=models.PROTECT, related_name="daily_bars")
    day = models.DateField(_("day"))
    open = models.BigIntegerField(_("open"), null=True)
    high = models.BigIntegerField(_("high"), null=True)
    low = models.BigIntegerField(_("low"), null=True)
    close = models.BigIntegerField(_("close"), help_text=_("Volume-weighted average of the day's listed trades, else the previous close"))
    volume = models.BigIntegerField(_("volume"), default=0)
    turnover = models.BigIntegerField(_("turnover"), default=0, help_text=_("Traded value in fen"))
    trade_count = models.PositiveIntegerField(_("trade count"), default=0)
    reference_price = models.BigIntegerField(_("reference price"), help_text=_("The day's reference price"))
    # Block trades: reported apart, never in the listed open, high, low, close or volume above.
    block_volume = models.BigIntegerField(_("block volume (t)"), default=0)
    block_turnover = models.BigIntegerField(_("block turnover (fen)"), default=0)

    class Meta:
        verbose_name = _("daily bar")
        verbose_name_plural = _("daily bars")
        ordering = ["instrument_id", "day"]
        constraints = [models.UniqueConstraint(fields=["instrument", "day"], name="daily_bar_once")]

    def __str__(self) -> str:
        return gettext("%(instrument)s %(day)s close %(close)s") % {
            "instrument": self.instrument_id, "day": self.day, "close": format_grouped(self.close, 2)}


class Holiday(models.Model):
    day = models.DateField(_("day"), unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day} {self.name}"
