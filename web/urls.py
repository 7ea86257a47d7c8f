from django.urls import path

from web import views

urlpatterns = [
    path("", views.dashboard, name="home"),
    path("orders/", views.orders, name="orders"),
    path("orders/<int:order_id>/", views.order_detail, name="order-detail"),
    path("trades/", views.trades, name="trades"),
    path("profile/", views.profile, name="profile"),
    path("profile/password/", views.profile_password, name="profile-password"),
    path("profile/tokens/", views.tokens, name="tokens"),
    path("profile/tokens/<int:token_id>/revoke/", views.token_revoke, name="token-revoke"),
]
