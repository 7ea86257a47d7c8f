from django.urls import path

from registry import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/<str:number>/", views.account_detail, name="account-detail"),
]
