from django.urls import path

from trading import api, auction_api

urlpatterns = [
    path("instruments/", api.InstrumentListApi.as_view(), name="api-instrument-list"),
    path("instruments/<str:symbol>/", api.InstrumentDetailApi.as_view(), name="api-instrument-detail"),
    path("instruments/<str:symbol>/book/", api.BookApi.as_view(), name="api-instrument-book"),
    path("instruments/<str:symbol>/trades/", api.TapeApi.as_view(), name="api-instrument-trades"),
    path("instruments/<str:symbol>/candles/", api.CandlesApi.as_view(), name="api-instrument-candles"),
    path("orders/", api.OrderListApi.as_view(), name="api-order-list"),
    path("orders/<int:order_id>/", api.OrderDetailApi.as_view(), name="api-order-detail"),
    path("trades/", api.FillListApi.as_view(), name="api-fill-list"),
    path("balances/", api.BalanceListApi.as_view(), name="api-balance-list"),
    path("block-offers/", api.BlockOfferListApi.as_view(), name="api-block-offer-list"),
    path("block-offers/<int:offer_id>/", api.BlockOfferDetailApi.as_view(), name="api-block-offer-detail"),
    path("block-offers/<int:offer_id>/accept/", api.BlockOfferAcceptApi.as_view(), name="api-block-offer-accept"),
    path("auctions/", auction_api.AuctionListApi.as_view(), name="api-auction-list"),
    path("auctions/<int:auction_id>/", auction_api.AuctionDetailApi.as_view(), name="api-auction-detail"),
    path("auctions/<int:auction_id>/approve/", auction_api.AuctionApproveApi.as_view(), name="api-auction-approve"),
    path("auctions/<int:auction_id>/reject/", auction_api.AuctionRejectApi.as_view(), name="api-auction-reject"),
    path("auctions/<int:auction_id>/bids/", auction_api.AuctionBidListApi.as_view(), name="api-auction-bids"),
    path("auctions/<int:auction_id>/bids/<int:bid_id>/", auction_api.AuctionBidDetailApi.as_view(), name="api-auction-bid-detail"),
    path("auctions/<int:auction_id>/results/", auction_api.AuctionResultsApi.as_view(), name="api-auction-results"),
]
