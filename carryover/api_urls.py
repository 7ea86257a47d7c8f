from django.urls import path

from carryover import api

urlpatterns = [
    path("carry-over-statements/", api.CarryOverStatementListApi.as_view(), name="api-carry-over-statements"),
]
