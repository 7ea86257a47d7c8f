from django.urls import path

from trading import views

urlpatterns = [
    path("trade/", views.trade_index, name="trade-index"),
    path("trade/<str:symbol>/", views.trade, name="trade"),
    path("trade/<str:symbol>/part/<str:part>/", views.trade_part, name="trade-part"),
    path("trade/<str:symbol>/order/", views.order_submit, name="trade-order"),
    path("trade/<str:symbol>/stream/", views.trade_stream, name="trade-stream"),
    path("trade/orders/<int:order_id>/cancel/", views.order_cancel, name="trade-order-cancel"),
    path("market/", views.market, name="market"),
    path("market/table/", views.market_table, name="market-table"),
    path("market/stream/", views.market_stream, name="market-stream"),
]
