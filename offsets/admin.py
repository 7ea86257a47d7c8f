"""Read-only admin views of the offset registry (regulators act on its own pages, offsets.views)."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from offsets.models import BlockMovement, Certificate, Issuance, Methodology, Project, SerialBlock


@admin.register(Methodology)
class MethodologyAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "sector", "status"]
    list_filter = ["status", "sector"]
    search_fields = ["code", "name"]


@admin.register(Project)
class ProjectAdmin(ReadOnlyAdmin):
    list_display = ["identifier", "name", "owner", "province", "methodology", "registration_date", "status"]
    list_filter = ["status", "province", "methodology"]
    list_select_related = ["owner", "methodology"]
    search_fields = ["identifier", "name", "owner__name"]


@admin.register(Issuance)
class IssuanceAdmin(ReadOnlyAdmin):
    list_display = ["id", "project", "vintage", "quantity", "status", "first_serial", "last_serial", "proposed_by", "decided_by"]
    list_filter = ["status", "vintage"]
    list_select_related = ["project", "proposed_by", "decided_by"]


@admin.register(SerialBlock)
class SerialBlockAdmin(ReadOnlyAdmin):
    list_display = ["id", "account", "issuance", "first_serial", "last_serial"]
    list_select_related = ["account", "issuance__project"]
    search_fields = ["account__number"]


@admin.register(BlockMovement)
class BlockMovementAdmin(ReadOnlyAdmin):
    list_display = ["id", "transfer", "issuance", "first_serial", "last_serial", "source", "destination"]
    list_select_related = ["transfer", "issuance__project", "source", "destination"]


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyAdmin):
    list_display = ["number", "organization", "asset", "quantity", "purpose", "created_at"]
    list_select_related = ["organization", "asset"]
    search_fields = ["number", "organization__name"]
