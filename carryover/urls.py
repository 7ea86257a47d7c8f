from django.urls import path

from carryover import views

urlpatterns = [
    path("carry-over/", views.statements, name="carry-over"),
]
