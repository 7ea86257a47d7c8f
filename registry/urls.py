from django.urls import path

from registry import views

urlpatterns = [
    path("accounts/<str:number>/", views.account_detail, name="account-detail"),
    path("audit/seal-chain/", views.seal_chain, name="seal-chain"),
    path("audit/seal-chain/checks/<int:pk>/", views.seal_check, name="seal-check"),
]
