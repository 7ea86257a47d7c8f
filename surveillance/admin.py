"""The exchange operator keeps the related-party groups here (audited); alerts are decided on the
surveillance pages (/surveillance/), and listed here read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from core.admin import AuditedModelAdmin, ReadOnlyAdmin
from surveillance.groups import owners_forget
from surveillance.models import Alert, GroupMember, PartyGroup


class GroupMemberInline(admin.TabularInline):
    model = GroupMember
    extra = 1
    raw_id_fields = ["organization"]


@admin.register(PartyGroup)
class PartyGroupAdmin(AuditedModelAdmin):
    list_display = ["name", "self_trade_prevention", "member_count"]
    search_fields = ["name", "members__organization__name", "members__organization__uscc"]
    inlines = [GroupMemberInline]

    @admin.display(description=GroupMember._meta.verbose_name_plural)
    def member_count(self, group: PartyGroup) -> int:
        return group.members.count()

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        owners_forget()  # this process's matcher sees the change at once, the others within seconds


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ["day", "kind", "instrument", "organization", "status", "decided_by"]
    list_filter = ["kind", "status", "day"]
    search_fields = ["organization__name", "organization__uscc", "subject"]
