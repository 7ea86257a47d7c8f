from django.urls import path

from registry import views

urlpatterns = [
    path("accounts/<str:number>/", views.account_detail, name="account-detail"),
]
