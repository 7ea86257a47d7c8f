from django.urls import path

from trading import auction_views, views

urlpatterns = [
    path("trade/", views.trade_index, name="trade-index"),
    path("trade/<str:symbol>/", views.trade, name="trade"),
    # The page's fragments, each its own URL (and its own line in the authorization matrix).
    *(path(f"trade/<str:symbol>/{part}/", views.trade_part, {"part": part}, name=f"trade-{part}") for part in views.PARTS),
    path("trade/<str:symbol>/order/", views.order_submit, name="trade-order"),
    path("trade/<str:symbol>/fills/", views.trade_fills, name="trade-fills"),
    path("trade/<str:symbol>/cancel-all/", views.orders_cancel_all, name="trade-cancel-all"),
    # The streams themselves are at core.live.STREAM_PATH, outside Django (config/asgi.py): these give
    # a page a new signed stream URL when its own has expired.
    path("trade/<str:symbol>/stream-url/", views.trade_stream_url, name="trade-stream-url"),
    path("trade/orders/<int:order_id>/cancel/", views.order_cancel, name="trade-order-cancel"),
    path("trade/<str:symbol>/blocks/", views.blocks_page, name="trade-blocks"),
    path("trade/<str:symbol>/blocks/post/", views.block_post, name="trade-block-post"),
    path("trade/blocks/<int:offer_id>/accept/", views.block_accept, name="trade-block-accept"),
    path("trade/blocks/<int:offer_id>/withdraw/", views.block_withdraw, name="trade-block-withdraw"),
    path("trade/orders/<int:order_id>/status/", views.order_status, name="trade-order-status"),
    path("auctions/", auction_views.auctions_page, name="auctions"),
    path("auctions/announce/", auction_views.auction_announce, name="auction-announce"),
    path("auctions/<int:auction_id>/", auction_views.auction_page, name="auction-detail"),
    path("auctions/<int:auction_id>/approve/", auction_views.auction_approve, name="auction-approve"),
    path("auctions/<int:auction_id>/reject/", auction_views.auction_reject, name="auction-reject"),
    path("auctions/<int:auction_id>/bid/", auction_views.auction_bid, name="auction-bid"),
    path("auctions/<int:auction_id>/bids/<int:bid_id>/withdraw/", auction_views.auction_bid_withdraw, name="auction-bid-withdraw"),
    path("market/", views.market, name="market"),
    path("market/table/", views.market_table, name="market-table"),
    path("market/stream-url/", views.market_stream_url, name="market-stream-url"),
]
