from django.urls import path

from reports import views

urlpatterns = [
    path("regulator/", views.regulator_home, name="regulator-home"),
    path("reports/", views.index, name="reports-index"),
    path("reports/compliance/<str:period>/", views.compliance, name="reports-compliance"),
    path("reports/exports/<int:job_id>/", views.export_job, name="reports-export-job"),
    path("reports/exports/<int:job_id>/download/", views.export_job_download, name="reports-export-download"),
    path("reports/clearing/", views.clearing_statement, name="reports-clearing"),
    path("reports/market/", views.market_report, name="reports-market"),
    path("reports/accounts/", views.statement_find, name="reports-statement-find"),
    path("reports/accounts/<str:number>/statement/", views.statement, name="reports-statement"),
    path("disclosure/", views.disclosure_index, name="disclosure-index"),
    path("disclosure/<str:period>/", views.disclosure_period, name="disclosure-period"),
]
