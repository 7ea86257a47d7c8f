from django.urls import path

from offsets import views

urlpatterns = [
    path("offsets/", views.index, name="offsets-index"),
    path("offsets/projects/<str:identifier>/", views.project_detail, name="offsets-project"),
    path("offsets/serials/", views.serial_search, name="offsets-serial"),
    path("offsets/certificates/<str:number>/", views.certificate_detail, name="offsets-certificate"),
    path("offsets/certificates/<str:number>/pdf/", views.certificate_pdf, name="offsets-certificate-pdf"),
    path("offsets/mine/", views.mine, name="offsets-mine"),
    path("offsets/mine/cancel/", views.cancel, name="offsets-cancel"),
    path("offsets/regulator/", views.regulator, name="offsets-regulator"),
    path("offsets/regulator/methodologies/", views.regulator_form, {"form": "methodology"}, name="offsets-methodology-new"),
    path("offsets/regulator/projects/", views.regulator_form, {"form": "project"}, name="offsets-project-new"),
    path("offsets/regulator/projects/<int:pk>/status/", views.project_status, name="offsets-project-status"),
    path("offsets/regulator/issuances/", views.regulator_form, {"form": "issuance"}, name="offsets-issuance-new"),
    path("offsets/regulator/issuances/<int:pk>/approve/", views.issuance_approve, name="offsets-issuance-approve"),
    path("offsets/regulator/issuances/<int:pk>/reject/", views.issuance_reject, name="offsets-issuance-reject"),
]
