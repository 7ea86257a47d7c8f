from django.urls import path

from compliance import api

urlpatterns = [
    path("surrenders/", api.SurrenderCreateApi.as_view(), name="api-surrender-create"),
    path("obligations/", api.ObligationListApi.as_view(), name="api-obligation-list"),
]
