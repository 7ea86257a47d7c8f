from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.selectors import organizations_visible_to
from compliance.models import ComplianceResult, Surrender, VerifiedEmission
from core.admin import ReadOnlyAdmin


class ScopedReadOnlyAdmin(ReadOnlyAdmin):
    list_select_related = ["organization", "period"]
    search_fields = ["organization__name", "organization__uscc"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).filter(organization__in=organizations_visible_to(request.user))


@admin.register(VerifiedEmission)
class VerifiedEmissionAdmin(ScopedReadOnlyAdmin):
    list_display = ["organization", "period", "tonnes", "confirmed_by", "confirmed_at", "source"]
    list_filter = ["period", "organization__province"]


@admin.register(Surrender)
class SurrenderAdmin(ScopedReadOnlyAdmin):
    list_display = ["organization", "period", "asset", "quantity", "created_by", "created_at"]
    list_filter = ["period", "asset", "organization__province"]


@admin.register(ComplianceResult)
class ComplianceResultAdmin(ScopedReadOnlyAdmin):
    list_display = ["organization", "period", "status", "obligation", "surrendered_allowances", "surrendered_offsets",
                    "shortfall", "fine_basis_low", "fine_basis_high", "deduction_entered"]
    list_filter = ["period", "status", "organization__province"]
