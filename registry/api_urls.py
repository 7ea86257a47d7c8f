from django.urls import path

from registry import api

urlpatterns = [
    path("accounts/", api.AccountListApi.as_view(), name="api-account-list"),
    path("accounts/<str:number>/", api.AccountDetailApi.as_view(), name="api-account-detail"),
    path("accounts/<str:number>/transfers/", api.AccountTransferListApi.as_view(), name="api-account-transfers"),
]
