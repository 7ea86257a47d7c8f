"""Read-only admin lists of enforcement (records kept, never deleted): cases, decisions and
disclosures change only through the pages under /enforcement/, whose services audit them."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.selectors import organizations_visible_to
from core.admin import TONNES, YUAN, ReadOnlyAdmin
from enforcement.models import Decision, Disclosure, FraudCase


class ScopedAdmin(ReadOnlyAdmin):
    list_select_related = ["organization", "period"]
    search_fields = ["organization__name", "organization__uscc"]
    actions = None  # nothing here is deleted (the tables refuse it too)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).filter(organization__in=organizations_visible_to(request.user))


@admin.register(FraudCase)
class FraudCaseAdmin(ScopedAdmin):
    list_display = ["id", "organization", "subject", "period", "gains", "status", "opened_by", "opened_at"]
    units = {"gains": YUAN}
    list_filter = ["status", "subject", "period"]


@admin.register(Decision)
class DecisionAdmin(ScopedAdmin):
    list_display = ["id", "kind", "organization", "period", "amount", "quantity", "percent", "status", "proposed_by",
                    "decided_by", "decided_at"]
    units = {"amount": YUAN, "quantity": TONNES}
    list_filter = ["kind", "status", "period", "organization__province"]


@admin.register(Disclosure)
class DisclosureAdmin(ScopedAdmin):
    list_display = ["organization", "period", "emissions", "status", "submitted_at", "confirmed_at"]
    units = {"emissions": TONNES}
    list_filter = ["status", "period", "organization__province"]
