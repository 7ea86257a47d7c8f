from django.urls import path

from compliance import views

urlpatterns = [
    path("compliance/", views.index, name="compliance-index"),
    path("compliance/surrender/", views.surrender, name="compliance-surrender"),
    path("compliance/reports/new/", views.report_new, name="compliance-report-new"),
    path("compliance/reports/<int:report_id>/", views.report_detail, name="compliance-report"),
    path("compliance/reports/<int:report_id>/file/", views.report_file, name="compliance-report-file"),
    path("compliance/reports/<int:report_id>/object/", views.report_object, name="compliance-report-object"),
    path("compliance/verifier/", views.verifier, name="compliance-verifier"),
    path("compliance/verifier/reports/<int:report_id>/verify/", views.report_verify, name="compliance-report-verify"),
    path("compliance/regulator/", views.regulator, name="compliance-regulator"),
    path("compliance/regulator/reports/<int:report_id>/confirm/", views.report_confirm, name="compliance-report-confirm"),
    path("compliance/regulator/reports/<int:report_id>/decide/", views.report_decide, name="compliance-report-decide"),
]
