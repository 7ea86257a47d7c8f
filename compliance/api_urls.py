from django.urls import path

from compliance import api

urlpatterns = [
    path("surrenders/", api.SurrenderCreateApi.as_view(), name="api-surrender-create"),
    path("obligations/", api.ObligationListApi.as_view(), name="api-obligation-list"),
    path("emission-reports/", api.EmissionReportListApi.as_view(), name="api-emission-report-list"),
    path("emission-reports/<int:report_id>/", api.EmissionReportDetailApi.as_view(), name="api-emission-report-detail"),
    path("emission-reports/<int:report_id>/verify/", api.EmissionReportVerifyApi.as_view(), name="api-emission-report-verify"),
    path("emission-reports/<int:report_id>/confirm/", api.EmissionReportConfirmApi.as_view(), name="api-emission-report-confirm"),
    path("emission-reports/<int:report_id>/objection/", api.EmissionReportObjectApi.as_view(), name="api-emission-report-object"),
    path("emission-reports/<int:report_id>/decision/", api.EmissionReportDecideApi.as_view(), name="api-emission-report-decide"),
]
