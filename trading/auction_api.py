"""The API of one-way bidding (auctions, trading.auctions): announce, approve or reject, bid, withdraw
a bid, and the published results. Bids are sealed: each member reads only its own."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from core.idempotency import IDEMPOTENCY_KEY_PARAMETER, body_with_key, idempotent
from core.schema import IDEMPOTENCY_KEY_MISMATCH
from core.throttling import OrderEntryThrottle
from trading import auctions
from trading.models import Auction, AuctionBid
from trading.serializers import AuctionBidIn, AuctionBidOut, AuctionIn, AuctionOut, AuctionRejectIn, AuctionResultsOut

_NOT_FOUND = {404: OpenApiResponse(description="No such auction, or one you may not see (`not_found`)")}
_NOT_THE_CHECKER = {403: OpenApiResponse(
    description="Not the exchange operator (`permission_denied`), or its own announcement (`auction_maker_checker`)")}


class AuctionListApi(generics.ListCreateAPIView):
    """Auctions: members see approved and closed ones and their own; exchange and regulator staff all."""

    serializer_class = AuctionOut
    throttle_classes = [OrderEntryThrottle]
    filterset_fields = ["status", "side"]

    def get_queryset(self) -> QuerySet[Auction]:
        if getattr(self, "swagger_fake_view", False):
            return Auction.objects.none()
        return auctions.auctions_visible_to(self.request.user).order_by("-id")

    @extend_schema(summary="Announce an auction (reserves the allowances sold, or cash at the reserve price); the exchange approves it",
                   request=AuctionIn, parameters=[IDEMPOTENCY_KEY_PARAMETER],
                   responses={201: AuctionOut, 200: AuctionOut, **IDEMPOTENCY_KEY_MISMATCH, 409: OpenApiResponse(
                       description="Your allowances or cash fall short (`insufficient_allowances`, `insufficient_funds`), or the "
                                   "client_auction_id was used for another auction (`idempotency_conflict`)")},
                   examples=[OpenApiExample("A sell auction", request_only=True, value={
                       "instrument": "CEA21", "side": "sell", "quantity": 500_000, "reserve_price": "48.00",
                       "min_bid_quantity": 1_000, "max_share_percent": 30, "starts_at": "2026-12-07T09:30:00+08:00",
                       "ends_at": "2026-12-07T11:30:00+08:00", "client_auction_id": "auction-1"})])
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = AuctionIn(data=body_with_key(request, "client_auction_id"))
        incoming.is_valid(raise_exception=True)
        auction, created = auctions.auction_announce(user=request.user, **incoming.validated_data)
        return Response(AuctionOut(auction).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class AuctionDetailApi(generics.GenericAPIView):
    serializer_class = AuctionOut

    @extend_schema(responses={200: AuctionOut, **_NOT_FOUND})
    def get(self, request: Request, auction_id: int) -> Response:
        return Response(AuctionOut(auctions.auction_get_for(request.user, auction_id)).data)


class AuctionApproveApi(generics.GenericAPIView):
    serializer_class = AuctionOut

    @extend_schema(operation_id="v1_auctions_approve", summary="Approve an announcement (the exchange operator; not its announcer)",
                   request=None, parameters=[IDEMPOTENCY_KEY_PARAMETER],
                   responses={200: AuctionOut, **_NOT_FOUND, **_NOT_THE_CHECKER,
                       409: OpenApiResponse(description="Not awaiting approval, or its window has ended (`auction_state`)")})
    def post(self, request: Request, auction_id: int) -> Response:
        def approve() -> Response:
            return Response(AuctionOut(auctions.auction_approve(user=request.user, auction_id=auction_id)).data)

        return idempotent(request, approve)


class AuctionRejectApi(generics.GenericAPIView):
    serializer_class = AuctionRejectIn

    @extend_schema(operation_id="v1_auctions_reject", summary="Reject an announcement with a reason (its reservation is released)",
                   request=AuctionRejectIn, parameters=[IDEMPOTENCY_KEY_PARAMETER],
                   responses={200: AuctionOut, **_NOT_FOUND, **_NOT_THE_CHECKER,
                       409: OpenApiResponse(description="Not awaiting approval (`auction_state`)")})
    def post(self, request: Request, auction_id: int) -> Response:
        incoming = AuctionRejectIn(data=request.data)
        incoming.is_valid(raise_exception=True)

        def reject() -> Response:
            return Response(AuctionOut(auctions.auction_reject(user=request.user, auction_id=auction_id,
                                                               **incoming.validated_data)).data)

        return idempotent(request, reject)


class AuctionBidListApi(generics.GenericAPIView):
    serializer_class = AuctionBidOut
    queryset = AuctionBid.objects.none()  # (the schema's model for the path; bids are read by auctions.bids_of)
    throttle_classes = [OrderEntryThrottle]
    pagination_class = None  # one's own few bids in one auction

    @extend_schema(summary="Your own bids in the auction (bids are sealed)", responses={200: AuctionBidOut(many=True), **_NOT_FOUND})
    def get(self, request: Request, auction_id: int) -> Response:
        auction = auctions.auction_get_for(request.user, auction_id)
        return Response(AuctionBidOut(auctions.bids_of(request.user, auction), many=True).data)

    @extend_schema(summary="Place a sealed bid (reserves cash at its price, or the allowances offered)",
                   request=AuctionBidIn, parameters=[IDEMPOTENCY_KEY_PARAMETER],
                   responses={201: AuctionBidOut, 200: AuctionBidOut, **IDEMPOTENCY_KEY_MISMATCH, **_NOT_FOUND,
                              403: OpenApiResponse(description="Your own auction (`own_auction`), or you may not trade (`not_eligible`)"),
                              409: OpenApiResponse(description="Bidding is not open (`auction_not_open`), your cash or allowances "
                                                               "fall short, or the client_bid_id was used for another bid")},
                   examples=[OpenApiExample("A bid", request_only=True, value={"price": "52.00", "quantity": 10_000,
                                                                                "client_bid_id": "bid-1"})])
    def post(self, request: Request, auction_id: int) -> Response:
        incoming = AuctionBidIn(data=body_with_key(request, "client_bid_id"))
        incoming.is_valid(raise_exception=True)
        bid, created = auctions.auction_bid_place(user=request.user, auction_id=auction_id, **incoming.validated_data)
        return Response(AuctionBidOut(bid).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class AuctionBidDetailApi(generics.GenericAPIView):
    serializer_class = AuctionBidOut
    throttle_classes = [OrderEntryThrottle]

    @extend_schema(operation_id="v1_auctions_bids_withdraw", summary="Withdraw your open bid before the close (it stays, withdrawn)",
                   parameters=[IDEMPOTENCY_KEY_PARAMETER],
                   responses={200: AuctionBidOut, 404: OpenApiResponse(description="No such bid of yours (`not_found`)"),
                              409: OpenApiResponse(description="The bid is not open, or bidding has closed")})
    def delete(self, request: Request, auction_id: int, bid_id: int) -> Response:
        def withdraw() -> Response:
            return Response(AuctionBidOut(auctions.auction_bid_withdraw(user=request.user, auction_id=auction_id, bid_id=bid_id)).data)

        return idempotent(request, withdraw)


class AuctionResultsApi(generics.GenericAPIView):
    serializer_class = AuctionResultsOut

    @extend_schema(summary="The published results (after the close) and your own bids' outcome",
                   responses={200: AuctionResultsOut, **_NOT_FOUND})
    def get(self, request: Request, auction_id: int) -> Response:
        auction = auctions.auction_get_for(request.user, auction_id)
        results = {**auctions.auction_results(auction), "my_bids": list(auctions.bids_of(request.user, auction))}
        return Response(AuctionResultsOut(results).data)
