"""The exchange's REST API. Market data is public; orders, fills and balances are one's own."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.selectors import user_organization_ids
from core.errors import InvalidInput
from core.idempotency import IDEMPOTENCY_KEY_PARAMETER, body_with_key, idempotent
from core.schema import IDEMPOTENCY_KEY_MISMATCH, INSTRUMENT_NOT_FOUND
from core.throttling import OrderEntryThrottle
from registry.serializers import BalanceOut
from trading import blocks, market_data, selectors, services
from trading.models import BlockOffer, Instrument, Order, Trade
from trading.serializers import (
    BlockAcceptIn,
    BlockOfferIn,
    BlockOfferOut,
    BlockTradeOut,
    BookOut,
    CandleOut,
    FillOut,
    InstrumentOut,
    OrderIn,
    OrderOut,
    TapeOut,
)

# The instrument in the path of the market data operations (one instrument per CEA vintage).
SYMBOL = OpenApiParameter("symbol", str, OpenApiParameter.PATH, description="An instrument's symbol, e.g. CEA21",
                          examples=[OpenApiExample("CEA21", value="CEA21")])


class InstrumentListApi(generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = InstrumentOut
    pagination_class = None
    queryset = Instrument.objects.select_related("asset").order_by("symbol")


class InstrumentDetailApi(generics.GenericAPIView):
    permission_classes = [AllowAny]
    serializer_class = InstrumentOut

    @extend_schema(parameters=[SYMBOL], responses={200: InstrumentOut, **INSTRUMENT_NOT_FOUND})
    def get(self, request: Request, symbol: str) -> Response:
        return Response(InstrumentOut(selectors.instrument_get(symbol)).data)


def _int_param(request: Request, name: str, default: int, *, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(_("%(name)s must be a whole number.") % {"name": name}, field=name) from None
    if not low <= value <= high:
        raise InvalidInput(_("%(name)s must be %(low)s to %(high)s.") % {"name": name, "low": low, "high": high}, field=name)
    return value


class BookApi(generics.GenericAPIView):
    permission_classes = [AllowAny]
    serializer_class = BookOut

    @extend_schema(parameters=[SYMBOL, OpenApiParameter(
        "depth", {"type": "integer", "minimum": 1, "maximum": market_data.SNAPSHOT_DEPTH, "default": 10},
        description=f"Price levels per side, 1 to {market_data.SNAPSHOT_DEPTH} (default 10)",
    )], responses={200: BookOut, **INSTRUMENT_NOT_FOUND})
    def get(self, request: Request, symbol: str) -> Response:
        depth = _int_param(request, "depth", 10, low=1, high=market_data.SNAPSHOT_DEPTH)
        market = market_data.market_get(symbol)
        instrument = market.instrument
        return Response(BookOut({
            "symbol": instrument.symbol,
            **market.book(depth),
            "reference_price": instrument.reference_price,
            "lower_limit": instrument.lower_limit,
            "upper_limit": instrument.upper_limit,
        }).data)


class TapeApi(generics.ListAPIView):
    """The instrument's trades, newest first: the first pages from the matcher's snapshot."""

    permission_classes = [AllowAny]
    serializer_class = TapeOut

    @extend_schema(parameters=[SYMBOL], responses={200: TapeOut(many=True), **INSTRUMENT_NOT_FOUND})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Trade]:
        if getattr(self, "swagger_fake_view", False):
            return Trade.objects.none()
        return selectors.trade_tape(selectors.instrument_get(self.kwargs["symbol"]))

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        paginator = self.paginator
        limit, offset = paginator.get_limit(request), paginator.get_offset(request)
        tape = market_data.market_get(self.kwargs["symbol"]).tape(limit, offset)
        if tape is None:
            return super().list(request, *args, **kwargs)
        count, trades = tape
        paginator.request, paginator.limit, paginator.offset, paginator.count = request, limit, offset, count
        return paginator.get_paginated_response(TapeOut(trades, many=True).data)


class CandlesApi(generics.GenericAPIView):
    permission_classes = [AllowAny]
    serializer_class = CandleOut
    pagination_class = None
    filter_backends: list[type] = []  # candles are built from bars and trades, not a queryset to filter

    @extend_schema(parameters=[SYMBOL, OpenApiParameter("interval", str, enum=["1d", "1m", "5m"], description="Default 1d")],
                   responses={200: CandleOut(many=True), **INSTRUMENT_NOT_FOUND})
    def get(self, request: Request, symbol: str) -> Response:
        instrument = selectors.instrument_get(symbol)
        interval = request.query_params.get("interval", "1d")
        if interval == "1d":
            candles = [
                {"time": bar.day.isoformat(), "open": bar.open, "high": bar.high, "low": bar.low, "close": bar.close,
                 "volume": bar.volume, "turnover": bar.turnover}
                for bar in selectors.daily_candles(instrument)
            ]
        elif interval in ("1m", "5m"):
            candles = [
                {**bar, "time": bar["time"].isoformat()}
                for bar in selectors.intraday_candles(instrument, day=timezone.localdate(), minutes=int(interval[:-1]))
            ]
        else:
            raise InvalidInput(_("interval must be 1d, 1m or 5m."), field="interval")
        return Response(CandleOut(candles, many=True).data)


class OrderListApi(generics.ListCreateAPIView):
    serializer_class = OrderOut
    throttle_classes = [OrderEntryThrottle]
    filterset_fields = ["status", "instrument__symbol", "side"]

    def get_queryset(self) -> QuerySet[Order]:
        if getattr(self, "swagger_fake_view", False):
            return Order.objects.none()
        queryset = selectors.orders_of(self.request.user).order_by("-id")
        if instrument := self.request.query_params.get("instrument"):
            queryset = queryset.filter(instrument__symbol=instrument)
        return queryset

    @extend_schema(parameters=[OpenApiParameter("instrument", str, description="An instrument's symbol: its orders only")])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=OrderIn, responses={201: OrderOut, 200: OrderOut, **IDEMPOTENCY_KEY_MISMATCH},
                   parameters=[IDEMPOTENCY_KEY_PARAMETER], examples=[OpenApiExample(
                       "A limit order", request_only=True,
                       value={"instrument": "CEA21", "side": "buy", "price": "50.00", "quantity": 10,
                              "client_order_id": "example-order-1"},
                   )])
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = OrderIn(data=body_with_key(request, "client_order_id"))
        incoming.is_valid(raise_exception=True)
        order, created = services.order_place(user=request.user, **incoming.validated_data)
        return Response(OrderOut(order).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class OrderDetailApi(generics.GenericAPIView):
    serializer_class = OrderOut
    throttle_classes = [OrderEntryThrottle]

    def get(self, request: Request, order_id: int) -> Response:
        return Response(OrderOut(selectors.order_get_for(request.user, order_id)).data)

    @extend_schema(
        operation_id="v1_orders_cancel", summary="Cancel the order (it stays, with status cancelled)",
        description="Cancels an open order of your organization; nothing is deleted. The matcher takes the order "
                    "off the book and releases what its unfilled quantity reserved; the order stays, with status "
                    "`cancelled` (and its fills, if it had any). The answer is the order: `cancel_requested` is "
                    "true, and `status` is `cancelled` once the matcher has done it (at once on a single-process "
                    "deployment, within moments with a separate matcher). An order that is no longer open "
                    "(cancelled, filled or expired) is a 409 `order_not_open`.",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={200: OrderOut, 409: OpenApiResponse(
            description="The order is no longer open (`order_not_open`), or the Idempotency-Key was used for a "
                        "different request (`idempotency_conflict`)",
        )},
    )
    def delete(self, request: Request, order_id: int) -> Response:
        def cancel() -> Response:
            return Response(OrderOut(services.order_cancel(user=request.user, order_id=order_id)).data)

        return idempotent(request, cancel)


class FillListApi(generics.ListAPIView):
    serializer_class = FillOut

    def get_queryset(self) -> QuerySet[Trade]:
        if getattr(self, "swagger_fake_view", False):
            return Trade.objects.none()
        return selectors.trades_of(self.request.user)

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "organization_ids": user_organization_ids(self.request.user)}


class BalanceListApi(generics.ListAPIView):
    serializer_class = BalanceOut
    pagination_class = None

    def get_queryset(self):  # type: ignore[no-untyped-def]
        if getattr(self, "swagger_fake_view", False):
            from registry.models import Balance

            return Balance.objects.none()
        return selectors.balances_of(self.request.user)


class BlockOfferListApi(generics.ListCreateAPIView):
    """Block agreement offers (100,000 t or more, +-30 % of the previous close, the afternoon session)."""

    serializer_class = BlockOfferOut
    throttle_classes = [OrderEntryThrottle]
    filterset_fields = ["status", "side"]

    def get_queryset(self) -> QuerySet[BlockOffer]:
        if getattr(self, "swagger_fake_view", False):
            return BlockOffer.objects.none()
        queryset = blocks.offers_visible_to(self.request.user).order_by("-id")
        if instrument := self.request.query_params.get("instrument"):
            queryset = queryset.filter(instrument__symbol=instrument)
        return queryset

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "organization_ids": user_organization_ids(self.request.user)}

    @extend_schema(summary="Open block offers you may accept (public, or directed to you), and your own",
                   parameters=[OpenApiParameter("instrument", str, description="An instrument's symbol: its offers only")])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=BlockOfferIn, responses={201: BlockOfferOut, 200: BlockOfferOut, **IDEMPOTENCY_KEY_MISMATCH},
                   parameters=[IDEMPOTENCY_KEY_PARAMETER], summary="Post a block offer (reserves its cash or allowances)",
                   examples=[OpenApiExample("A public block sell", request_only=True, value={
                       "instrument": "CEA21", "side": "sell", "price": "52.00", "quantity": 150000, "client_order_id": "block-1"})])
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = BlockOfferIn(data=body_with_key(request, "client_order_id"))
        incoming.is_valid(raise_exception=True)
        offer, created = blocks.block_offer_post(user=request.user, **incoming.validated_data)
        return Response(BlockOfferOut(offer, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class BlockOfferDetailApi(generics.GenericAPIView):
    serializer_class = BlockOfferOut
    throttle_classes = [OrderEntryThrottle]

    def _context(self) -> dict[str, Any]:
        return {"organization_ids": user_organization_ids(self.request.user)}

    def get(self, request: Request, offer_id: int) -> Response:
        return Response(BlockOfferOut(blocks.block_offer_get_for(request.user, offer_id), context=self._context()).data)

    @extend_schema(operation_id="v1_block_offers_withdraw", summary="Withdraw your open offer (it stays, with status withdrawn)",
                   parameters=[IDEMPOTENCY_KEY_PARAMETER],
                   responses={200: BlockOfferOut, 409: OpenApiResponse(description="The offer is no longer open (`offer_not_open`)")})
    def delete(self, request: Request, offer_id: int) -> Response:
        def withdraw() -> Response:
            return Response(BlockOfferOut(blocks.block_offer_withdraw(user=request.user, offer_id=offer_id), context=self._context()).data)

        return idempotent(request, withdraw)


class BlockOfferAcceptApi(generics.GenericAPIView):
    serializer_class = BlockAcceptIn
    throttle_classes = [OrderEntryThrottle]

    @extend_schema(operation_id="v1_block_offers_accept", summary="Accept the whole offer: one block trade",
                   request=BlockAcceptIn, parameters=[IDEMPOTENCY_KEY_PARAMETER],
                   responses={201: BlockTradeOut, 200: BlockTradeOut, **IDEMPOTENCY_KEY_MISMATCH, 409: OpenApiResponse(
                       description="The offer is no longer open (`offer_not_open`), the block session is closed "
                                   "(`block_session_closed`), or your cash or allowances fall short"),
                       403: OpenApiResponse(description="The offer is directed to another member, or is your own (`not_counterparty`)")})
    def post(self, request: Request, offer_id: int) -> Response:
        incoming = BlockAcceptIn(data=body_with_key(request, "client_order_id"))
        incoming.is_valid(raise_exception=True)
        trade, created = blocks.block_offer_accept(user=request.user, offer_id=offer_id, **incoming.validated_data)
        return Response(BlockTradeOut(trade).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
