from django.urls import path

from registry import views

urlpatterns = [
    path("accounts/<str:number>/", views.account_detail, name="account-detail"),
    path("audit/seal-chain/", views.seal_chain, name="seal-chain"),
    path("audit/seal-chain/checks/<int:pk>/", views.seal_check, name="seal-check"),
    path("disclosure/seal/", views.seal_disclosure, name="disclosure-seal"),
    path("disclosure/seal/head.json", views.seal_disclosure_json, name="disclosure-seal-json"),
]
