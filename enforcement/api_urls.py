from django.urls import path

from enforcement import api

urlpatterns = [
    path("enforcement/decisions/", api.DecisionListApi.as_view(), name="api-decision-list"),
    path("enforcement/decisions/<int:decision_id>/", api.DecisionDetailApi.as_view(), name="api-decision-detail"),
]
