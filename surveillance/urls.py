from django.urls import path

from surveillance import views

urlpatterns = [
    path("surveillance/", views.alerts, name="surveillance-alerts"),
    path("surveillance/<int:alert_id>/", views.alert_detail, name="surveillance-alert"),
    path("surveillance/<int:alert_id>/decide/", views.alert_decide, name="surveillance-alert-decide"),
]
