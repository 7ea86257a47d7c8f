from django.urls import path

from enforcement import views

urlpatterns = [
    path("enforcement/", views.index, name="enforcement-index"),
    path("enforcement/cases/new/", views.case_new, name="enforcement-case-new"),
    path("enforcement/cases/<int:case_id>/", views.case_detail, name="enforcement-case"),
    path("enforcement/cases/<int:case_id>/close/", views.case_close, name="enforcement-case-close"),
    path("enforcement/decisions/new/", views.decision_new, name="enforcement-decision-new"),
    path("enforcement/decisions/<int:decision_id>/", views.decision_detail, name="enforcement-decision"),
    path("enforcement/decisions/<int:decision_id>/approve/", views.decision_approve, name="enforcement-decision-approve"),
    path("enforcement/decisions/<int:decision_id>/reject/", views.decision_reject, name="enforcement-decision-reject"),
    path("enforcement/decisions/<int:decision_id>/lift/", views.decision_lift, name="enforcement-decision-lift"),
    path("enforcement/decisions/<int:decision_id>/lift/approve/", views.decision_lift_approve,
         name="enforcement-decision-lift-approve"),
    path("enforcement/decisions/<int:decision_id>/lift/reject/", views.decision_lift_reject,
         name="enforcement-decision-lift-reject"),
    path("enforcement/disclosure/", views.disclosure, name="enforcement-disclosure"),
    path("enforcement/disclosures/<int:disclosure_id>/confirm/", views.disclosure_confirm, name="enforcement-disclosure-confirm"),
    path("enforcement/disclosures/<int:disclosure_id>/return/", views.disclosure_return, name="enforcement-disclosure-return"),
    path("enforcement/archive/", views.archive, name="enforcement-archive"),
]
