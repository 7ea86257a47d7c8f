from django.urls import path

from offsets import api

urlpatterns = [
    path("cancellations/", api.CancellationCreateApi.as_view(), name="api-cancellation-create"),
    path("certificates/<str:number>/", api.CertificateDetailApi.as_view(), name="api-certificate-detail"),
    path("serial-blocks/", api.BlockListApi.as_view(), name="api-serial-block-list"),
]
